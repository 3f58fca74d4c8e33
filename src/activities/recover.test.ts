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
