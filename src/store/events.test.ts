/** The event insert on a real in-memory store, when a committed batch's answer is lost. */
import type { KyselyPlugin } from 'kysely';
import { describe, expect, it } from 'vitest';
import { storedApp, useMemoryStore } from '../../test/support/store-fixtures';
import type { Store } from '.';
import { createEventStore, EVENT_PAGE_MAX_BYTES, type NewEvent } from './events';
import { rowsWithin } from './page';

describe('events.insert', () => {
  let store: Store;
  useMemoryStore((s) => (store = s));

  const event = (n: number): NewEvent => ({ type: 'a.b', dataJson: `{"n":${n}}`, previousDataJson: null, channels: null, endpointIds: null, idempotencyKey: null });

  it('answers created for events whose batch committed but whose answer was lost (retried one by one, each finds its row)', async () => {
    const app = await storedApp(store);
    // The first statement runs and commits, then its caller sees an error, as when the connection
    // drops before the answer arrives.
    let lost = false;
    const loseFirstAnswer: KyselyPlugin = {
      transformQuery: (args) => args.node,
      transformResult: async (args) => {
        if (lost) return args.result;
        lost = true;
        throw new Error('Connection terminated unexpectedly');
      },
    };
    const events = createEventStore(store.db.withPlugin(loseFirstAnswer));
    const results = await Promise.all([events.insert(app.id, event(1)), events.insert(app.id, event(2))]);
    expect(lost).toBe(true);
    expect(results.map((r) => r?.created)).toEqual([true, true]);
    const stored = await store.events.list(app.id, { limit: 10 });
    expect(stored.data.map((e) => e.id).sort()).toEqual(results.map((r) => r!.event.id).sort());
  });
});

describe('events.list', () => {
  let store: Store;
  useMemoryStore((s) => (store = s));

  it('ends a page early once its events pass EVENT_PAGE_MAX_BYTES of data, and the next page goes on from there', async () => {
    const app = await storedApp(store);
    const big = (n: number, bytes: number): NewEvent => ({ type: 'a.b', dataJson: JSON.stringify({ n, pad: 'x'.repeat(bytes) }), previousDataJson: null, channels: null, endpointIds: null, idempotencyKey: null });
    // Oldest first: two small events, then three of 40% of the budget each.
    const ids: string[] = [];
    for (const e of [big(1, 10), big(2, 10), big(3, 0.4 * EVENT_PAGE_MAX_BYTES), big(4, 0.4 * EVENT_PAGE_MAX_BYTES), big(5, 0.4 * EVENT_PAGE_MAX_BYTES)]) ids.push((await store.events.insert(app.id, e))!.event.id);
    const first = await store.events.list(app.id, { limit: 10 });
    expect(first.data.map((e) => e.id)).toEqual([ids[4], ids[3]]);
    expect(first.nextCursor).toBe(ids[3]);
    const second = await store.events.list(app.id, { limit: 10, cursor: first.nextCursor! });
    expect(second.data.map((e) => e.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect(second.nextCursor).toBeNull();
    // The limit still counts as before.
    expect(await store.events.list(app.id, { limit: 1, cursor: ids[2] })).toMatchObject({ data: [expect.objectContaining({ id: ids[1], dataJson: '{"n":2,"pad":"xxxxxxxxxx"}' })], nextCursor: ids[1] });
  });
});

describe('rowsWithin', () => {
  it.each([
    ['all fit', [1, 2, 3], 10, 100, 3],
    ['the limit first', [1, 2, 3], 2, 100, 2],
    ['stops before the row that passes the budget', [40, 40, 40], 10, 100, 2],
    ['exactly the budget fits', [50, 50, 1], 10, 100, 2],
    ['a first row over the budget alone', [500, 1], 10, 100, 1],
    ['no rows', [], 10, 100, 0],
  ])('%s', (_name, sizes, limit, maxBytes, n) => {
    expect(rowsWithin(sizes, limit, maxBytes)).toBe(n);
  });
});
