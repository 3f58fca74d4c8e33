/**
 * `deliveryResender` on a real (in-memory PGlite) store with a recording stand-in for Temporal's
 * signal-with-start: the order of its two writes, and what each outcome leaves in the store.
 */
import { describe, expect, it } from 'vitest';
import { useMemoryStore, storedApp, storedDelivery, storedEndpoint } from '../test/support/store-fixtures';
import type { Delivery } from './domain/model';
import type { Store } from './store';
import { deliveryResender } from './temporal';
import type { DeliveryInput } from './workflows/delivery';

const quiet = { warn: () => undefined };

describe('deliveryResender', () => {
  let store: Store;
  useMemoryStore((opened) => (store = opened));

  /** A delivery whose one attempt failed and ended it (`failed`, attempt count 1). */
  async function failedDelivery(): Promise<Delivery> {
    const app = await storedApp(store);
    const ep = await storedEndpoint(store, app.id);
    const { deliveryId } = await storedDelivery(store, app.id, ep.id);
    await record(deliveryId, ep.id, 1, false);
    return (await store.deliveries.byId(deliveryId))!;
  }

  async function record(deliveryId: string, endpointId: string, attemptNumber: number, ok: boolean) {
    await store.deliveries.recordAttempt(
      { deliveryId, endpointId, attemptNumber, trigger: attemptNumber === 1 ? 'scheduled' : 'manual', url: 'https://example.com/r', startedAt: new Date(), durationMs: 3, responseStatus: ok ? 200 : 500, responseHeaders: {}, responseBody: '', responseBodyTruncated: false, succeeded: ok, errorCode: null, errorMessage: null, nextAttemptAt: null, endpointStatusVersion: 0 },
      { status: ok ? 'succeeded' : 'failed', nextAttemptAt: null, failureReason: ok ? null : 'schedule_exhausted' },
    );
  }

  /** Signal-with-start that notes the row's status when Temporal is called, then runs `then`. */
  function temporal(then: (d: Delivery) => Promise<void> = async () => {}) {
    const seen: { status: string; input: DeliveryInput }[] = [];
    return {
      seen,
      workflows: {
        signalWithStart: async (_wf: unknown, options: { args: [DeliveryInput] }) => {
          const row = (await store.deliveries.byId(options.args[0].deliveryId))!;
          seen.push({ status: row.status, input: options.args[0] });
          await then(row);
        },
      } as never,
    };
  }

  it('tells Temporal first (a revive with the next number), then marks the delivery pending', async () => {
    const d = await failedDelivery();
    const t = temporal();
    await deliveryResender(store, t.workflows, 'q', quiet)(d);
    expect(t.seen).toEqual([{ status: 'failed', input: expect.objectContaining({ revive: { attemptNumber: 2 } }) }]);
    expect(await store.deliveries.byId(d.id)).toMatchObject({ status: 'pending', failureReason: null });
  });

  it('leaves the store as it was when Temporal refuses', async () => {
    const d = await failedDelivery();
    const t = temporal(async () => {
      throw new Error('unavailable');
    });
    await expect(deliveryResender(store, t.workflows, 'q', quiet)(d)).rejects.toThrow('unavailable');
    expect(await store.deliveries.byId(d.id)).toMatchObject({ status: 'failed', failureReason: 'schedule_exhausted' });
  });

  it('answers a resend Temporal took as done even if the mark fails, and logs it', async () => {
    const d = await failedDelivery();
    const t = temporal();
    const warnings: unknown[] = [];
    const broken = { ...store, deliveries: { ...store.deliveries, markResent: () => Promise.reject(new Error('store down')) } };
    await deliveryResender(broken, t.workflows, 'q', { warn: (obj: unknown) => void warnings.push(obj) })(d);
    expect(t.seen).toHaveLength(1);
    expect(warnings).toEqual([expect.objectContaining({ deliveryId: d.id })]);
  });

  it('does not overwrite the outcome of a revived attempt that was recorded before the mark', async () => {
    const d = await failedDelivery();
    const t = temporal((row) => record(row.id, row.endpointId, 2, true));
    await deliveryResender(store, t.workflows, 'q', quiet)(d);
    expect(await store.deliveries.byId(d.id)).toMatchObject({ status: 'succeeded', attemptCount: 2 });
  });

  it('does not overwrite the outcome of the same attempt number run again for the resend before the mark', async () => {
    const d = await failedDelivery();
    // A resend during attempt 1 makes the workflow run attempt 1 again, as manual.
    const t = temporal(async (row) => {
      await new Promise((r) => setTimeout(r, 5));
      await record(row.id, row.endpointId, 1, true);
    });
    await deliveryResender(store, t.workflows, 'q', quiet)(d);
    expect(await store.deliveries.byId(d.id)).toMatchObject({ status: 'succeeded', attemptCount: 1 });
  });

  it('starts a pending delivery that has no attempt yet as a whole delivery, not a one-attempt revive', async () => {
    const d = await failedDelivery();
    const t = temporal();
    await deliveryResender(store, t.workflows, 'q', quiet)({ ...d, status: 'pending', attemptCount: 0 });
    expect(t.seen[0]!.input.revive).toBeUndefined();
  });

  it("keeps a test send's delivery a test (one attempt, no retries), started or revived", async () => {
    const d = await failedDelivery();
    const app = await storedApp(store);
    const ep = await storedEndpoint(store, app.id);
    const { eventId } = await storedDelivery(store, app.id, ep.id);
    const tested = await storedEndpoint(store, app.id);
    const [created] = await store.deliveries.createForEvent({ id: eventId, appId: app.id, type: 'a.b' }, [{ id: tested.id, status: 'active' }], { test: true });
    // Read back from the store: the flag is the row's, not the test's.
    const testSend = (await store.deliveries.byId(created!.id))!;
    expect(testSend.test).toBe(true);
    const t = temporal();
    await deliveryResender(store, t.workflows, 'q', quiet)(testSend);
    await deliveryResender(store, t.workflows, 'q', quiet)({ ...testSend, status: 'failed', attemptCount: 1 });
    expect(t.seen.map((s) => [s.input.test, s.input.revive?.attemptNumber])).toEqual([
      [true, undefined],
      [true, 2],
    ]);
    await deliveryResender(store, t.workflows, 'q', quiet)(d);
    expect(t.seen[2]!.input.test).toBeUndefined();
  });
});
