/**
 * A slow endpoint on real parts: the worker sends it at most HOOKLINE_WORKER_MAX_IN_FLIGHT_PER_ENDPOINT
 * POSTs at once; its other deliveries wait on durable timers, unsent and uncounted, and all arrive.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createEndpoint, deliveriesOf, sendEvent } from './support/factories';
import { startTestHookline, type TestHookline } from './support/hookline';
import { sample, scrape } from './support/metrics';
import { startReceiver, type Receiver } from './support/receiver';
import { waitUntil } from './support/wait';

const CAP = 2;
const ANSWER_MS = 1_500;

/** The most requests open at once, each open from its arrival until it is answered `answerMs` later. */
function mostOpenAtOnce(arrivals: number[], answerMs: number): number {
  return Math.max(...arrivals.map((at) => arrivals.filter((other) => other <= at && at < other + answerMs).length));
}

describe('a slow endpoint on pglite', () => {
  let t: TestHookline;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    t = await startTestHookline('pglite', { env: { HOOKLINE_WORKER_MAX_IN_FLIGHT_PER_ENDPOINT: String(CAP) } });
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await t?.stop();
  });

  it('gets at most the cap of POSTs at once; the rest wait on timers, not attempts, and every one arrives', async () => {
    const slow = await startReceiver({ status: 200, delayMs: ANSWER_MS });
    const fast = await startReceiver();
    receivers.push(slow, fast);
    const app = await createApp(t.api);
    await createEndpoint(t.api, app.id, { url: slow.url, event_types: ['slow.*'], timeout_ms: 5_000 });
    await createEndpoint(t.api, app.id, { url: fast.url, event_types: ['fast.*'] });
    const deferredBefore = sample(await scrape(`${t.api.url}/metrics`), 'hookline_delivery_deferrals_total', { reason: 'endpoint_busy' });

    const events = await Promise.all(Array.from({ length: 8 }, () => sendEvent(t.api, app.id, { type: 'slow.tick' })));
    await slow.waitFor(CAP);
    const other = await sendEvent(t.api, app.id, { type: 'fast.tick' });
    // The other endpoint is not held up behind the slow one's backlog.
    await fast.waitFor(1, 10_000);
    expect(fast.requests[0]!.headers['webhook-id']).toBe(other.id);

    await slow.waitFor(events.length, 60_000);
    expect(mostOpenAtOnce(slow.requests.map((r) => r.at), ANSWER_MS)).toBeLessThanOrEqual(CAP);
    expect(new Set(slow.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set(events.map((e) => e.id)));
    for (const e of events) {
      const [d] = await waitUntil(() => deliveriesOf(t.api, app.id, e.id), (ds) => ds[0]?.status === 'succeeded', 20_000, `${e.id} succeeded`);
      // Waiting for a place is not an attempt.
      expect(d!.attempt_count).toBe(1);
    }
    const deferred = sample(await scrape(`${t.api.url}/metrics`), 'hookline_delivery_deferrals_total', { reason: 'endpoint_busy' }) - deferredBefore;
    expect(deferred).toBeGreaterThan(0);
  }, 120_000);
});
