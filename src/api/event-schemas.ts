/**
 * The event types' compiled JSON Schemas, for checking event data as it is posted.
 *
 * Posting an event must not cost a statement per event (P6), so each type's schema is read once
 * and kept for `ttlMs`. A change through this process's API applies at once (`forget`); one made
 * through another API process applies here within `ttlMs`. Types without a schema, and names not
 * in the catalog, are kept too, so an uncatalogued type costs nothing after its first event.
 * Compiled checks are kept by the schema's text, apart from the names: a re-read that finds the
 * same schema (every `ttlMs`) compiles nothing.
 */
import { compileSchema, SchemaProblem, type DataCheck, type SchemaIssue } from '../domain/json-schema';
import type { Logger } from '../logger';
import type { Store } from '../store';

export const EVENT_SCHEMA_TTL_MS = 5_000;

/**
 * Longest one event's check may take before the schema is no longer applied (see `issues`). Five
 * times the budget a schema's probes get when it is stored (routes/event-types.ts).
 */
export const SLOW_CHECK_MS = 250;

/** Names kept at most: beyond it the map starts again, so made-up type names cannot grow it. */
const MAX_NAMES = 10_000;
/** Distinct schemas kept compiled at most (the catalog is the admin's, so this is generous). */
const MAX_COMPILED = 1_000;

interface Entry {
  check: Promise<DataCheck | null>;
  until: number;
}

export function createEventSchemas(deps: { store: Store; logger: Logger; ttlMs?: number; now?: () => number; compile?: (schema: unknown) => DataCheck }) {
  const { store, logger } = deps;
  const compile = deps.compile ?? compileSchema;
  const ttlMs = deps.ttlMs ?? EVENT_SCHEMA_TTL_MS;
  const now = deps.now ?? Date.now;
  const entries = new Map<string, Entry>();
  /** By schema text: its check, or null for a schema that no longer compiles (logged once). */
  const compiled = new Map<string, DataCheck | null>();
  /** Types whose schema failed while checking data, already logged. */
  const unusable = new Set<string>();
  /** Checks that took over SLOW_CHECK_MS on one event: not applied again until the schema changes. */
  const slow = new WeakSet<DataCheck>();

  function compiledCheck(name: string, schema: unknown): DataCheck | null {
    const text = JSON.stringify(schema);
    const known = compiled.get(text);
    if (known !== undefined) return known;
    let check: DataCheck | null;
    try {
      check = compile(schema);
    } catch (err) {
      // Checked when it was stored, so this means the schema rules changed since: accept the
      // event (it must not be lost to a rule the producer cannot see) and say so, once.
      if (!(err instanceof SchemaProblem)) throw err;
      logger.error({ err, eventType: name }, 'a stored event-type schema no longer compiles; its events are accepted unchecked');
      check = null;
    }
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(text, check);
    return check;
  }

  async function load(name: string): Promise<DataCheck | null> {
    const type = await store.eventTypes.get(name);
    if (type?.schema === undefined || type.schema === null) return null;
    return compiledCheck(name, type.schema);
  }

  function checkFor(name: string): Promise<DataCheck | null> {
    const at = now();
    const cached = entries.get(name);
    if (cached && cached.until > at) return cached.check;
    if (entries.size >= MAX_NAMES) entries.clear();
    const check = load(name);
    entries.set(name, { check, until: at + ttlMs });
    // A failed read is not kept: the next event reads again.
    check.catch(() => {
      if (entries.get(name)?.check === check) entries.delete(name);
    });
    return check;
  }

  return {
    /** What is wrong with `data` for event type `name`; nothing when it has no schema or `data` satisfies it. */
    async issues(name: string, data: unknown, opts?: { allIssues?: boolean }): Promise<SchemaIssue[]> {
      const check = await checkFor(name);
      if (!check || slow.has(check)) return [];
      try {
        const started = performance.now();
        const found = check(data, opts);
        const ms = performance.now() - started;
        if (ms > SLOW_CHECK_MS) {
          // The create-time probes missed a slow path. Every event of the type would hold the
          // event loop this long, for every application: accepted unchecked instead, and said once.
          slow.add(check);
          logger.error({ eventType: name, ms: Math.round(ms) }, 'checking one event against a stored event-type schema took too long; its events are accepted unchecked until the schema changes');
        }
        return found;
      } catch (err) {
        // The schema, not the data, is at fault (a stored schema that today's rules refuse at
        // compile time does not get here): as for one that no longer compiles, the event is
        // accepted unchecked, and the operator told once per type.
        if (!(err instanceof SchemaProblem)) throw err;
        if (!unusable.has(name)) logger.error({ err, eventType: name }, 'a stored event-type schema cannot be applied; its events are accepted unchecked');
        unusable.add(name);
        return [];
      }
    },

    /** After a change to `name` through this process: the next event reads it again. */
    forget(name: string): void {
      entries.delete(name);
      unusable.delete(name);
    },
  };
}
export type EventSchemas = ReturnType<typeof createEventSchemas>;
