/**
 * Routes are declared once: the same zod schemas validate the request and describe it in
 * `/openapi.json`. `ApiRegistry.route` registers the path and mounts an Express handler that parses
 * params, query and body before the handler sees them.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { Request, RequestHandler, Response, Router } from 'express';
import { principalOf, refuseRepeatedHeaders, requireAdmin } from './auth';
import { ApiError, ErrorBody, ErrorType, zodDetails } from './errors';
import { requestFingerprint, scopeOf, type Idempotency } from './idempotent';
import { stringifyWithRaw } from './raw-json';
import { IdempotencyHeaders } from './schema-parts';
import { z } from './zod';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type AnyObject = z.ZodObject<z.ZodRawShape>;

/** What a route that declares no query (or no body) accepts: nothing, so a misspelt filter is a 400, not ignored. */
const Nothing = z.object({}).strict();

export interface RouteSpec<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, R extends z.ZodType, H extends AnyObject = z.ZodObject<Record<string, never>>> {
  method: Method;
  /** Unique and stable: a generated client names the call after it (`listDeliveries`). */
  operationId: string;
  /** Express form, e.g. `/v1/apps/:app`. */
  path: string;
  summary: string;
  tag: string;
  params?: P;
  query?: Q;
  body?: B;
  headers?: H;
  status?: number;
  response?: R;
  /** Another success status the handler answers itself (with `res`), with the same body; documented only. */
  alsoStatus?: { status: number; description: string };
  /** false: no key needed; 'admin': the admin key only. */
  auth?: boolean | 'admin';
  /** Error statuses the handler itself answers besides 400 and 404 (a conflict, a limit, Temporal unavailable); documented only. */
  errors?: readonly number[];
  /** Headers the success response may carry; documented only. */
  responseHeaders?: Record<string, { description: string; schema: { type: 'string'; enum?: string[] } }>;
  /** Takes an `Idempotency-Key` (idempotent.ts). Such a route declares no headers of its own. */
  idempotent?: boolean;
}

export interface Input<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, H extends AnyObject = z.ZodObject<Record<string, never>>> {
  params: z.output<P>;
  /** The declared headers only, parsed; other request headers are dropped. */
  headers: z.output<H>;
  query: z.output<Q>;
  body: z.output<B>;
  req: Request;
  res: Response;
}

export class ApiRegistry {
  readonly registry = new OpenAPIRegistry();
  /** Every route's method and path, for the 405 of a known path asked with another method. */
  private readonly routes: { method: Method; path: RegExp; pattern: string }[] = [];

  /** Unset: `Idempotency-Key` is read by no route (the registry of a test that has no store). */
  constructor(private readonly idempotency?: Idempotency) {
    this.registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  }

