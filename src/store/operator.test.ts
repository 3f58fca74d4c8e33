/** The operator application on a real in-memory store: what `configure()` adopts. */
import { describe, expect, it } from 'vitest';
import { openMemoryStore, storedApp, storedEndpoint, useMemoryStore } from '../../test/support/store-fixtures';
import { OPERATOR_APP_UID } from '../domain/ids';
import type { Store } from '.';

const target = { url: 'https://ops.example.com/hookline', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' };

describe('operator events configure()', () => {
  let store: Store;
  useMemoryStore((s) => (store = s));

  it('creates its application once and keeps adopting it at every start', async () => {
    await store.operator.configure(target);
    await store.operator.configure({ ...target, url: 'https://ops.example.com/v2' });
    const app = await store.apps.get(OPERATOR_APP_UID);
    const endpoints = await store.endpoints.list(app!.id, { limit: 10 });
    expect(endpoints.data.map((e) => [e.uid, e.url])).toEqual([['operator', 'https://ops.example.com/v2']]);
    expect(store.operator.isOperatorApp(app!.id)).toBe(true);
  });

  it('refuses to adopt an application under that uid with application keys and endpoints of its own (a tenant took the uid before it was reserved)', async () => {
    const fresh = await openMemoryStore();
    try {
      const tenant = await storedApp(fresh, { uid: OPERATOR_APP_UID });
      await storedEndpoint(fresh, tenant.id, { uid: 'tenant-hook' });
      // Endpoints alone: an admin may add receivers to the operator application.
      await fresh.operator.configure(target);
      expect(fresh.operator.isOperatorApp(tenant.id)).toBe(true);
      await fresh.keys.create(tenant.id, 'hk_app_tenantkey0000000000000000', 'tenant');
      await expect(fresh.operator.configure(target)).rejects.toThrow(`has application keys and endpoints Hookline did not create, as a tenant's would; if it is a tenant's, give it another uid with the admin key (PATCH /v1/apps/${tenant.id})`);
    } finally {
      await fresh.close();
    }
  }, 60_000);
});
