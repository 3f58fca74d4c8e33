import { Router } from 'express';
import { z } from '../zod';
import { checkReadiness, READINESS_TIMEOUT_MS, type Probes } from '../../readiness';
import type { RouteContext } from './context';

const Health = z.object({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string(), z.string()).optional() }).openapi('Health');

export function healthRouter({ api }: RouteContext, readiness: Probes): Router {
  const router = Router();
  const tag = 'Health';

  api.route(router, { method: 'get', operationId: 'getLiveness', path: '/healthz', summary: 'The process is up', tag, auth: false, response: Health }, async () => ({ status: 'ok' as const }));

  api.route(router, { method: 'get', operationId: 'getReadiness', path: '/readyz', summary: `The store and Temporal answer (each within ${READINESS_TIMEOUT_MS} ms)`, tag, auth: false, response: Health }, async ({ res }) => {
    const { ok, checks } = await checkReadiness(readiness);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks });
    return undefined;
  });

  return router;
}