  /** Adds a route to `router` and to the document; the handler returns the response body. */
  route<P extends AnyObject = z.ZodObject<Record<string, never>>, Q extends AnyObject = z.ZodObject<Record<string, never>>, B extends z.ZodType = z.ZodUndefined, R extends z.ZodType = z.ZodUnknown, H extends AnyObject = z.ZodObject<Record<string, never>>>(
    router: Router,
    spec: RouteSpec<P, Q, B, R, H>,
    handler: (input: Input<P, Q, B, H>) => Promise<z.input<R> | undefined>,
  ): void {
    const status = spec.status ?? 200;
    if (spec.idempotent) spec = { ...spec, headers: IdempotencyHeaders as unknown as H };
    this.registry.registerPath(toOpenApi(spec, status));
    const parse = <T extends z.ZodType>(schema: T | undefined, value: unknown, where: string): z.output<T> => {
      if (!schema) return undefined as z.output<T>;
      const result = schema.safeParse(value);
      if (!result.success) throw ApiError.validation(`The request ${where} ${where === 'headers' ? 'are' : 'is'} not valid`, zodDetails(result.error));
      return result.data;
    };
    // Unknown query parameters are refused, as unknown body fields are: `?type=` on a list that
    // filters by `event_type` must not quietly return everything. Not on the unauthenticated
    // probes (`/healthz`, `/readyz`): a monitor may add a cache-busting parameter.
    const query = spec.query ? spec.query.strict() : spec.auth === false ? undefined : Nothing;
    const declaredHeaders = spec.headers && new Set(Object.keys(spec.headers.shape));
    const handle: RequestHandler = async (req, res) => {
      if (spec.auth === 'admin') requireAdmin(res);
      // A route without a body still refuses one it cannot take: not JSON (415), or fields (400).
      if (!spec.body && spec.method !== 'get') parse(Nothing, requestBody(req), 'body');
      if (declaredHeaders) refuseRepeatedHeaders(req, declaredHeaders);
      const input: Input<P, Q, B, H> = {
        params: parse(spec.params, req.params, 'path'),
        headers: parse(spec.headers, req.headers, 'headers') ?? ({} as z.output<H>),
        query: parse(query, req.query, 'query') as z.output<Q>,
        body: spec.body ? parse(spec.body, requestBody(req), 'body') : (undefined as z.output<B>),
        req,
        res,
      };
      const key = spec.idempotent ? (input.headers as { 'idempotency-key'?: string })['idempotency-key'] : undefined;
      if (key !== undefined && this.idempotency) {
        const request = { scope: scopeOf(principalOf(res)), key, fingerprint: requestFingerprint(key, req.method, req.path, input.body) };
        const answer = await this.idempotency.once(request, status, async () => {
          const body = await handler(input);
          return res.headersSent ? undefined : body === undefined ? null : stringifyWithRaw(body);
        });
        if (!answer) return;
        if (answer.replayed) res.setHeader('idempotent-replayed', 'true');
        return send(res, answer.status, answer.body);
      }
      const body = await handler(input);
      if (res.headersSent) return;
      // Not res.json: an event's data goes out as its stored text (raw-json.ts).
      send(res, status, body === undefined ? null : stringifyWithRaw(body));
    };
    router[spec.method](spec.path, handle);
    this.routes.push({ method: spec.method, path: pathPattern(spec.path), pattern: spec.path });
  }

  /** A GET route outside the document (`/metrics`, `/openapi.json`, `/docs`); another method on it is still a 405. */
  plainGet(router: Pick<Router, 'get'>, path: string, handler: RequestHandler): void {
    router.get(path, handler);
    this.routes.push({ method: 'get', path: pathPattern(path), pattern: path });
  }

  /**
   * The route pattern (`/v1/apps/:app`) a request path falls under, for a request answered before
   * its route ran (authentication, tenancy, a bad body): the route the method asks for if there is
   * one, else any route at that path; undefined for a path no route has. (A request shed for load
   * never reaches Express, so it is not measured.)
   */
  patternAt(method: string, path: string): string | undefined {
    const at = this.routes.filter((r) => r.path.test(path));
    const wanted = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase();
    return (at.find((r) => r.method === wanted) ?? at[0])?.pattern;
  }

  /** The methods the routes at this request path answer (HEAD with GET, as Express does, and OPTIONS); none for an unknown path. */
  methodsAt(path: string): string[] {
    const methods = new Set(this.routes.filter((r) => r.path.test(path)).map((r) => r.method.toUpperCase()));
    if (methods.size === 0) return [];
    if (methods.has('GET')) methods.add('HEAD');
    methods.add('OPTIONS');
    return [...methods].sort();
  }

  document(): ReturnType<OpenApiGeneratorV31['generateDocument']> {
    return new OpenApiGeneratorV31(this.registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: { title: 'Hookline API', version: '1', description: 'Self-hosted webhook delivery on Temporal.' },
      servers: [{ url: '/' }],
    });
  }
}

function send(res: Response, status: number, json: string | null): void {
  if (json === null) res.status(status).end();
  else res.status(status).type('json').send(json);
}

