/**
 * The schema cache on a real in-memory store and a real checking thread: one read per type per
 * TTL, changes through this process at once, changes through another process after the TTL; and
 * what happens to an event whose type's schema cannot be applied.
 */
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { Json } from '../domain/model';
import type { Store } from '../store';
import { useMemoryStore } from '../../test/support/store-fixtures';
import { createEventSchemas, EVENT_SCHEMA_TTL_MS } from './event-schemas';
import { createSchemaChecker, SchemaCheckerUnavailable, SchemaReplyProblem, type SchemaChecker } from './schema-checker';

/** An object whose `v` is anyOf over the same $ref, `depth` levels deep: exponential on data that fails. */
function doubling(depth: number): Json {
  const $defs: Record<string, Json> = { [`l${depth}`]: { type: 'string' } };
  for (let i = 0; i < depth; i++) $defs[`l${i}`] = { anyOf: [{ $ref: `#/$defs/l${i + 1}` }, { $ref: `#/$defs/l${i + 1}` }] };
  return { $defs, type: 'object', properties: { v: { $ref: '#/$defs/l0' } } };
}

describe('createEventSchemas', () => {
  let store: Store;
  useMemoryStore((s) => (store = s));
  const checker = createSchemaChecker();
  afterAll(() => checker.close());

  /** The store, counting the catalog reads the cache makes. */
  function counted() {
    const reads: string[] = [];
    const counting = { ...store, eventTypes: { ...store.eventTypes, get: (name: string) => (reads.push(name), store.eventTypes.get(name)) } };
    return { counting, reads };
  }
  const logged = () => {
    const lines: string[] = [];
    return { lines, logger: pino({ level: 'error' }, { write: (l: string) => void lines.push(l) }) };
  };

  it("reads a type once per TTL, uncatalogued names included, and sees another process's change after it", async () => {
    await store.eventTypes.create({ name: 'cache.a', description: '', example: { n: 1 }, schema: { required: ['n'] } });
    const { counting, reads } = counted();
    let clock = 0;
    const schemas = createEventSchemas({ store: counting, logger: pino({ level: 'silent' }), checker, ttlMs: 1_000, now: () => clock });

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

  it('forget() makes the next event read the type again (a change through this process)', async () => {
    const { counting, reads } = counted();
    const schemas = createEventSchemas({ store: counting, logger: pino({ level: 'silent' }), checker, now: () => 0 });
    expect(await schemas.issues('cache.b', { n: 'x' })).toEqual([]);
    await store.eventTypes.create({ name: 'cache.b', description: '', example: { n: 1 }, schema: { properties: { n: { type: 'integer' } } } });
    schemas.forget('cache.b');
    expect(await schemas.issues('cache.b', { n: 'x' })).toEqual([{ path: '/n', message: 'must be integer' }]);
    expect(reads).toEqual(['cache.b', 'cache.b']);
  });

  it('a failed read is not kept; a stored schema that no longer compiles accepts the event and logs, once', async () => {
    let fail = true;
    let at = 0;
    const { lines, logger } = logged();
    const flaky = { ...store, eventTypes: { ...store.eventTypes, get: (name: string) => (fail ? Promise.reject(new Error('db down')) : store.eventTypes.get(name)) } };
    const schemas = createEventSchemas({ store: flaky, logger, checker, now: () => at });
    await store.eventTypes.create({ name: 'cache.c', description: '', example: {}, schema: { $schema: 'http://json-schema.org/draft-04/schema#' } });
    await expect(schemas.issues('cache.c', {})).rejects.toThrow('db down');
    fail = false;
    expect(await schemas.issues('cache.c', {})).toEqual([]);
    // Re-read after the TTL: the same text is not tried, nor logged, again.
    at += EVENT_SCHEMA_TTL_MS + 1;
    expect(await schemas.issues('cache.c', {})).toEqual([]);
    expect(lines.filter((l) => l.includes('no longer compiles'))).toHaveLength(1);
  });

  it('a schema that fails while checking some data (not the data failing it) accepts that event, logs once, and still checks others', async () => {
    await store.eventTypes.create({ name: 'cache.e', description: '', example: {}, schema: { required: ['n'] } });
    const { lines, logger } = logged();
    // As a reference cycle that only some data reaches: it overflows the stack on `{ loop: … }`.
    const overflowing: Pick<SchemaChecker, 'check'> = {
      check: async (schema, data, opts) => {
        if (typeof data === 'object' && data !== null && 'loop' in data) throw new SchemaReplyProblem('check', 'The schema cannot be applied: Maximum call stack size exceeded', []);
        return checker.check(schema, data, opts);
      },
    };
    const schemas = createEventSchemas({ store, logger, checker: overflowing, now: () => 0 });
    expect(await schemas.issues('cache.e', { loop: 1 })).toEqual([]);
    expect(await schemas.issues('cache.e', { loop: 2 })).toEqual([]);
    expect(await schemas.issues('cache.e', {})).toHaveLength(1);
    expect(lines.filter((l) => l.includes('cannot be applied; its events are accepted unchecked'))).toHaveLength(1);
  });

  it("a check the thread timed over budget keeps its answer; the schema's later events go unchecked, logged once", async () => {
    await store.eventTypes.create({ name: 'cache.timed', description: '', example: { n: 1 }, schema: { required: ['n'] } });
    const { lines, logger } = logged();
    let calls = 0;
    const timedSlow: Pick<SchemaChecker, 'check'> = { check: async (...args) => (calls++, { ...(await checker.check(...args)), ms: 300 }) };
    const schemas = createEventSchemas({ store, logger, checker: timedSlow, now: () => 0 });
    expect(await schemas.issues('cache.timed', {})).toHaveLength(1);
    expect(await schemas.issues('cache.timed', {})).toEqual([]);
    expect(calls).toBe(1);
    expect(lines.filter((l) => l.includes('took too long'))).toHaveLength(1);
  });

  it('no checking thread (a broken install): the error goes up (a 503, errors.ts), the event is not accepted unchecked', async () => {
    await store.eventTypes.create({ name: 'cache.nothread', description: '', example: { n: 1 }, schema: { required: ['n'] } });
    const broken: Pick<SchemaChecker, 'check'> = { check: () => Promise.reject(new SchemaCheckerUnavailable('no thread')) };
    const schemas = createEventSchemas({ store, logger: pino({ level: 'silent' }), checker: broken, now: () => 0 });
    await expect(schemas.issues('cache.nothread', {})).rejects.toBeInstanceOf(SchemaCheckerUnavailable);
  });

  it('a check past its deadline, on the real thread, accepts the event; the schema is not applied again until it changes', async () => {
    await store.eventTypes.create({ name: 'cache.slow', description: '', example: { v: 's' }, schema: doubling(26) });
    const { lines, logger } = logged();
    let calls = 0;
    const counting: Pick<SchemaChecker, 'check'> = { check: (...args) => (calls++, checker.check(...args)) };
    let clock = 0;
    const schemas = createEventSchemas({ store, logger, checker: counting, now: () => clock, budgetMs: 100 });
    // 2^26 paths on data that fails: minutes and gigabytes on the event loop (the test would time
    // out); here, the budget.
    expect(await schemas.issues('cache.slow', { v: 1 })).toEqual([]);
    expect(await schemas.issues('cache.slow', { v: 2 })).toEqual([]);
    expect(calls).toBe(1);
    // Re-read after the TTL: the same schema stays unapplied; a changed one is applied again.
    clock += EVENT_SCHEMA_TTL_MS + 1;
    expect(await schemas.issues('cache.slow', { v: 3 })).toEqual([]);
    expect(calls).toBe(1);
    await store.eventTypes.update('cache.slow', { schema: { required: ['m'] } });
    clock += EVENT_SCHEMA_TTL_MS + 1;
    expect(await schemas.issues('cache.slow', {})).toEqual([{ path: '', message: "must have required property 'm'" }]);
    expect(lines.filter((l) => l.includes('took too long'))).toHaveLength(1);
    // The thread was replaced: checks go on.
    expect((await checker.check(JSON.stringify({ type: 'string' }), 1, { allIssues: false, deadlineMs: 5_000 })).issues).toHaveLength(1);
  });
});
