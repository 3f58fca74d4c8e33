/**
 * `sendWebhook` on a real (in-memory PGlite) store with a recording HTTP sender: what it does
 * when the store says the delivery must not be sent.
 */
import { CancelledFailure } from '@temporalio/activity';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics';
import type { Store } from '../store';
import { useMemoryStore, storedApp, storedDelivery, storedEndpoint } from '../../test/support/store-fixtures';
import type { HttpSender } from './http-sender';
import { ActivityFailureType } from '../domain/activity-failures';
import { createSendWebhook, timedOutOnly, type SendInput } from './send-webhook';

describe('sendWebhook and the stored delivery', () => {
  let store: Store;
  const posts: string[] = [];
  const http: HttpSender = {
    async post(req) {
      posts.push(req.url);
      return { durationMs: 1, statusCode: 200, headers: {}, body: '', bodyTruncated: false, errorCode: null, errorMessage: null };
    },
    async close() {},
  };
  useMemoryStore((opened) => (store = opened));

  const send = (input: Partial<SendInput> & { deliveryId: string }) =>
    createSendWebhook({ store, http, urlPolicy: { allowInsecure: false, allowSubnets: [] }, userAgent: 'Hookline/test', reportFailure: async () => {}, metrics: createMetrics() })({
      attemptNumber: 2,
      trigger: 'scheduled',
      retryIndex: 1,
      jitter: 0,
      retry: true,
      ...input,
    });

  /** A delivery whose endpoint was disabled (ending it `failed`) and then enabled again. */
  async function deliveryEndedByDisable() {
    const app = await storedApp(store);
    const ep = await storedEndpoint(store, app.id);
    const { eventId, deliveryId } = await storedDelivery(store, app.id, ep.id);
    expect(await store.health.disable(ep.id, 'test')).toBe(true);
    expect(await store.health.endedByDisable(ep.id, null, 10)).toEqual([{ id: deliveryId, eventId, statusVersion: 1 }]);
    expect(await store.health.enable(ep.id)).toBe(true);
    return deliveryId;
  }

  it('a scheduled retry of a delivery the disable ended sends nothing, even with the endpoint enabled again', async () => {
    const deliveryId = await deliveryEndedByDisable();
    expect(await send({ deliveryId })).toMatchObject({ outcome: 'disabled', nextDelayMs: null });
    expect(posts).toEqual([]);
    expect(await store.deliveries.byId(deliveryId)).toMatchObject({ status: 'failed', failureReason: 'endpoint_disabled', attemptCount: 0 });
  });

  it('an attempt that was sending when the disable landed does not revive the delivery', async () => {
    const deliveryId = await deliveryEndedByDisable();
    const d = (await store.deliveries.byId(deliveryId))!;
    const at = new Date();
    await store.deliveries.recordAttempt(
      { deliveryId, endpointId: d.endpointId, attemptNumber: 1, trigger: 'scheduled', url: 'https://example.com/hook', startedAt: at, durationMs: 5, responseStatus: 500, responseHeaders: {}, responseBody: '', responseBodyTruncated: false, succeeded: false, errorCode: null, errorMessage: null, nextAttemptAt: new Date(at.getTime() + 60_000), endpointStatusVersion: 0 },
      { status: 'pending', nextAttemptAt: new Date(at.getTime() + 60_000), failureReason: null },
    );
    expect(await store.deliveries.byId(deliveryId)).toMatchObject({ status: 'failed', failureReason: 'endpoint_disabled', nextAttemptAt: null, attemptCount: 1 });
  });

  it('a manual attempt (a resend marked it pending, or recovery) still sends', async () => {
    const deliveryId = await deliveryEndedByDisable();
    const result = await send({ deliveryId, trigger: 'manual', retry: false });
    expect(result).toMatchObject({ outcome: 'succeeded' });
    // It reports the status version it read (disabled, then enabled: 2), which the workflow
    // weighs disable notices against.
    expect(result.endpointStatusVersion).toBe(2);
    expect(posts).toEqual(['https://example.com/hook']);
    expect(await store.deliveries.byId(deliveryId)).toMatchObject({ status: 'succeeded' });
  });

  it('a try of an attempt that already succeeded (its result lost to the workflow) concludes succeeded without a POST, even with the endpoint disabled since', async () => {
    const app = await storedApp(store);
    const ep = await storedEndpoint(store, app.id);
    const { deliveryId } = await storedDelivery(store, app.id, ep.id);
    const before = posts.length;
    expect(await send({ deliveryId, attemptNumber: 1, retryIndex: 0 })).toMatchObject({ outcome: 'succeeded' });
    expect(posts.length - before).toBe(1);
    expect(await store.health.disable(ep.id, 'the policy')).toBe(true);
    // The workflow's task was refused (the disable's signal came during the attempt): it asks again.
    expect(await send({ deliveryId, attemptNumber: 1, retryIndex: 0 })).toMatchObject({ outcome: 'succeeded', statusCode: 200, nextDelayMs: null });
    expect(posts.length - before).toBe(1);
    expect(await store.deliveries.byId(deliveryId)).toMatchObject({ status: 'succeeded', attemptCount: 1 });
    // A revive of the succeeded delivery (the next number) is a new send; here the endpoint is disabled.
    expect(await send({ deliveryId, attemptNumber: 2, trigger: 'manual', retry: false })).toMatchObject({ outcome: 'disabled' });
    expect(await store.deliveries.byId(deliveryId)).toMatchObject({ status: 'succeeded' });
  });

  /** A delivery whose attempt 1 got a 500 a second ago and was recorded, with its retry an hour later. */
  async function deliveryWithFailedAttempt() {
    const app = await storedApp(store);
    const ep = await storedEndpoint(store, app.id);
    const { deliveryId } = await storedDelivery(store, app.id, ep.id);
    const startedAt = new Date(Date.now() - 1_000);
    const retryAt = new Date(startedAt.getTime() + 3_600_000);
    await store.deliveries.recordAttempt(
      { deliveryId, endpointId: ep.id, attemptNumber: 1, trigger: 'scheduled', url: ep.url, startedAt, durationMs: 5, responseStatus: 500, responseHeaders: {}, responseBody: '', responseBodyTruncated: false, succeeded: false, errorCode: null, errorMessage: null, nextAttemptAt: retryAt, endpointStatusVersion: 0 },
      { status: 'pending', nextAttemptAt: retryAt, failureReason: null },
    );
    return { app, ep, deliveryId };
  }

  it('a scheduled try of an attempt recorded as failed (its result lost to the workflow) concludes from the record; a resend reusing the number sends', async () => {
    const { deliveryId } = await deliveryWithFailedAttempt();
    const before = posts.length;
    const again = await send({ deliveryId, attemptNumber: 1, retryIndex: 0 });
    expect(again).toMatchObject({ outcome: 'failed', statusCode: 500 });
    expect(again.nextDelayMs).toBeGreaterThan(3_590_000);
    expect(posts.length - before).toBe(0);
    // A resend that came while it was completing: a new POST, recorded as attempt 2.
    expect(await send({ deliveryId, attemptNumber: 1, retryIndex: 0, trigger: 'manual' })).toMatchObject({ outcome: 'succeeded', attemptNumber: 2 });
    expect(posts.length - before).toBe(1);
    expect(await store.deliveries.byId(deliveryId)).toMatchObject({ status: 'succeeded', attemptCount: 2 });
  });

  it('a recorded failure asked again after a disable ends the delivery instead of waiting for its planned retry; a recorded success asked again as manual is not sent', async () => {
    const { app, ep, deliveryId } = await deliveryWithFailedAttempt();
    expect(await store.health.disable(ep.id, 'the policy')).toBe(true);
    expect(await send({ deliveryId, attemptNumber: 1, retryIndex: 0 })).toMatchObject({ outcome: 'disabled', nextDelayMs: null });

    const other = await storedDelivery(store, app.id, (await storedEndpoint(store, app.id)).id);
    const before = posts.length;
    expect(await send({ deliveryId: other.deliveryId, attemptNumber: 1, retryIndex: 0 })).toMatchObject({ outcome: 'succeeded' });
    // A resend that came while that attempt was completing asks for attempt 1 again, as manual: it was delivered.
    expect(await send({ deliveryId: other.deliveryId, attemptNumber: 1, retryIndex: 0, trigger: 'manual' })).toMatchObject({ outcome: 'succeeded', statusCode: 200 });
    expect(posts.length - before).toBe(1);
  });

  it('a try that failed after its POST was recorded (in a follow-up) is concluded again without a second POST; a resend still sends', async () => {
    const app = await storedApp(store, { retrySchedule: ['1h', '2h'] });
    const ep = await storedEndpoint(store, app.id);
    const { deliveryId } = await storedDelivery(store, app.id, ep.id);
    const sent: string[] = [];
    const busy: HttpSender = {
      async post(req) {
        sent.push(req.url);
        return { durationMs: 7, statusCode: 503, headers: { 'retry-after': '120' }, body: 'busy', bodyTruncated: false, errorCode: null, errorMessage: null };
      },
      async close() {},
    };
    let reports = 0;
    let clock = new Date('2026-11-20T12:00:00Z');
    const sendBusy = createSendWebhook({
      store,
      http: busy,
      urlPolicy: { allowInsecure: false, allowSubnets: [] },
      userAgent: 'Hookline/test',
      reportFailure: async () => {
        if (++reports === 1) throw new Error('Temporal unavailable');
      },
      metrics: createMetrics(),
      now: () => clock,
    });
    const input: SendInput = { deliveryId, attemptNumber: 1, trigger: 'scheduled', retryIndex: 0, jitter: 0.5, retry: true };
    // The attempt is recorded, so the failure says only a follow-up failed.
    await expect(sendBusy(input)).rejects.toMatchObject({ type: ActivityFailureType.followUpFailed, message: expect.stringContaining('Temporal unavailable') });
    // The workflow's next try, 5 s later and with its own jitter, concludes from the record.
    clock = new Date(clock.getTime() + 5_000);
    const again = await sendBusy({ ...input, jitter: -0.5, afterFailedTry: true });
    expect(sent).toHaveLength(1);
    expect(reports).toBe(2);
    // The recorded retry time stands: the 1 h step with +10% jitter after the 7 ms attempt, less the 5 s since.
    expect(again).toMatchObject({ outcome: 'failed', statusCode: 503, nextDelayMs: 3_960_007 - 5_000, scheduleLength: 2 });
    expect(await store.deliveries.byId(deliveryId)).toMatchObject({ status: 'pending', attemptCount: 1 });
    // A resend that reuses the number (it came during the try) asks for a new send: recorded as
    // attempt 2, which the workflow adopts. A number not recorded yet asks for a send too.
    expect(await sendBusy({ ...input, trigger: 'manual' })).toMatchObject({ attemptNumber: 2 });
    expect(sent).toHaveLength(2);
    expect((await store.deliveries.attempts(deliveryId)).map((a) => [a.attemptNumber, a.trigger])).toEqual([[2, 'manual'], [1, 'scheduled']]);
    await sendBusy({ ...input, attemptNumber: 3, retryIndex: 1, afterFailedTry: true });
    expect(sent).toHaveLength(3);
  });

  it('a try given up by its cancellation (the local activity timed out) records nothing; the next try of the number sends', async () => {
    const app = await storedApp(store);
    const ep = await storedEndpoint(store, app.id);
    const { deliveryId } = await storedDelivery(store, app.id, ep.id);
    const signals: (AbortSignal | undefined)[] = [];
    // Answers as the real sender does when its signal aborts the exchange.
    const honouring: HttpSender = {
      async post(req) {
        signals.push(req.signal);
        if (req.signal?.aborted) return { durationMs: 0, statusCode: null, headers: {}, body: '', bodyTruncated: false, errorCode: 'timeout', errorMessage: 'aborted' };
        return { durationMs: 3, statusCode: 200, headers: {}, body: '', bodyTruncated: false, errorCode: null, errorMessage: null };
      },
      async close() {},
    };
    const sendWith = createSendWebhook({ store, http: honouring, urlPolicy: { allowInsecure: false, allowSubnets: [] }, userAgent: 'Hookline/test', reportFailure: async () => {}, metrics: createMetrics() });
    const input: SendInput = { deliveryId, attemptNumber: 1, trigger: 'scheduled', retryIndex: 0, jitter: 0, retry: true };
    const gaveUp = AbortSignal.abort();
    await expect(sendWith(input, gaveUp)).rejects.toBeInstanceOf(CancelledFailure);
    expect(signals).toEqual([gaveUp]);
    expect(await store.deliveries.attempts(deliveryId)).toEqual([]);
    expect(await store.deliveries.byId(deliveryId)).toMatchObject({ status: 'pending', attemptCount: 0 });
    expect(await sendWith(input, new AbortController().signal)).toMatchObject({ outcome: 'succeeded' });
    expect((await store.deliveries.attempts(deliveryId)).map((a) => a.attemptNumber)).toEqual([1]);
  });

  it.each([
    ['TIMED_OUT', true],
    ['WORKER_SHUTDOWN', false],
    ['CANCELLED', false],
  ])('timedOutOnly: a cancellation for %s gives the try up: %s', (reason, givesUp) => {
    const before = new AbortController();
    before.abort(new CancelledFailure(reason));
    expect(timedOutOnly(before.signal).aborted).toBe(givesUp);
    const during = new AbortController();
    const signal = timedOutOnly(during.signal);
    expect(signal.aborted).toBe(false);
    during.abort(new CancelledFailure(reason));
    expect(signal.aborted).toBe(givesUp);
  });

  it('an event goes out in the format its application had when the event was committed, on every attempt', async () => {
    const app = await storedApp(store);
    const ep = await storedEndpoint(store, app.id);
    const deliveryOf = async () => (await storedDelivery(store, app.id, ep.id, { dataJson: '{"n":1}' })).deliveryId;
    const bodies: string[] = [];
    const sender: HttpSender = {
      async post(req) {
        bodies.push(req.body);
        return { durationMs: 1, statusCode: 500, headers: {}, body: '', bodyTruncated: false, errorCode: null, errorMessage: null };
      },
      async close() {},
    };
    const sendTo = createSendWebhook({ store, http: sender, urlPolicy: { allowInsecure: false, allowSubnets: [] }, userAgent: 'Hookline/test', reportFailure: async () => {}, metrics: createMetrics() });
    const attempt = (deliveryId: string, attemptNumber: number) => sendTo({ deliveryId, attemptNumber, trigger: 'scheduled', retryIndex: attemptNumber - 1, jitter: 0, retry: true });
    const before = await deliveryOf();
    await attempt(before, 1);
    await store.apps.update(app.id, { payloadFormat: 'raw' });
    await attempt(before, 2);
    await attempt(await deliveryOf(), 1);
    const [first, retry, after] = bodies.map((b) => JSON.parse(b) as Record<string, unknown>);
    expect(first).toMatchObject({ type: 'a.b', data: { n: 1 } });
    expect(retry).toEqual(first);
    expect(after).toEqual({ n: 1 });
  });
});

