/**
 * Prometheus metrics (PRODUCT.md §6, §9). One registry per Hookline instance, served at
 * `/metrics` on the API port and, when `HOOKLINE_METRICS_PORT` is set, on a port of its own (so a
 * worker-only process can be scraped too).
 *
 * Labels never carry applications, endpoints or events: their number is unbounded, and per-tenant
 * questions are the API's (`/deliveries` filters). What is here answers "is Hookline healthy and
 * how busy is it", per process.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { ShedReason } from './api/load-shed';
import { checkReadiness, type Probes } from './readiness';

/** Attempt durations are the receivers' response times: up to the 30 s endpoint timeout. */
const ATTEMPT_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const REQUEST_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function createMetrics() {
  const registry = new Registry();
  // Process CPU, memory, event-loop lag, GC: the figures `npm run bench` reads from /proc.
  collectDefaultMetrics({ register: registry, prefix: 'hookline_' });
  const registers = [registry];
  const metrics = {
    registry,
    apiRequests: new Histogram({
      name: 'hookline_api_request_duration_seconds',
      help: 'API requests answered, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: REQUEST_BUCKETS_S,
      registers,
    }),
    apiShed: new Counter({
      name: 'hookline_api_shed_total',
      help: 'API requests answered 503 at capacity, by reason: in_flight (HOOKLINE_API_MAX_IN_FLIGHT requests were already in flight) or event_loop_delay (the event loop was later than HOOKLINE_API_MAX_EVENT_LOOP_DELAY_MS)',
      labelNames: ['reason'] as const,
      registers,
    }),
    eventsAccepted: new Counter({
      name: 'hookline_events_accepted_total',
      help: 'Events accepted by POST /events: created, or replayed for a repeated idempotency key',
      labelNames: ['result'] as const,
      registers,
    }),
    attempts: new Histogram({
      name: 'hookline_delivery_attempt_duration_seconds',
      help: 'Delivery attempts sent, by outcome and trigger, with the time the receiver took',
      labelNames: ['outcome', 'trigger'] as const,
      buckets: ATTEMPT_BUCKETS_S,
      registers,
    }),
    deferrals: new Counter({
      name: 'hookline_delivery_deferrals_total',
      help: 'Attempts put off before sending, each to a durable timer, by reason: endpoint_busy (the endpoint had HOOKLINE_WORKER_MAX_IN_FLIGHT_PER_ENDPOINT POSTs open from this worker) or rate_limit (its rate_limit_per_s)',
      labelNames: ['reason'] as const,
      registers,
    }),
    endpointsDisabled: new Counter({
      name: 'hookline_endpoints_disabled_total',
      help: 'Endpoints disabled by this process: by the disable policy, a 410, or the API',
      labelNames: ['cause'] as const,
      registers,
    }),
  };
  // Every reason exports a series from the start (0), so a dashboard never sees "no data" for it.
  for (const reason of Object.values(ShedReason)) metrics.apiShed.inc({ reason }, 0);
  for (const reason of Object.values(DeferReason)) metrics.deferrals.inc({ reason }, 0);
  for (const cause of Object.values(DisableCause)) metrics.endpointsDisabled.inc({ cause }, 0);
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;

export const DeferReason = { endpointBusy: 'endpoint_busy', rateLimit: 'rate_limit' } as const;
export type DeferReason = (typeof DeferReason)[keyof typeof DeferReason];

export const DisableCause = { policy: 'policy', gone: 'gone', api: 'api' } as const;
export type DisableCause = (typeof DisableCause)[keyof typeof DisableCause];

/**
 * `/metrics`, and `/healthz` and `/readyz` (with `probes`), on a port of their own: how a
 * worker-only process, which serves no API, is scraped and watched.
 */
export function serveMetrics(metrics: Metrics, host: string, port: number, probes: Probes = {}): Promise<{ url: string; close: () => Promise<void> }> {
  const json = 'application/json';
  const server = createServer((req, res) => {
    // As on the API's port: query parameters are ignored, HEAD is GET without a body, and another
    // method on a served path is a 405 with Allow.
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') {
      res.writeHead(404, { 'content-type': json }).end('{"error":{"type":"not_found_error","code":"route_not_found","message":"Only /metrics, /healthz and /readyz are served here"}}');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': json, allow: 'GET, HEAD' }).end(`{"error":{"type":"invalid_request_error","code":"method_not_allowed","message":"${path} answers GET and HEAD"}}`);
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': json }).end('{"status":"ok"}');
      return;
    }
    if (path === '/readyz') {
      void checkReadiness(probes).then(({ ok, checks }) => res.writeHead(ok ? 200 : 503, { 'content-type': json }).end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', checks })));
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: bound } = server.address() as AddressInfo;
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
