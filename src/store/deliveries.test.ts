/** Deliveries in a real in-memory store: test sends' start bookkeeping, and how attempts are recorded. */
import { describe, expect, it } from 'vitest';
import { storedApp, storedDelivery, storedEndpoint, useMemoryStore } from '../../test/support/store-fixtures';
import type { Store } from '.';
import type { AttemptTrigger } from '../domain/model';

describe('test send deliveries', () => {
  let store: Store;
  useMemoryStore((s) => (store = s));

  async function testSend() {
    const app = await storedApp(store);
    const ep = await storedEndpoint(store, app.id);
    const other = await storedEndpoint(store, app.id);
    const { eventId } = await storedDelivery(store, app.id, other.id);
    const [d] = await store.deliveries.createForEvent({ id: eventId, appId: app.id, type: 'a.b' }, [{ id: ep.id, status: 'active' }], { test: true });
    return d!.id;
  }
  const awaiting = async () => (await store.deliveries.unstartedTests(new Date(Date.now() + 60_000), 100)).map((d) => d.id);

  it('awaits its start until confirmed; a failed start closes it as not_started only while unconfirmed', async () => {
    const confirmed = await testSend();
    const failed = await testSend();
    expect(await awaiting()).toEqual(expect.arrayContaining([confirmed, failed]));

    await store.deliveries.confirmStart(confirmed);
    // A sweep started it while the route's own start was failing: it is not closed.
    expect(await store.deliveries.failUnstarted(confirmed)).toBe(false);
    expect((await store.deliveries.byId(confirmed))?.status).toBe('pending');

    expect(await store.deliveries.failUnstarted(failed)).toBe(true);
    expect(await store.deliveries.byId(failed)).toMatchObject({ status: 'failed', failureReason: 'not_started', test: true });
    expect(await awaiting()).not.toContain(failed);
    expect(await awaiting()).not.toContain(confirmed);
  });
});

describe('recording attempts', () => {
  let store: Store;
  useMemoryStore((s) => (store = s));

  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
  /** Records one attempt: `ok` succeeds the delivery, else it stays pending for a retry a minute later. */
  async function record(d: { deliveryId: string; endpointId: string }, n: number, startedS: number, ok: boolean, endpointStatusVersion = 0) {
    const nextAttemptAt = ok ? null : at(startedS + 60);
    await store.deliveries.recordAttempt(
      { deliveryId: d.deliveryId, endpointId: d.endpointId, attemptNumber: n, trigger: 'scheduled', url: 'https://example.com/hook', startedAt: at(startedS), durationMs: 5, responseStatus: ok ? 200 : 500, responseHeaders: {}, responseBody: '', responseBodyTruncated: false, succeeded: ok, errorCode: null, errorMessage: null, nextAttemptAt, endpointStatusVersion },
      { status: ok ? 'succeeded' : 'pending', nextAttemptAt, failureReason: null },
    );
  }
  async function delivery() {
    const app = await storedApp(store);
    const ep = await storedEndpoint(store, app.id);
    const { deliveryId } = await storedDelivery(store, app.id, ep.id);
    return { deliveryId, endpointId: ep.id };
  }

  it('a try that finishes after a later try of the same attempt recorded changes nothing', async () => {
    const d = await delivery();
    // The workflow's second try of attempt 1 (started at 70 s) succeeded and recorded first;
    // the first try, started at 10 s, outlived its local activity's timeout and records late.
    await record(d, 1, 70, true);
    await record(d, 1, 10, false);
    expect(await store.deliveries.byId(d.deliveryId)).toMatchObject({ status: 'succeeded', nextAttemptAt: null, lastAttemptAt: at(70), attemptCount: 1 });
    expect(await store.deliveries.attempts(d.deliveryId)).toEqual([expect.objectContaining({ attemptNumber: 1, startedAt: at(70), responseStatus: 200 })]);
  });

  it('a late record of an earlier attempt keeps its row but leaves the delivery as the later attempt left it', async () => {
    const d = await delivery();
    await record(d, 2, 90, true);
    await record(d, 1, 10, false);
    expect(await store.deliveries.byId(d.deliveryId)).toMatchObject({ status: 'succeeded', lastAttemptAt: at(90), attemptCount: 2 });
    // By number, not by time: attempt 3 on a worker whose clock is behind still counts, and attempt 2 arriving late does not.
    const skewed = await delivery();
    await record(skewed, 2, 90, false);
    await record(skewed, 3, 80, true);
    await record(skewed, 2, 95, false);
    expect(await store.deliveries.byId(skewed.deliveryId)).toMatchObject({ status: 'succeeded', lastAttemptAt: at(80), attemptCount: 3 });
    expect((await store.deliveries.attempts(d.deliveryId)).map((a) => a.attemptNumber)).toEqual([2, 1]);
    // The newest first, as many as asked; one by its number.
    expect((await store.deliveries.attempts(d.deliveryId, 1)).map((a) => a.attemptNumber)).toEqual([2]);
    expect(await store.deliveries.attempt(d.deliveryId, 1)).toMatchObject({ attemptNumber: 1, startedAt: at(10), responseStatus: 500 });
    expect(await store.deliveries.attempt(d.deliveryId, 3)).toBeUndefined();
    // In order, each record applies.
    const e = await delivery();
    await record(e, 1, 10, false);
    await record(e, 2, 90, true);
    expect(await store.deliveries.byId(e.deliveryId)).toMatchObject({ status: 'succeeded', attemptCount: 2 });
  });

  it('a failed attempt that read the endpoint after a disable and an enable leaves the delivery pending for its retry', async () => {
    const d = await delivery();
    expect(await store.health.disable(d.endpointId, 'test')).toBe(true);
    expect(await store.health.enable(d.endpointId)).toBe(true);
    // A resend's attempt, which read the endpoint at version 2 (enabled again): its retries go on.
    await record(d, 1, 10, false, 2);
    expect(await store.deliveries.byId(d.deliveryId)).toMatchObject({ status: 'pending', failureReason: null, nextAttemptAt: at(70) });
    // One that read version 0, before the disable, is kept failed (see send-webhook.test.ts).
    const e = await delivery();
    expect(await store.health.disable(e.endpointId, 'test')).toBe(true);
    await record(e, 1, 10, false, 0);
    expect(await store.deliveries.byId(e.deliveryId)).toMatchObject({ status: 'failed', failureReason: 'endpoint_disabled', nextAttemptAt: null });
  });

  it('endPending ends only a pending delivery', async () => {
    const d = await delivery();
    await record(d, 1, 10, true);
    await store.deliveries.endPending(d.deliveryId, { status: 'failed', nextAttemptAt: null, failureReason: 'endpoint_disabled' });
    expect((await store.deliveries.byId(d.deliveryId))?.status).toBe('succeeded');
    const e = await delivery();
    await store.deliveries.endPending(e.deliveryId, { status: 'failed', nextAttemptAt: null, failureReason: 'endpoint_disabled' });
    expect(await store.deliveries.byId(e.deliveryId)).toMatchObject({ status: 'failed', failureReason: 'endpoint_disabled' });
  });
});

