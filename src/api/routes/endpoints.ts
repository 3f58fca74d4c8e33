import { Router } from 'express';
import { customHeadersProblem } from '../../domain/headers';
import { generateSecret, isValidSuppliedSecret, SignatureSchemes, type SignatureScheme } from '../../domain/signing';
import { checkEndpointUrl } from '../../domain/url-rules';
import { DisableCause } from '../../metrics';
import type { Endpoint } from '../../domain/model';
import { sameSecret } from '../auth';
import { ApiError, ErrorType } from '../errors';
import type { z } from '../zod';
import {
  AppParams,
  CreateEndpointBody,
  DisableEndpointBody,
  DEFAULT_SIGNATURE_HEADER,
  EndpointParams,
  EndpointResponse,
  EndpointStatsResponse,
  EndpointListQuery,
  EndpointUidParams,
  pageOf,
  PutEndpointBody,
  suppliedSecretProblem,
  RotateSecretBody,
  RotateSecretResponse,
  UpdateEndpointBody,
} from '../schemas';
import { endpointJson, page } from '../serialize';
import { checkCursor, findApp, findEndpoint, type RouteContext } from './context';

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_GRACE_PERIOD_S = 24 * 3600;
/** `/stats` looks back this far (PRODUCT.md §6). */
const STATS_WINDOW_MS = 24 * 3600 * 1000;

/** Secrets that sign at once during rotations (the current one included); a rotation with a grace period past it is refused. */
const MAX_LIVE_SECRETS = 10;

/** `standard` signs with the webhook-* headers; the others need a header name of their own. */
function signatureHeaderFor(scheme: SignatureScheme, given: string | null | undefined, current: string | null = null): string | null {
  if (scheme === SignatureSchemes.standard) {
    if (given) throw ApiError.validation('The request body is not valid', [{ path: 'signature_header', message: 'only the stripe and hex schemes name a header; standard signs with webhook-signature' }]);
    return null;
  }
  return given ?? current ?? DEFAULT_SIGNATURE_HEADER[scheme];
}

/** Custom header names may not collide with the signature header in effect. */
function checkHeaders(names: string[], signatureHeader: string | null): void {
  const problem = customHeadersProblem(Object.fromEntries(names.map((n) => [n, ''])), signatureHeader);
  if (problem) throw ApiError.validation(`The custom headers are refused: ${problem}`, [{ path: 'headers', message: problem }]);
}