describe('sendWebhook and a busy endpoint', () => {
  let store: Store;
  useMemoryStore((opened) => (store = opened));

  it('sends at most maxInFlightPerEndpoint at once to one endpoint; the next is put off unsent, and others go on', async () => {
    const app = await storedApp(store);
    const [slow, other] = [await storedEndpoint(store, app.id), await storedEndpoint(store, app.id)];
    let answer = () => {};
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const posted: string[] = [];
    const http: HttpSender = {
      async post(req) {
        posted.push(req.url);
        if (posted.length === 1) await answered;
        return { durationMs: 1, statusCode: 200, headers: {}, body: '', bodyTruncated: false, errorCode: null, errorMessage: null };
      },
      async close() {},
    };
    const metrics = createMetrics();
    const send = createSendWebhook({ store, http, urlPolicy: { allowInsecure: true, allowSubnets: [] }, userAgent: 'Hookline/test', reportFailure: async () => {}, metrics, maxInFlightPerEndpoint: 1 });
    const attempt = async (endpointId: string) => send({ deliveryId: (await storedDelivery(store, app.id, endpointId)).deliveryId, attemptNumber: 1, trigger: 'scheduled', retryIndex: 0, jitter: 0, retry: true });
    const held = attempt(slow.id);
    await expect.poll(() => posted.length).toBe(1);
    // It waits a second here for the place, then is put off: the open POST is a second old.
    const turnedAway = await attempt(slow.id);
    expect(turnedAway).toMatchObject({ outcome: 'busy' });
    expect(turnedAway.nextDelayMs).toBeGreaterThanOrEqual(1_000);
    expect(await attempt(other.id)).toMatchObject({ outcome: 'succeeded' });
    expect(posted).toHaveLength(2);
    answer();
    expect(await held).toMatchObject({ outcome: 'succeeded' });
    expect(await attempt(slow.id)).toMatchObject({ outcome: 'succeeded' });
    expect(await metrics.registry.getSingleMetricAsString('hookline_delivery_deferrals_total')).toContain('hookline_delivery_deferrals_total{reason="endpoint_busy"} 1');
  });
});
