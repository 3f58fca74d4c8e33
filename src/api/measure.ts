/**
 * Request metrics: every answered request, by method, route pattern (never the raw path, whose
 * ids would make a series per resource) and status code.
 */
import type { RequestHandler } from 'express';
import type { Metrics } from '../metrics';

export function measureRequests(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const startedAt = process.hrtime.bigint();
    res.once('finish', () => {
      // Express sets `req.route` on the request once a route matched; `baseUrl` is its mount point.
      const route = req.route ? `${req.baseUrl}${String((req.route as { path: unknown }).path)}` : 'unmatched';
      metrics.apiRequests.observe({ method: req.method, route, status: String(res.statusCode) }, Number(process.hrtime.bigint() - startedAt) / 1e9);
    });
    next();
  };
}
