import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, serveMetrics } from './metrics';

describe('serveMetrics', () => {
  let close = async () => {};
  afterEach(() => close());

  it('serves the registry at GET /metrics only', async () => {
    const metrics = createMetrics();
    metrics.attempts.observe({ outcome: 'succeeded', trigger: 'scheduled' }, 0.02);
    const served = await serveMetrics(metrics, '127.0.0.1', 0);
    close = served.close;
    const res = await fetch(served.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('hookline_delivery_attempt_duration_seconds_bucket{le="0.025",outcome="succeeded",trigger="scheduled"} 1');
    expect(text).toContain('# TYPE hookline_process_cpu_seconds_total counter');
    // Shed counters exist before the first shed, one series per reason.
    expect(text).toContain('hookline_api_shed_total{reason="in_flight"} 0');
    expect(text).toContain('hookline_api_shed_total{reason="event_loop_delay"} 0');
    expect(text).toContain('hookline_endpoints_disabled_total{cause="gone"} 0');
    const other = await fetch(served.url.replace('/metrics', '/'));
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ error: { code: 'route_not_found' } });
  });

  it('answers HEAD, ignores a query string, and refuses another method with 405 and Allow, as the API port does', async () => {
    const served = await serveMetrics(createMetrics(), '127.0.0.1', 0);
    close = served.close;
    const base = served.url.replace('/metrics', '');
    expect((await fetch(`${base}/healthz?probe=1`)).status).toBe(200);
    const head = await fetch(served.url, { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
    const post = await fetch(served.url, { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    expect(await post.json()).toMatchObject({ error: { code: 'method_not_allowed' } });
  });
});
