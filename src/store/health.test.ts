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

describe('health.stats', () => {
  let store: Store;
  useMemoryStore((opened) => (store = opened));

  /** An endpoint with one delivery per attempt, started at the given times, oldest first. */
  async function endpointWith(attempts: { at: Date; ok: boolean }[]): Promise<string> {
    const app = await storedApp(store);
    const ep = await storedEndpoint(store, app.id);
    for (const a of attempts) {
      const { deliveryId } = await storedDelivery(store, app.id, ep.id);
      await store.deliveries.recordAttempt(
        { deliveryId, endpointId: ep.id, attemptNumber: 1, trigger: 'scheduled', url: ep.url, startedAt: a.at, durationMs: 5, responseStatus: a.ok ? 200 : 500, responseHeaders: {}, responseBody: '', responseBodyTruncated: false, succeeded: a.ok, errorCode: null, errorMessage: null, nextAttemptAt: null },
        { status: a.ok ? 'succeeded' : 'failed', nextAttemptAt: null, failureReason: null },
      );
    }
    return ep.id;
  }

  const fail = (d: number) => ({ at: daysAgo(d), ok: false });
  const ok = (d: number) => ({ at: daysAgo(d), ok: true });

  it.each([
    ['one failure a day for 4 days: the streak reaches past the 24 h window', [fail(3.5), fail(2.5), fail(1.5), fail(0.5)], null, 10, 4, 1],
    ['the streak stops at the latest success, however old', [fail(5), ok(4), fail(3), fail(0.5)], null, 10, 2, 1],
    ['and at the health reset', [fail(3), fail(2), fail(0.5)], daysAgo(2.5), 10, 2, 1],
    ['and at the cap (the policy threshold)', [fail(3), fail(2), fail(1.5), fail(0.5)], null, 3, 3, 1],
    ['a cap of 0 counts nothing (failure_rate does not use it)', [fail(0.5)], null, 0, 0, 1],
    ['the latest attempt succeeded', [fail(2), fail(0.5), ok(0.1)], null, 10, 0, 2],
  ] as const)('%s', async (_name, attempts, resetAt, cap, consecutive, inWindow) => {
    const endpointId = await endpointWith([...attempts]);
    const stats = await store.health.stats(endpointId, daysAgo(1), { since: resetAt, cap });
    expect(stats.consecutiveFailures).toBe(consecutive);
    expect(stats.attempts).toBe(inWindow);
  });
});
