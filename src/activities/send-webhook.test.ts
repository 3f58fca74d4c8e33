/**
 * `sendWebhook` on a real (in-memory PGlite) store with a recording HTTP sender: what it does
 * when the store says the delivery must not be sent.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics';
import { openStore, type Store } from '../store';
import { createSecretBox } from '../store/secret-box';
import type { HttpSender } from './http-sender';
import { createSendWebhook, type SendInput } from './send-webhook';

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
  beforeAll(async () => {
    store = await openStore({}, createSecretBox(randomBytes(32)));
  }, 60_000);
  afterAll(async () => {
    await store?.close();
  });

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
    const app = await store.apps.create({ name: 'a', uid: null, retrySchedule: ['1h'], payloadFormat: 'envelope', disablePolicy: null, metadata: {} });
    const ep = (await store.endpoints.create(app.id, 10, { uid: null, url: 'https://example.com/hook', description: '', eventTypes: ['*'], channels: null, signatureScheme: 'standard', signatureHeader: null, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', headers: null, timeoutMs: 1000, rateLimitPerS: null, retrySchedule: null, metadata: {} }))!;
    const { event } = (await store.events.insert(app.id, { type: 'a.b', data: {}, previousData: null, channels: null, endpointIds: null, idempotencyKey: null }))!;
    const [d] = await store.deliveries.createForEvent({ id: event.id, appId: app.id, type: 'a.b' }, [{ id: ep.id, status: 'active' }]);
    expect(await store.health.disable(ep.id, 'test')).toBe(true);
    expect(await store.health.endedByDisable(ep.id, null, 10)).toEqual([{ id: d!.id, eventId: event.id, statusVersion: 1 }]);
    expect(await store.health.enable(ep.id)).toBe(true);
    return d!.id;
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
      { deliveryId, endpointId: d.endpointId, attemptNumber: 1, trigger: 'scheduled', url: 'https://example.com/hook', startedAt: at, durationMs: 5, responseStatus: 500, responseHeaders: {}, responseBody: '', responseBodyTruncated: false, succeeded: false, errorCode: null, errorMessage: null, nextAttemptAt: new Date(at.getTime() + 60_000) },
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

  it('a try that failed after its POST was recorded (in a follow-up) is concluded again without a second POST; a resend still sends', async () => {
    const app = await store.apps.create({ name: 'a', uid: null, retrySchedule: ['1h', '2h'], payloadFormat: 'envelope', disablePolicy: null, metadata: {} });
    const ep = (await store.endpoints.create(app.id, 10, { uid: null, url: 'https://example.com/busy', description: '', eventTypes: ['*'], channels: null, signatureScheme: 'standard', signatureHeader: null, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', headers: null, timeoutMs: 1000, rateLimitPerS: null, retrySchedule: null, metadata: {} }))!;
    const { event } = (await store.events.insert(app.id, { type: 'a.b', data: {}, previousData: null, channels: null, endpointIds: null, idempotencyKey: null }))!;
    const [d] = await store.deliveries.createForEvent({ id: event.id, appId: app.id, type: 'a.b' }, [{ id: ep.id, status: 'active' }]);
    const sent: string[] = [];
    const busy: HttpSender = {
      async post(req) {
        sent.push(req.url);
        return { durationMs: 7, statusCode: 503, headers: { 'retry-after': '120' }, body: 'busy', bodyTruncated: false, errorCode: null, errorMessage: null };
      },
      async close() {},
    };
    let reports = 0;
    const sendBusy = createSendWebhook({
      store,
      http: busy,
      urlPolicy: { allowInsecure: false, allowSubnets: [] },
      userAgent: 'Hookline/test',
      reportFailure: async () => {
        if (++reports === 1) throw new Error('Temporal unavailable');
      },
      metrics: createMetrics(),
    });
    const input: SendInput = { deliveryId: d!.id, attemptNumber: 1, trigger: 'scheduled', retryIndex: 0, jitter: 0.5, retry: true };
    await expect(sendBusy(input)).rejects.toThrow('Temporal unavailable');
    const again = await sendBusy({ ...input, afterFailedTry: true });
    expect(sent).toHaveLength(1);
    expect(reports).toBe(2);
    // The same decision as the first try: the 1 h step with +10% jitter (Retry-After is shorter).
    expect(again).toMatchObject({ outcome: 'failed', statusCode: 503, nextDelayMs: 3_960_000, scheduleLength: 2 });
    expect(await store.deliveries.byId(d!.id)).toMatchObject({ status: 'pending', attemptCount: 1 });
    // A resend that reuses the number (it came during the try) asks for a new send, as does the next number.
    await sendBusy({ ...input, trigger: 'manual' });
    expect(sent).toHaveLength(2);
    await sendBusy({ ...input, attemptNumber: 2, retryIndex: 1, afterFailedTry: true });
    expect(sent).toHaveLength(3);
  });

  it('an event goes out in the format its application had when the event was committed, on every attempt', async () => {
    const app = await store.apps.create({ name: 'f', uid: null, retrySchedule: ['1h'], payloadFormat: 'envelope', disablePolicy: null, metadata: {} });
    const ep = (await store.endpoints.create(app.id, 10, { uid: null, url: 'https://example.com/f', description: '', eventTypes: ['*'], channels: null, signatureScheme: 'standard', signatureHeader: null, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', headers: null, timeoutMs: 1000, rateLimitPerS: null, retrySchedule: null, metadata: {} }))!;
    const deliveryOf = async () => {
      const { event } = (await store.events.insert(app.id, { type: 'a.b', data: { n: 1 }, previousData: null, channels: null, endpointIds: null, idempotencyKey: null }))!;
      return (await store.deliveries.createForEvent({ id: event.id, appId: app.id, type: 'a.b' }, [{ id: ep.id, status: 'active' }]))[0]!.id;
    };
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
