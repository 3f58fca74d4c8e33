/**
 * `recoverPage` on a real (in-memory PGlite) store, in a mock activity context: what it resends,
 * and how a retried page resumes from its heartbeat instead of resending again.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { useMemoryStore, storedApp, storedDelivery, storedEndpoint } from '../../test/support/store-fixtures';
import type { Delivery } from '../domain/model';
import type { Store } from '../store';
import { createRecoverPage, type RecoverPageInput } from './recover';

describe('recoverPage', () => {
  let store: Store;
  useMemoryStore((opened) => (store = opened));

  /** An endpoint with `n` deliveries: the first `failed` of them failed, the rest succeeded. */
  async function endpointWith(n: number, failed: number) {
    const app = await storedApp(store);
    const ep = await storedEndpoint(store, app.id);
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const { deliveryId } = await storedDelivery(store, app.id, ep.id, { dataJson: JSON.stringify({ i }) });
      await store.deliveries.endPending(deliveryId, { status: i < failed ? 'failed' : 'succeeded', nextAttemptAt: null, failureReason: i < failed ? 'schedule_exhausted' : null });
      ids.push(deliveryId);
    }
    return { appId: app.id, endpointId: ep.id, ids };
  }

  const window = { sinceMs: Date.now() - 60_000, untilMs: Date.now() + 60_000 };

  it('resends only failed deliveries, a page at a time, and says where it stopped', async () => {
    const { endpointId, ids } = await endpointWith(5, 3);
    const resent: string[] = [];
    const page = createRecoverPage({ store, resend: async (d: Delivery) => void resent.push(d.id) });
    const input: RecoverPageInput = { endpointId, ...window, after: null, limit: 2 };
    expect(await new MockActivityEnvironment().run(page, input)).toEqual({ resent: 2, lastId: ids[1], endpointGone: false, more: true });
    expect(await new MockActivityEnvironment().run(page, { ...input, after: ids[1]! })).toEqual({ resent: 1, lastId: ids[2], endpointGone: false, more: false });
    expect(resent).toEqual(ids.slice(0, 3));
  });

  it("leaves out a test send's failed delivery: a probe, not an event the endpoint missed", async () => {
    const { appId, endpointId, ids } = await endpointWith(1, 1);
    // A test send's delivery is of an event that no endpoint subscribes to: stored here for another.
    const { eventId } = await storedDelivery(store, appId, (await storedEndpoint(store, appId)).id);
    const [probe] = await store.deliveries.createForEvent({ id: eventId, appId, type: 'a.b' }, [{ id: endpointId, status: 'active' }], { test: true });
    await store.deliveries.endPending(probe!.id, { status: 'failed', nextAttemptAt: null, failureReason: 'test_attempt_failed' });
    const resent: string[] = [];
    const page = createRecoverPage({ store, resend: async (d: Delivery) => void resent.push(d.id) });
    expect(await new MockActivityEnvironment().run(page, { endpointId, ...window, after: null, limit: 10 })).toMatchObject({ resent: 1 });
    expect(resent).toEqual(ids);
  });

  it('a retried page resumes after its last heartbeat and counts what the first try resent', async () => {
    const { endpointId, ids } = await endpointWith(4, 4);
    const resent: string[] = [];
    const page = createRecoverPage({ store, resend: async (d: Delivery) => void resent.push(d.id) });
    const retry = new MockActivityEnvironment({ heartbeatDetails: { lastId: ids[1], resent: 2 }, attempt: 2 });
    expect(await retry.run(page, { endpointId, ...window, after: null, limit: 3 })).toEqual({ resent: 3, lastId: ids[2], endpointGone: false, more: true });
    expect(resent).toEqual([ids[2]]);
  });

  it('with asOf, overlapping recoveries resend each delivery once: the first to take it', async () => {
    const { endpointId, ids } = await endpointWith(4, 3);
    const resent: string[] = [];
    const page = createRecoverPage({ store, resend: async (d: Delivery) => void resent.push(d.id) });
    const asOfMs = Date.now() + 1; // both began after the deliveries failed
    const input: RecoverPageInput = { endpointId, ...window, after: null, limit: 2, asOfMs };
    // B read its page before A took anything (they ran side by side) ...
    const seenByB = await store.deliveries.recoverable({ endpointId, since: new Date(window.sinceMs), until: new Date(window.untilMs), after: null, limit: 10, asOf: new Date(asOfMs) });
    expect(seenByB.map((d) => d.id)).toEqual(ids.slice(0, 3));
    // ... then A resends a full page, and says there may be more.
    expect(await new MockActivityEnvironment().run(page, input)).toEqual({ resent: 2, lastId: ids[1], endpointGone: false, more: true });
    // B's takes of what it read fail for what A took, and succeed for the rest.
    expect(await Promise.all(seenByB.map((d) => store.deliveries.claimForRecovery(d, new Date())))).toEqual([false, false, true]);
    // A recovery's own page finds nothing changed since it began: C began before A's resends.
    expect(await new MockActivityEnvironment().run(page, { ...input, after: null })).toEqual({ resent: 0, lastId: null, endpointGone: false, more: false });
    expect(resent).toEqual(ids.slice(0, 2));
  });

  it('with asOf, a resend that fails gives its delivery back for the page\'s retry', async () => {
    const { endpointId, ids } = await endpointWith(1, 1);
    let temporalUp = false;
    const resent: string[] = [];
    const page = createRecoverPage({
      store,
      resend: async (d: Delivery) => {
        if (!temporalUp) throw new Error('Temporal unavailable');
        resent.push(d.id);
      },
    });
    const input: RecoverPageInput = { endpointId, ...window, after: null, limit: 5, asOfMs: Date.now() + 1 };
    await expect(new MockActivityEnvironment().run(page, input)).rejects.toThrow('Temporal unavailable');
    temporalUp = true;
    expect(await new MockActivityEnvironment({ attempt: 2 }).run(page, input)).toEqual({ resent: 1, lastId: ids[0], endpointGone: false, more: false });
    expect(resent).toEqual(ids);
  });

  it('stops when the endpoint is disabled', async () => {
    const { endpointId } = await endpointWith(2, 2);
    await store.health.disable(endpointId, 'test');
    const page = createRecoverPage({ store, resend: async () => expect.unreachable() });
    expect(await new MockActivityEnvironment().run(page, { endpointId, ...window, after: null, limit: 5 })).toEqual({ resent: 0, lastId: null, endpointGone: true });
  });
});
