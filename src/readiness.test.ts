import { describe, expect, it } from 'vitest';
import { checkReadiness } from './readiness';

describe('checkReadiness', () => {
  // The temporal probe never settles: without the bound this test would not finish.
  it('reports each probe, and one that does not answer in time as unavailable', async () => {
    const result = await checkReadiness(
      {
        store: async () => undefined,
        temporal: () => new Promise<void>(() => undefined),
        worker: async () => {
          throw new Error('stopped');
        },
      },
      50,
    );
    expect(result).toEqual({ ok: false, checks: { store: 'ok', temporal: 'unavailable', worker: 'unavailable' } });
    expect(await checkReadiness({ store: async () => undefined })).toEqual({ ok: true, checks: { store: 'ok' } });
  });
});
