/**
 * Request metrics: every answered request, by method, route pattern (never the raw path, whose
 * ids would make a series per resource) and status code.
 */
import type { RequestHandler } from 'express';
import type { Metrics } from '../metrics';

/**
 * `patternAt` names the route a request answered before its route ran (a 401, a tenancy 404)
 * falls under; only a path no route has is `unmatched`. (A request shed for load never reaches
 * Express, so it is not measured here: `hookline_api_shed_total` counts it.)
 */
export function measureRequests(metrics: Metrics, patternAt: (method: string, path: string) => string | undefined): RequestHandler {
  return (req, res, next) => {
    const startedAt = process.hrtime.bigint();
    res.once('finish', () => {
      // Express sets `req.route` on the request once a route matched; `baseUrl` is its mount point.
      // Without one, the whole path: a middleware mounted at `/v1` that answered left `req.path` cut.
      const route = req.route ? `${req.baseUrl}${String((req.route as { path: unknown }).path)}` : (patternAt(req.method, req.originalUrl.split('?')[0]!) ?? 'unmatched');
      metrics.apiRequests.observe({ method: req.method, route, status: String(res.statusCode) }, Number(process.hrtime.bigint() - startedAt) / 1e9);
    });
    next();
  };
}
