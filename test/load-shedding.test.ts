/**
 * Load shedding through the whole API: past the in-flight limit, and while the event loop runs
 * late, requests get a 503 in the one error shape, probes are still served, and admission resumes.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createApp } from './support/factories';
import { ADMIN_KEY, type TestHookline, useHookline } from './support/hookline';
import { sample, scrape } from './support/metrics';
import { waitUntil } from './support/wait';

describe('load shedding through the whole API', () => {
  let t: TestHookline;
  useHookline('pglite', (started) => (t = started), { env: { HOOKLINE_API_MAX_IN_FLIGHT: '1' } });

  it('answers 503 past the in-flight limit, still serves probes, and admits again when the held request ends', async () => {
    const app = await createApp(t.api);
    const { hostname, port } = new URL(t.api.url);
    const body = JSON.stringify({ type: 'a.b', data: { n: 1 } });
    // A POST whose body is still arriving is in flight: it holds the only slot.
    const socket = connect(Number(port), hostname);
    await once(socket, 'connect');
    socket.write(`POST /v1/apps/${app.id}/events HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${ADMIN_KEY}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
    const shed = await waitUntil(() => t.api.get('/v1/apps'), (r) => r.status === 503, 5_000, 'a 503');
    expect(shed.body).toEqual({ error: { type: 'service_unavailable_error', code: 'overloaded', message: expect.any(String) } });
    expect((await fetch(`${t.api.url}/healthz`)).status).toBe(200);

    const answer = new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    socket.end(body.slice(5));
    expect(await answer).toMatch(/^HTTP\/1.1 202/);
    await waitUntil(() => t.api.get('/v1/apps'), (r) => r.status === 200, 5_000, 'admitted again');
    expect(sample(await scrape(`${t.api.url}/metrics`), 'hookline_api_shed_total', { reason: 'in_flight' })).toBeGreaterThanOrEqual(1);
  });
});

describe('shedding while the event loop is late', () => {
  let t: TestHookline;
  useHookline('pglite', (started) => (t = started), { env: { HOOKLINE_API_MAX_EVENT_LOOP_DELAY_MS: '100' } });

  it('answers 503 while the event loop runs late, and admits again once it has caught up', async () => {
    // This process runs the API: keep its loop busy in 300 ms slices, as a saturated API would be.
    let busy = true;
    const saturating = (async () => {
      while (busy) {
        const sliceEnd = Date.now() + 300;
        while (Date.now() < sliceEnd);
        await new Promise((r) => setImmediate(r));
      }
    })();
    try {
      const shed = await waitUntil(() => t.api.get('/v1/apps'), (r) => r.status === 503, 10_000, 'a 503 while the loop is late');
      expect(shed.body.error.code).toBe('overloaded');
    } finally {
      busy = false;
      await saturating;
    }
    await waitUntil(() => t.api.get('/v1/apps'), (r) => r.status === 200, 5_000, 'admitted again');
    expect(sample(await scrape(`${t.api.url}/metrics`), 'hookline_api_shed_total', { reason: 'event_loop_delay' })).toBeGreaterThanOrEqual(1);
  });
});
