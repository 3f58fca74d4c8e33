/**
 * `recoverPage` on a real (in-memory PGlite) store, in a mock activity context: what it resends,
 * and how a retried page resumes from its heartbeat instead of resending again.
 */
import { randomBytes } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delivery } from '../domain/model';
import { openStore, type Store } from '../store';
import { createSecretBox } from '../store/secret-box';
import { createRecoverPage, type RecoverPageInput } from './recover';

describe('recoverPage', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore({}, createSecretBox(randomBytes(32)));
  }, 60_000);
  afterAll(async () => {
    await store?.close();
  });

  /** An endpoint with `n` deliveries: the first `failed` of them failed, the rest succeeded. */
  async function endpointWith(n: number, failed: number) {
    const app = await store.apps.create({ name: 'a', uid: null, retrySchedule: ['1h'], payloadFormat: 'envelope', disablePolicy: null, metadata: {} });
    const ep = (await store.endpoints.create(app.id, 10, { uid: null, url: 'https://example.com/hook', description: '', eventTypes: ['*'], channels: null, signatureScheme: 'standard', signatureHeader: null, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', headers: null, timeoutMs: 1000, rateLimitPerS: null, retrySchedule: null, metadata: {} }))!;
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const { event } = (await store.events.insert(app.id, { type: 'a.b', data: { i }, previousData: null, channels: null, endpointIds: null, idempotencyKey: null }))!;
      const [d] = await store.deliveries.createForEvent({ id: event.id, appId: app.id, type: 'a.b' }, [{ id: ep.id, status: 'active' }]);
      await store.deliveries.setStatus(d!.id, { status: i < failed ? 'failed' : 'succeeded', nextAttemptAt: null, failureReason: i < failed ? 'schedule_exhausted' : null });
      ids.push(d!.id);
    }
    return { endpointId: ep.id, ids };
  }

  const window = { sinceMs: Date.now() - 60_000, untilMs: Date.now() + 60_000 };

  it('resends only failed deliveries, a page at a time, and says where it stopped', async () => {
    const { endpointId, ids } = await endpointWith(5, 3);
    const resent: string[] = [];
    const page = createRecoverPage({ store, resend: async (d: Delivery) => void resent.push(d.id) });
    const input: RecoverPageInput = { endpointId, ...window, after: null, limit: 2 };
    expect(await new MockActivityEnvironment().run(page, input)).toEqual({ resent: 2, lastId: ids[1], endpointGone: false });
    expect(await new MockActivityEnvironment().run(page, { ...input, after: ids[1]! })).toEqual({ resent: 1, lastId: ids[2], endpointGone: false });
    expect(resent).toEqual(ids.slice(0, 3));
  });

  it('a retried page resumes after its last heartbeat and counts what the first try resent', async () => {
    const { endpointId, ids } = await endpointWith(4, 4);
    const resent: string[] = [];
    const page = createRecoverPage({ store, resend: async (d: Delivery) => void resent.push(d.id) });
    const retry = new MockActivityEnvironment({ heartbeatDetails: { lastId: ids[1], resent: 2 }, attempt: 2 });
    expect(await retry.run(page, { endpointId, ...window, after: null, limit: 3 })).toEqual({ resent: 3, lastId: ids[2], endpointGone: false });
    expect(resent).toEqual([ids[2]]);
  });

  it('stops when the endpoint is disabled', async () => {
    const { endpointId } = await endpointWith(2, 2);
    await store.health.disable(endpointId, 'test');
    const page = createRecoverPage({ store, resend: async () => expect.unreachable() });
    expect(await new MockActivityEnvironment().run(page, { endpointId, ...window, after: null, limit: 5 })).toEqual({ resent: 0, lastId: null, endpointGone: true });
  });
});
