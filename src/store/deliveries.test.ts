/** Test sends' start bookkeeping on a real in-memory store. */
import { describe, expect, it } from 'vitest';
import { storedApp, storedDelivery, storedEndpoint, useMemoryStore } from '../../test/support/store-fixtures';
import type { Store } from '.';

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
