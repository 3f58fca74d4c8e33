/**
 * Group commit: calls made in the same turn of the event loop run as one batch, so N concurrent
 * requests cost one statement and one round trip instead of N. Under light load a batch holds one
 * item and waits for nothing but the end of the current turn (`setImmediate`), so latency does not
 * grow; under load, batches form by themselves from the requests each turn has read.
 *
 * What must stay true:
 * - `run` returns one result per item, in the items' order.
 * - A batch that fails is retried one item at a time, so a bad item fails only its own call. This
 *   is safe only because `run` is one statement: a failed statement changed nothing.
 */
export interface GroupCommitOptions {
  /** Largest batch; a turn with more calls starts another batch. */
  maxBatch: number;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (reason: unknown) => void;
}

export function groupCommit<I, O>(run: (items: readonly I[]) => Promise<readonly O[]>, options: GroupCommitOptions): (item: I) => Promise<O> {
  let queue: Pending<I, O>[] = [];
  let scheduled = false;

  async function runBatch(batch: Pending<I, O>[]): Promise<void> {
    try {
      const results = await run(batch.map((p) => p.item));
      if (results.length !== batch.length) throw new Error(`group commit: ${results.length} results for ${batch.length} items`);
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      // One item alone may be what failed the statement: give each its own.
      await Promise.all(batch.map((p) => runBatch([p])));
    }
  }

  function flush(): void {
    scheduled = false;
    const all = queue;
    queue = [];
    for (let i = 0; i < all.length; i += options.maxBatch) void runBatch(all.slice(i, i + options.maxBatch));
  }

  return (item) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}
