import { describe, expect, it } from 'vitest';
import { checkReadiness } from './readiness';

describe('checkReadiness', () => {
  it('reports each probe, and one that does not answer in time as unavailable', async () => {
    const started = Date.now();
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
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await checkReadiness({ store: async () => undefined })).toEqual({ ok: true, checks: { store: 'ok' } });
  });
});
