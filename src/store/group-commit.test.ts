import { describe, expect, it } from 'vitest';
import { groupCommit } from './group-commit';

/** A batch runner that records its batches; items over 100 fail the whole batch they are in. */
function recorder() {
  const batches: number[][] = [];
  const run = async (items: readonly number[]) => {
    batches.push([...items]);
    await new Promise((r) => setTimeout(r, 1));
    if (items.some((i) => i > 100)) throw new Error(`bad item in ${items.join(',')}`);
    return items.map((i) => i * 2);
  };
  return { batches, run };
}

describe('groupCommit', () => {
  it('runs the calls of one turn as one batch, each caller getting its own result', async () => {
    const { batches, run } = recorder();
    const call = groupCommit(run, { maxBatch: 10 });
    await expect(Promise.all([1, 2, 3].map(call))).resolves.toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('splits a turn larger than maxBatch', async () => {
    const { batches, run } = recorder();
    const call = groupCommit(run, { maxBatch: 2 });
    await expect(Promise.all([1, 2, 3, 4, 5].map(call))).resolves.toEqual([2, 4, 6, 8, 10]);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('starts a new batch for calls made in a later turn', async () => {
    const { batches, run } = recorder();
    const call = groupCommit(run, { maxBatch: 10 });
    const first = call(1);
    await new Promise((r) => setImmediate(r));
    const second = call(2);
    await expect(Promise.all([first, second])).resolves.toEqual([2, 4]);
    expect(batches).toEqual([[1], [2]]);
  });

  it('retries a failed batch one item at a time, so only the bad item fails', async () => {
    const { batches, run } = recorder();
    const call = groupCommit(run, { maxBatch: 10 });
    const results = await Promise.allSettled([1, 200, 3].map(call));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([2, 'bad item in 200', 6]);
    expect(batches).toEqual([[1, 200, 3], [1], [200], [3]]);
  });

  it('rejects every call when the runner breaks its contract', async () => {
    const call = groupCommit(async (items: readonly number[]) => items.slice(1), { maxBatch: 10 });
    const results = await Promise.allSettled([1, 2].map(call));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
