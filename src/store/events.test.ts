/** The event insert on a real in-memory store, when a committed batch's answer is lost. */
import type { KyselyPlugin } from 'kysely';
import { describe, expect, it } from 'vitest';
import { storedApp, useMemoryStore } from '../../test/support/store-fixtures';
import type { Store } from '.';
import { createEventStore, type NewEvent } from './events';

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
