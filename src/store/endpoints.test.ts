/** Endpoint rows on a real in-memory store: what the API's clock must not decide. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { storedApp, storedDelivery, storedEndpoint, useMemoryStore } from '../../test/support/store-fixtures';
import { createStore, type Store } from '.';
import { createSecretBox } from './secret-box';

describe('endpoint secrets', () => {
  let store: Store;
  useMemoryStore((s) => (store = s));

  it('a rotation by an API process whose clock is an hour behind the database still signs oldest first', async () => {
    const app = await storedApp(store);
    const first = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const rotated = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
    const endpoint = await storedEndpoint(store, app.id, { secret: first, signatureScheme: 'stripe' });
    const behind = new Date(Date.now() - 3_600_000);
    // A grace period of two hours by that clock: the first secret is still live an hour from now.
    await store.endpoints.rotateSecret(endpoint.id, rotated, 7_200_000, behind);
    const { deliveryId } = await storedDelivery(store, app.id, endpoint.id);
    expect((await store.loadSendContext(deliveryId))?.endpoint.secrets).toEqual([first, rotated]);
  });

  it('finds a stored secret sealed with a key the process was not given', async () => {
    const app = await storedApp(store);
    await storedEndpoint(store, app.id);
    expect(await store.endpoints.sealedWithUnknownKey()).toBeUndefined();
    // The same database, opened with another key (and not the one that sealed them).
    const other = createStore(store.db, createSecretBox(randomBytes(32)));
    expect(await other.endpoints.sealedWithUnknownKey()).toMatch(/^v1\.[\w-]{8}\./);
  });
});
