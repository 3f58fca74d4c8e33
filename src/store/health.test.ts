/**
 * The health statistics on a real (in-memory PGlite) store: the `consecutive` streak reaches back
 * past the stats window, stops at the latest success, the health reset and the cap.
 */
import { describe, expect, it } from 'vitest';
import { useMemoryStore, storedApp, storedDelivery, storedEndpoint } from '../../test/support/store-fixtures';
import type { Store } from '.';

const DAY = 86_400_000;
const now = new Date('2026-11-20T12:00:00Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * DAY);

describe('health.recent and health.windowStats', () => {
  let store: Store;
  useMemoryStore((opened) => (store = opened));

  /** An endpoint with one delivery per attempt, started at the given times, oldest first. */
  async function endpointWith(attempts: { at: Date; ok: boolean; test?: boolean }[]): Promise<string> {
    const app = await storedApp(store);
    const ep = await storedEndpoint(store, app.id);
    for (const a of attempts) {
      const { deliveryId } = await storedDelivery(store, app.id, ep.id);
      await store.deliveries.recordAttempt(
        { deliveryId, endpointId: ep.id, attemptNumber: 1, trigger: a.test ? 'test' : 'scheduled', url: ep.url, startedAt: a.at, durationMs: 5, responseStatus: a.ok ? 200 : 500, responseHeaders: {}, responseBody: '', responseBodyTruncated: false, succeeded: a.ok, errorCode: null, errorMessage: null, nextAttemptAt: null, endpointStatusVersion: 0 },
        { status: a.ok ? 'succeeded' : 'failed', nextAttemptAt: null, failureReason: null },
      );
    }
    return ep.id;
  }

  const fail = (d: number) => ({ at: daysAgo(d), ok: false });
  const ok = (d: number) => ({ at: daysAgo(d), ok: true });
  const testSend = (d: number, passed: boolean) => ({ at: daysAgo(d), ok: passed, test: true });

  it.each([
    ['one failure a day for 4 days: the streak reaches past the 24 h window', [fail(3.5), fail(2.5), fail(1.5), fail(0.5)], null, 10, 4, 1],
    ['the streak stops at the latest success, however old', [fail(5), ok(4), fail(3), fail(0.5)], null, 10, 2, 1],
    ['and at the health reset', [fail(3), fail(2), fail(0.5)], daysAgo(2.5), 10, 2, 1],
    ['and at the cap (the policy threshold)', [fail(3), fail(2), fail(1.5), fail(0.5)], null, 3, 3, 1],
    ['a cap of 0 counts nothing (failure_rate does not use it)', [fail(0.5)], null, 0, 0, 1],
    ['the latest attempt succeeded', [fail(2), fail(0.5), ok(0.1)], null, 10, 0, 2],
    ['test sends count neither way: failed ones add nothing', [fail(0.8), testSend(0.6, false), testSend(0.4, false), fail(0.2)], null, 10, 2, 2],
    ['and a passed one does not end the streak', [fail(0.8), testSend(0.6, true), fail(0.2)], null, 10, 2, 2],
  ] as const)('%s', async (_name, attempts, resetAt, cap, consecutive, inWindow) => {
    const endpointId = await endpointWith([...attempts]);
    const recent = await store.health.recent(endpointId, daysAgo(1), { lastSuccess: false, streak: { since: resetAt, cap } });
    expect(recent.consecutiveFailures).toBe(consecutive);
    expect((await store.health.windowStats(endpointId, daysAgo(1))).attempts).toBe(inWindow);
  });

  it('reads the newest attempt and the newest success in the window', async () => {
    const endpointId = await endpointWith([ok(3), fail(0.9), ok(0.5), fail(0.2), fail(0.1)]);
    const recent = await store.health.recent(endpointId, daysAgo(1), { lastSuccess: true, streak: { since: null, cap: 0 } });
    expect(recent).toEqual({ latest: { at: daysAgo(0.1), succeeded: false }, lastSuccessAt: daysAgo(0.5), consecutiveFailures: 0 });
    // Only when asked for, and only in the window.
    expect((await store.health.recent(endpointId, daysAgo(1), { lastSuccess: false, streak: { since: null, cap: 0 } })).lastSuccessAt).toBeNull();
    expect((await store.health.recent(endpointId, daysAgo(0.4), { lastSuccess: true, streak: { since: null, cap: 0 } })).lastSuccessAt).toBeNull();
    expect((await store.health.recent(endpointId, daysAgo(0.05), { lastSuccess: true, streak: { since: null, cap: 0 } })).latest).toBeNull();
    expect(await store.health.windowStats(endpointId, daysAgo(1))).toEqual({ attempts: 4, failures: 3, firstFailureAt: daysAgo(0.9), lastFailureAt: daysAgo(0.1), lastSuccessAt: daysAgo(0.5) });
  });

  it('leaves test sends out of the newest attempt, the newest success and the window', async () => {
    const endpointId = await endpointWith([fail(0.9), ok(0.5), testSend(0.4, true), fail(0.2), testSend(0.1, false)]);
    const recent = await store.health.recent(endpointId, daysAgo(1), { lastSuccess: true, streak: { since: null, cap: 10 } });
    expect(recent).toEqual({ latest: { at: daysAgo(0.2), succeeded: false }, lastSuccessAt: daysAgo(0.5), consecutiveFailures: 1 });
    expect(await store.health.windowStats(endpointId, daysAgo(1))).toEqual({ attempts: 3, failures: 2, firstFailureAt: daysAgo(0.9), lastFailureAt: daysAgo(0.2), lastSuccessAt: daysAgo(0.5) });
  });
});