/**
 * The body to validate. The JSON parser leaves `req.body` unset when there is no body or it is not
 * JSON: a body of another type is a 415, and no body at all reads as `{}`, so a body whose fields
 * are all optional can be left out (`POST …/test`) and a missing required field is named in the 400.
 */
function requestBody(req: Request): unknown {
  if (req.body !== undefined) return req.body;
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody) throw new ApiError(415, ErrorType.invalidRequest, 'unsupported_media_type', 'Send the body as JSON, with Content-Type: application/json');
  return {};
}

/** An Express path (`/v1/apps/:app`) as a pattern for request paths: a parameter is one segment; a trailing slash is allowed. */
function pathPattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  // Case-insensitive, as Express routes by default.
  return new RegExp(`^${source}/?$`, 'i');
}

/** 429 (the key's rate limit) and 503 (load shedding, Temporal unavailable) say when to try again. */
const RETRY_AFTER_CODES = new Set([429, 503]);
const retryAfter = { 'retry-after': { description: 'Seconds to wait before trying again', schema: { type: 'string' as const } } };

function toOpenApi<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, R extends z.ZodType, H extends AnyObject>(spec: RouteSpec<P, Q, B, R, H>, status: number): RouteConfig {
  // What a route can answer besides its own status: on /v1, 429 (the key's rate limit) and 503
  // (load shedding) come before the route; 413 and 415 only where there is a body; 403 on admin routes.
  // A route without a body still answers one it cannot take (413, 415), except GET, which ignores it.
  const takesBody = spec.body !== undefined || spec.method !== 'get';
  const codes = new Set([400, 404, ...(spec.auth !== false ? [401, 429, 503] : []), ...(takesBody ? [413, 415] : []), ...(spec.auth === 'admin' ? [403] : []), ...(spec.idempotent ? [409, 422] : []), ...(spec.errors ?? [])]);
  const errors = Object.fromEntries([...codes].sort().map((code) => [code, { description: 'Error', ...(RETRY_AFTER_CODES.has(code) && { headers: retryAfter }), content: { 'application/json': { schema: ErrorBody } } }]));
  return {
    method: spec.method,
    operationId: spec.operationId,
    path: spec.path.replace(/:([A-Za-z_]+)/g, '{$1}'),
    summary: spec.summary,
    ...(spec.auth === 'admin' && { description: 'Needs the admin key.' }),
    tags: [spec.tag],
    ...(spec.auth !== false && { security: [{ bearer: [] }] }),
    request: {
      ...(spec.params && { params: spec.params }),
      ...(spec.query && { query: spec.query }),
      ...(spec.headers && { headers: spec.headers }),
      // A body whose fields are all optional may be left out (see requestBody).
      ...(spec.body && { body: { required: !spec.body.safeParse({}).success, content: { 'application/json': { schema: spec.body } } } }),
    },
    responses: {
      [status]: spec.response
        ? { description: 'OK', ...(responseHeaders(spec) && { headers: responseHeaders(spec) }), content: { 'application/json': { schema: spec.response } } }
        : { description: 'No content' },
      ...(spec.alsoStatus && spec.response && { [spec.alsoStatus.status]: { description: spec.alsoStatus.description, content: { 'application/json': { schema: spec.response } } } }),
      ...errors,
    },
  };
}

const replayedHeader = { 'idempotent-replayed': { description: 'true when an Idempotency-Key repeat answers with the first answer', schema: { type: 'string' as const, enum: ['true'] } } };

function responseHeaders(spec: Pick<RouteSpec<AnyObject, AnyObject, z.ZodType, z.ZodType>, 'responseHeaders' | 'idempotent'>): RouteSpec<AnyObject, AnyObject, z.ZodType, z.ZodType>['responseHeaders'] {
  return spec.idempotent ? { ...spec.responseHeaders, ...replayedHeader } : spec.responseHeaders;
}

