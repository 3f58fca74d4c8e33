/**
 * Recovery (PRODUCT.md §5): `POST …/endpoints/{id}/recover {since, until?, rate_per_s?}` resends
 * every failed or skipped delivery of the endpoint created in the window, through a `recover`
 * workflow; `GET …/endpoints/{id}/recoveries/{rcv}` reports its progress.
 */
import { Router } from 'express';
import { DEFAULT_RECOVER_PER_S, type RecoverProgress } from '../../workflows/recover';
import { ApiError, ErrorType } from '../errors';
import { EndpointParams, RecoverBody, RecoveryParams, RecoveryResponse } from '../schemas';
import { findEndpoint, requireActive, type RouteContext } from './context';

function recoveryJson(p: RecoverProgress) {
  return {
    id: p.recoveryId,
    endpoint_id: p.endpointId,
    since: new Date(p.sinceMs).toISOString(),
    until: new Date(p.untilMs).toISOString(),
    rate_per_s: p.perS,
    status: p.status,
    resent: p.resent,
  };
}

export function recoveriesRouter({ store, dispatcher, api }: RouteContext): Router {
  const router = Router();
  const tag = 'Endpoints';

  api.route(
    router,
    {
      method: 'post',
      operationId: 'recoverEndpoint',
      idempotent: true,
      path: '/v1/apps/:app/endpoints/:endpoint/recover',
      summary: 'Resend every failed or skipped delivery of the endpoint created in [since, until), rate-limited, as a workflow',
      tag,
      errors: [409],
      params: EndpointParams,
      body: RecoverBody,
      response: RecoveryResponse,
      status: 202,
    },
    async ({ params, body }) => {
      const { app, endpoint } = await findEndpoint(store, params);
      // Every resend to a disabled endpoint would fail at once and be recorded as failed again.
      requireActive(endpoint, 'recovering its deliveries');
      const since = new Date(body.since);
      const until = body.until ? new Date(body.until) : new Date();
      // The lists' code for the same mistake (there, an empty range is allowed: it lists nothing).
      if (since >= until) throw new ApiError(400, ErrorType.invalidRequest, 'invalid_time_range', body.until ? '`since` must be before `until`' : '`since` must be in the past (`until` is now when it is left out)');
      try {
        return recoveryJson(await dispatcher.recover({ appId: app.id, endpointId: endpoint.id, since, until, perS: body.rate_per_s ?? DEFAULT_RECOVER_PER_S }));
      } catch {
        throw new ApiError(503, ErrorType.unavailable, 'temporal_unavailable', 'The recovery could not be started; try again');
      }
    },
  );

  api.route(
    router,
    { method: 'get', operationId: 'getRecovery', path: '/v1/apps/:app/endpoints/:endpoint/recoveries/:recovery', summary: 'A recovery and its progress', tag, params: RecoveryParams, response: RecoveryResponse },
    async ({ params }) => {
      const { endpoint } = await findEndpoint(store, params);
      let progress;
      try {
        progress = await dispatcher.recovery(endpoint.id, params.recovery);
      } catch {
        throw new ApiError(503, ErrorType.unavailable, 'temporal_unavailable', 'The recovery\'s progress could not be read; try again');
      }
      if (!progress) throw ApiError.notFound('recovery', params.recovery);
      return recoveryJson(progress);
    },
  );

  return router;
}