describe('attemptStats', () => {
  let store: Store;
  useMemoryStore((s) => (store = s));

  it('takes latency percentiles in whole ms over the attempts the endpoint answered', async () => {
    const app = await storedApp(store);
    const ep = await storedEndpoint(store, app.id);
    // The last two are a test send's delivery: its own attempt, and a resend's.
    const attempts: [number, number | null, AttemptTrigger, number][] = [[10, 200, 'scheduled', 1], [21, 500, 'manual', 1], [1_000, null, 'scheduled', 1], [33, null, 'scheduled', 1], [900, 500, 'test', 1], [700, 500, 'manual', 2]];
    let deliveryId = '';
    for (const [durationMs, responseStatus, trigger, attemptNumber] of attempts) {
      if (trigger === 'test') {
        const { eventId } = await storedDelivery(store, app.id, (await storedEndpoint(store, app.id)).id);
        deliveryId = (await store.deliveries.createForEvent({ id: eventId, appId: app.id, type: 'a.b' }, [{ id: ep.id, status: 'active' }], { test: true }))[0]!.id;
      } else if (attemptNumber === 1) {
        deliveryId = (await storedDelivery(store, app.id, ep.id)).deliveryId;
      }
      await store.deliveries.recordAttempt(
        { deliveryId, endpointId: ep.id, attemptNumber, trigger, url: ep.url, startedAt: new Date(), durationMs, responseStatus, responseHeaders: {}, responseBody: '', responseBodyTruncated: false, succeeded: responseStatus === 200, errorCode: responseStatus === null ? 'timeout' : null, errorMessage: null, nextAttemptAt: null, endpointStatusVersion: 0 },
        { status: responseStatus === 200 ? 'succeeded' : 'failed', nextAttemptAt: null, failureReason: null },
      );
    }
    // p50 of 10 and 21 is 15.5, p95 is 20.45: rounded. The timeout and the refused connection count as attempts only;
    // the test send's attempts not at all.
    expect(await store.deliveries.attemptStats(ep.id, new Date(Date.now() - 60_000))).toEqual({ attempts: 4, succeeded: 1, p50Ms: 16, p95Ms: 20 });
  });
});
