/**
 * The schema cache on a real in-memory store: one read per type per TTL, changes through this
 * process at once, changes through another process after the TTL.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Store } from '../store';
import { useMemoryStore } from '../../test/support/store-fixtures';
import { compileSchema, SchemaProblem } from '../domain/json-schema';
import { createEventSchemas, EVENT_SCHEMA_TTL_MS, SLOW_CHECK_MS } from './event-schemas';

describe('createEventSchemas', () => {
  let store: Store;
  useMemoryStore((s) => (store = s));

  /** The store, counting the catalog reads the cache makes. */
  function counted() {
    const reads: string[] = [];
    const counting = { ...store, eventTypes: { ...store.eventTypes, get: (name: string) => (reads.push(name), store.eventTypes.get(name)) } };
    return { counting, reads };
  }

  it('reads a type once per TTL, uncatalogued names included, and sees another process\'s change after it', async () => {
    await store.eventTypes.create({ name: 'cache.a', description: '', example: { n: 1 }, schema: { required: ['n'] } });
    const { counting, reads } = counted();
    let clock = 0;
    const schemas = createEventSchemas({ store: counting, logger: pino({ level: 'silent' }), ttlMs: 1_000, now: () => clock });

    expect(await schemas.issues('cache.a', {})).toEqual([{ path: '', message: "must have required property 'n'" }]);
    expect(await schemas.issues('cache.a', { n: 1 })).toEqual([]);
    expect(await schemas.issues('cache.unknown', {})).toEqual([]);
    expect(await schemas.issues('cache.unknown', {})).toEqual([]);
    expect(reads).toEqual(['cache.a', 'cache.unknown']);

    // Another process removes the schema: this one keeps it until the TTL is over.
    await store.eventTypes.update('cache.a', { schema: null });
    clock = 999;
    expect(await schemas.issues('cache.a', {})).toHaveLength(1);
    clock = 1_000;
    expect(await schemas.issues('cache.a', {})).toEqual([]);
    expect(reads).toEqual(['cache.a', 'cache.unknown', 'cache.a']);
  });

  it('compiles a schema once: a re-read after the TTL that finds the same schema compiles nothing; a changed one compiles', async () => {
    await store.eventTypes.create({ name: 'cache.d', description: '', example: { n: 1 }, schema: { required: ['n'] } });
    let clock = 0;
    let compiles = 0;
    const compile = (schema: unknown) => (compiles++, compileSchema(schema));
    const schemas = createEventSchemas({ store, logger: pino({ level: 'silent' }), ttlMs: 1_000, now: () => clock, compile });
    for (clock = 0; clock < 10_000; clock += 1_000) expect(await schemas.issues('cache.d', {})).toHaveLength(1);
    expect(compiles).toBe(1);
    await store.eventTypes.update('cache.d', { schema: { required: ['m'] } });
    clock += 1_000;
    expect(await schemas.issues('cache.d', { n: 1 })).toEqual([{ path: '', message: "must have required property 'm'" }]);
    expect(compiles).toBe(2);
  });

  it('forget() makes the next event read the type again (a change through this process)', async () => {
    const { counting, reads } = counted();
    const schemas = createEventSchemas({ store: counting, logger: pino({ level: 'silent' }), now: () => 0 });
    expect(await schemas.issues('cache.b', { n: 'x' })).toEqual([]);
    await store.eventTypes.create({ name: 'cache.b', description: '', example: { n: 1 }, schema: { properties: { n: { type: 'integer' } } } });
    schemas.forget('cache.b');
    expect(await schemas.issues('cache.b', { n: 'x' })).toEqual([{ path: '/n', message: 'must be integer' }]);
    expect(reads).toEqual(['cache.b', 'cache.b']);
  });

  it('a failed read is not kept; a stored schema that no longer compiles accepts the event and logs, once', async () => {
    let fail = true;
    let at = 0;
    const lines: string[] = [];
    const flaky = { ...store, eventTypes: { ...store.eventTypes, get: (name: string) => (fail ? Promise.reject(new Error('db down')) : store.eventTypes.get(name)) } };
    const schemas = createEventSchemas({ store: flaky, logger: pino({ level: 'error' }, { write: (l: string) => void lines.push(l) }), now: () => at });
    await store.eventTypes.create({ name: 'cache.c', description: '', example: {}, schema: { $schema: 'http://json-schema.org/draft-04/schema#' } });
    await expect(schemas.issues('cache.c', {})).rejects.toThrow('db down');
    fail = false;
    expect(await schemas.issues('cache.c', {})).toEqual([]);
    // Re-read after the TTL: the same text is not compiled, nor logged, again.
    at += EVENT_SCHEMA_TTL_MS + 1;
    expect(await schemas.issues('cache.c', {})).toEqual([]);
    expect(lines.filter((l) => l.includes('no longer compiles'))).toHaveLength(1);
  });

  it('a schema that fails while checking data (not the data failing it) accepts the event and logs, once per type', async () => {
    await store.eventTypes.create({ name: 'cache.e', description: '', example: {}, schema: { type: 'object' } });
    const lines: string[] = [];
    const overflowing = () => () => {
      throw new SchemaProblem('The schema cannot be applied: Maximum call stack size exceeded');
    };
    const schemas = createEventSchemas({ store, logger: pino({ level: 'error' }, { write: (l: string) => void lines.push(l) }), now: () => 0, compile: overflowing });
    expect(await schemas.issues('cache.e', { a: 1 })).toEqual([]);
    expect(await schemas.issues('cache.e', { a: 2 })).toEqual([]);
    expect(lines.filter((l) => l.includes('cannot be applied; its events are accepted unchecked'))).toHaveLength(1);
  });

  it('a check that takes too long on one event is not applied again until the schema changes', async () => {
    await store.eventTypes.create({ name: 'cache.slow', description: '', example: {}, schema: { required: ['n'] } });
    const lines: string[] = [];
    let calls = 0;
    // Slow on its first event only, as a slow path that only some data takes.
    const slowOnce = (schema: unknown) => {
      const check = compileSchema(schema);
      return (data: unknown) => {
        if (calls++ === 0) for (const until = performance.now() + SLOW_CHECK_MS + 20; performance.now() < until; );
        return check(data);
      };
    };
    let clock = 0;
    const schemas = createEventSchemas({ store, logger: pino({ level: 'error' }, { write: (l: string) => void lines.push(l) }), now: () => clock, compile: slowOnce });
    // The slow event still gets its answer.
    expect(await schemas.issues('cache.slow', {})).toHaveLength(1);
    expect(await schemas.issues('cache.slow', {})).toEqual([]);
    expect(calls).toBe(1);
    // The same schema re-read after the TTL stays unapplied; a changed one is applied again.
    clock += EVENT_SCHEMA_TTL_MS + 1;
    expect(await schemas.issues('cache.slow', {})).toEqual([]);
    await store.eventTypes.update('cache.slow', { schema: { required: ['m'] } });
    clock += EVENT_SCHEMA_TTL_MS + 1;
    expect(await schemas.issues('cache.slow', {})).toEqual([{ path: '', message: "must have required property 'm'" }]);
    expect(lines.filter((l) => l.includes('took too long'))).toHaveLength(1);
  });
});