export function endpointsRouter({ store, dispatcher, metrics, api, urlPolicy, limits }: RouteContext): Router {
  const router = Router();
  const tag = 'Endpoints';

  const checkUrl = (url: string) => {
    const verdict = checkEndpointUrl(url, urlPolicy);
    if (!verdict.ok) throw ApiError.validation(`The endpoint URL is refused: ${verdict.reason}`, [{ path: 'url', message: verdict.reason }]);
    return verdict.url.href;
  };

  /** Creates an endpoint; the answer carries its secret, the only time it is shown. */
  async function create(appId: string, uid: string | null, body: z.output<typeof PutEndpointBody> & { url: string }) {
    const secret = body.secret ?? generateSecret();
    const scheme = body.signature_scheme ?? SignatureSchemes.standard;
    const signatureHeader = signatureHeaderFor(scheme, body.signature_header);
    if (body.headers) checkHeaders(Object.keys(body.headers), signatureHeader);
    const endpoint = await store.endpoints.create(appId, limits.maxEndpointsPerApp, {
      uid,
      url: checkUrl(body.url),
      description: body.description ?? '',
      eventTypes: body.event_types ?? ['*'],
      channels: body.channels ?? null,
      signatureScheme: scheme,
      signatureHeader,
      secret,
      headers: body.headers ?? null,
      timeoutMs: body.timeout_ms ?? DEFAULT_TIMEOUT_MS,
      rateLimitPerS: body.rate_limit_per_s ?? null,
      retrySchedule: body.retry_schedule ?? null,
      metadata: body.metadata ?? {},
    });
    if (!endpoint) {
      throw new ApiError(422, ErrorType.invalidRequest, 'endpoint_limit_reached', `An application can have at most ${limits.maxEndpointsPerApp} endpoints`);
    }
    return { ...endpointJson(endpoint), secret };
  }

  /** Applies the fields given; the rest keep their values. */
  async function update(appId: string, current: Endpoint, body: z.output<typeof UpdateEndpointBody>) {
    const scheme = body.signature_scheme ?? current.signatureScheme;
    if (scheme !== current.signatureScheme && !(await store.endpoints.unexpiredSecrets(current.id)).every((secret) => isValidSuppliedSecret(scheme, secret))) {
      throw ApiError.validation(`The endpoint's secret cannot sign with the ${scheme} scheme; rotate it to a secret valid for ${scheme} first`, [{ path: 'signature_scheme', message: 'secret not valid for this scheme' }]);
    }
    const signatureHeader = signatureHeaderFor(scheme, body.signature_header, scheme === current.signatureScheme ? current.signatureHeader : null);
    checkHeaders(body.headers !== undefined ? Object.keys(body.headers ?? {}) : current.headerNames, signatureHeader);
    const updated = await store.endpoints.update(appId, current.id, {
      ...(body.url !== undefined && { url: checkUrl(body.url) }),
      ...(body.uid !== undefined && { uid: body.uid }),
      ...(body.description !== undefined && { description: body.description }),
      ...(body.event_types !== undefined && { eventTypes: body.event_types }),
      ...(body.channels !== undefined && { channels: body.channels }),
      ...(body.signature_scheme !== undefined && { signatureScheme: body.signature_scheme }),
      ...(signatureHeader !== current.signatureHeader && { signatureHeader }),
      ...(body.headers !== undefined && { headers: body.headers }),
      ...(body.timeout_ms !== undefined && { timeoutMs: body.timeout_ms }),
      ...(body.rate_limit_per_s !== undefined && { rateLimitPerS: body.rate_limit_per_s }),
      ...(body.retry_schedule !== undefined && { retrySchedule: body.retry_schedule }),
      ...(body.metadata !== undefined && { metadata: body.metadata }),
    });
    if (!updated) throw ApiError.notFound('endpoint', current.id);
    return endpointJson(updated);
  }

  api.route(
    router,
    { method: 'post', operationId: 'createEndpoint', idempotent: true, path: '/v1/apps/:app/endpoints', summary: 'Create an endpoint; the response carries its secret, once', tag, errors: [409, 422], params: AppParams, body: CreateEndpointBody, response: EndpointResponse, status: 201 },
    async ({ params, body }) => create((await findApp(store, params.app)).id, body.uid ?? null, body),
  );

  api.route(
    router,
    {
      method: 'put',
      operationId: 'upsertEndpointByUid',
      path: '/v1/apps/:app/endpoints/by-uid/:uid',
      summary: 'Create (201, with the secret, once) or update (200) the endpoint with this uid. On update, fields left out keep their values, and a `secret` must be one the endpoint signs with now (rotate to change it).',
      tag,
      errors: [409, 422],
      params: EndpointUidParams,
      body: PutEndpointBody,
      response: EndpointResponse,
      alsoStatus: { status: 201, description: 'Created; the body carries the secret, once' },
    },
    async ({ params, body, res }) => {
      const app = await findApp(store, params.app);
      const current = await store.endpoints.getByUid(app.id, params.uid);
      if (!current) {
        const { url } = body;
        if (url === undefined) throw ApiError.validation('The request body is not valid', [{ path: 'url', message: 'required to create the endpoint' }]);
        const problem = body.secret === undefined ? null : suppliedSecretProblem(body.signature_scheme ?? SignatureSchemes.standard, body.secret);
        if (problem) throw ApiError.validation('The request body is not valid', [{ path: 'secret', message: problem }]);
        res.status(201).json(await create(app.id, params.uid, { ...body, url }));
        return undefined;
      }
      const supplied = body.secret;
      if (supplied !== undefined && !(await store.endpoints.unexpiredSecrets(current.id)).some((secret) => sameSecret(secret, supplied))) {
        // One it could never sign with is a bad request, not a conflict with the one it has.
        const problem = suppliedSecretProblem(body.signature_scheme ?? current.signatureScheme, supplied);
        if (problem) throw ApiError.validation('The request body is not valid', [{ path: 'secret', message: problem }]);
        throw new ApiError(409, ErrorType.conflict, 'secret_differs', 'The endpoint signs with another secret; change it with POST …/secret/rotate');
      }
      const { secret: _secret, ...fields } = body;
      return update(app.id, current, fields);
    },
  );

  api.route(
    router,
    { method: 'get', operationId: 'listEndpoints', path: '/v1/apps/:app/endpoints', summary: 'List endpoints, newest first, by status', tag, params: AppParams, query: EndpointListQuery, response: pageOf(EndpointResponse, 'EndpointList') },
    async ({ params, query }) => {
      const app = await findApp(store, params.app);
      return page(await store.endpoints.list(app.id, { limit: query.limit, cursor: checkCursor(query.cursor, 'ep'), status: query.status }), endpointJson);
    },
  );

  api.route(router, { method: 'get', operationId: 'getEndpoint', path: '/v1/apps/:app/endpoints/:endpoint', summary: 'Get an endpoint', tag, params: EndpointParams, response: EndpointResponse }, async ({ params }) => {
    const { endpoint } = await findEndpoint(store, params);
    return endpointJson(endpoint);
  });

  api.route(
    router,
    { method: 'patch', operationId: 'updateEndpoint', path: '/v1/apps/:app/endpoints/:endpoint', summary: 'Update an endpoint', tag, errors: [409], params: EndpointParams, body: UpdateEndpointBody, response: EndpointResponse },
    async ({ params, body }) => {
      const { app, endpoint: current } = await findEndpoint(store, params);
      return update(app.id, current, body);
    },
  );

  api.route(
    router,
    {
      method: 'post',
      operationId: 'rotateEndpointSecret',
      idempotent: true,
      path: '/v1/apps/:app/endpoints/:endpoint/secret/rotate',
      summary: 'Rotate the signing secret; the old one keeps signing until its grace period ends. The response carries the new secret, once.',
      tag,
      errors: [409],
      params: EndpointParams,
      body: RotateSecretBody,
      response: RotateSecretResponse,
    },
    async ({ params, body }) => {
      const { endpoint } = await findEndpoint(store, params);
      const secret = body.secret ?? generateSecret();
      if (!isValidSuppliedSecret(endpoint.signatureScheme, secret)) {
        throw ApiError.validation(`The secret is not a valid ${endpoint.signatureScheme} secret`, [{ path: 'secret', message: 'invalid for this scheme' }]);
      }
      const graceS = body.grace_period_s ?? DEFAULT_GRACE_PERIOD_S;
      const { previousExpiresAt } = await store.endpoints.rotateSecret(endpoint.id, secret, graceS * 1000, new Date(), (live) => {
        // With a grace period the others keep signing (grace 0 ends them at once), so:
        // the same secret live twice would sign every delivery twice with it;
        if (graceS > 0 && live.includes(secret)) {
          throw new ApiError(409, ErrorType.conflict, 'secret_in_use', 'The endpoint already signs with this secret; to switch back to it at once, rotate with grace_period_s 0');
        }
        // and every live secret signs every delivery: a bound on them bounds the signature header.
        if (graceS > 0 && live.length >= MAX_LIVE_SECRETS) {
          throw new ApiError(409, ErrorType.conflict, 'too_many_secrets', `The endpoint already signs with ${live.length} secrets; rotate with grace_period_s 0, or once older ones have expired`);
        }
      });
      return { secret, previous_secret_expires_at: previousExpiresAt.toISOString() };
    },
  );

  api.route(
    router,
    { method: 'get', operationId: 'getEndpointStats', path: '/v1/apps/:app/endpoints/:endpoint/stats', summary: 'Attempts, success rate and p50/p95 latency of the endpoint over the last 24 h', tag, params: EndpointParams, response: EndpointStatsResponse },
    async ({ params }) => {
      const { endpoint } = await findEndpoint(store, params);
      const until = new Date();
      const since = new Date(until.getTime() - STATS_WINDOW_MS);
      const s = await store.deliveries.attemptStats(endpoint.id, since);
      return {
        endpoint_id: endpoint.id,
        since: since.toISOString(),
        until: until.toISOString(),
        attempts: s.attempts,
        succeeded: s.succeeded,
        failed: s.attempts - s.succeeded,
        success_rate: s.attempts === 0 ? null : s.succeeded / s.attempts,
        latency_ms: { p50: s.p50Ms, p95: s.p95Ms },
      };
    },
  );

  /** Disables or enables an endpoint of the application; answers with the endpoint as it is after. */
  async function changeStatus(params: { app: string; endpoint: string }, change: (endpointId: string) => Promise<unknown>) {
    const { app, endpoint: before } = await findEndpoint(store, params);
    await change(before.id);
    // Deleted meanwhile by another request.
    const endpoint = await store.endpoints.get(app.id, before.id);
    if (!endpoint) throw ApiError.notFound('endpoint', before.id);
    return endpointJson(endpoint);
  }

  api.route(
    router,
    { method: 'post', operationId: 'disableEndpoint', path: '/v1/apps/:app/endpoints/:endpoint/disable', summary: 'Disable an endpoint: pending deliveries end failed, new events are recorded as skipped', tag, params: EndpointParams, body: DisableEndpointBody, response: EndpointResponse },
    ({ params, body }) =>
      changeStatus(params, async (endpointId) => {
        if (!(await store.health.disable(endpointId, body.reason ?? 'disabled through the API'))) return;
        metrics.endpointsDisabled.inc({ cause: DisableCause.api });
        dispatcher.endpointDisabled(endpointId);
      }),
  );

  api.route(
    router,
    { method: 'post', operationId: 'enableEndpoint', path: '/v1/apps/:app/endpoints/:endpoint/enable', summary: 'Enable a disabled endpoint and reset its health record (an active one is left as it is)', tag, params: EndpointParams, response: EndpointResponse },
    ({ params }) => changeStatus(params, (endpointId) => store.health.enable(endpointId)),
  );

  api.route(router, { method: 'delete', operationId: 'deleteEndpoint', path: '/v1/apps/:app/endpoints/:endpoint', summary: 'Delete an endpoint', tag, params: EndpointParams, status: 204 }, async ({ params }) => {
    const { app, endpoint } = await findEndpoint(store, params);
    // Deleted meanwhile by another request.
    if (!(await store.endpoints.delete(app.id, endpoint.id))) throw ApiError.notFound('endpoint', endpoint.id);
    dispatcher.endpointsDeleted({ endpointId: endpoint.id });
    return undefined;
  });

  return router;
}
