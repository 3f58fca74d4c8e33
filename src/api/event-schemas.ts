/**
 * Checking event data against its type's JSON Schema as it is posted.
 *
 * Posting an event must not cost a statement per event (P6), so each type's schema is read once
 * and kept for `ttlMs`. A change through this process's API applies at once (`forget`); one made
 * through another API process applies here within `ttlMs`. Types without a schema, and names not
 * in the catalog, are kept too, so an uncatalogued type costs nothing after its first event.
 *
 * The check itself runs on the schema checker's thread (schema-checker.ts): one slower than
 * SLOW_CHECK_MS keeps its answer but stops the schema being applied, and one with no answer by
 * DEADLINE_FACTOR times that (plus the checker's allowance for compiling) is ended with its thread:
 * a schema can take exponential time or memory on some data, and one event must not hold the API
 * or end the process. A schema the producer cannot fix must not lose their events either: one
 * that no longer compiles, fails while checking, or runs past the budget lets the event through
 * unchecked, and the operator is told once. (No thread at all is a 503: errors.ts.) A schema past the budget, or that no longer compiles,
 * is not applied again until it changes, so each such schema costs one budget per process.
 */
import type { SchemaIssue } from '../domain/json-schema';
import type { Logger } from '../logger';
import type { Store } from '../store';
import { SchemaReplyProblem, SchemaTooSlow, type SchemaChecker } from './schema-checker';

export const EVENT_SCHEMA_TTL_MS = 5_000;

/**
 * Longest one event's check may take before the schema is no longer applied (see `issues`). Five
 * times the budget a schema's probes get when it is stored (routes/event-types.ts).
 */
export const SLOW_CHECK_MS = 250;
/**
 * A check that has not answered by this many budgets is ended with its thread. The thread's own
 * timing decides what is slow; this only bounds one that would never answer.
 */
const DEADLINE_FACTOR = 4;

/** Names kept at most: beyond it the map starts again, so made-up type names cannot grow it. */
const MAX_NAMES = 10_000;
/** Schemas remembered as too slow or unusable, at most (the catalog is the admin's). */
const MAX_REMEMBERED = 1_000;

interface Entry {
  /** The schema as JSON text, or null for none. */
  schema: Promise<string | null>;
  until: number;
}

export function createEventSchemas(deps: { store: Store; logger: Logger; checker: Pick<SchemaChecker, 'check'>; ttlMs?: number; now?: () => number; budgetMs?: number }) {
  const { store, logger, checker } = deps;
  const ttlMs = deps.ttlMs ?? EVENT_SCHEMA_TTL_MS;
  const budgetMs = deps.budgetMs ?? SLOW_CHECK_MS;
  const now = deps.now ?? Date.now;
  const entries = new Map<string, Entry>();
  /** Schemas (by text) no longer applied: too slow, or no longer compiling. A changed schema is a new text. */
  const unapplied = new Set<string>();
  /** Schemas that failed while checking some event's data, already logged; still applied to others. */
  const failedOnData = new Set<string>();

  async function load(name: string): Promise<string | null> {
    const type = await store.eventTypes.get(name);
    return type?.schema === undefined || type.schema === null ? null : JSON.stringify(type.schema);
  }

  function schemaFor(name: string): Promise<string | null> {
    const at = now();
    const cached = entries.get(name);
    if (cached && cached.until > at) return cached.schema;
    if (entries.size >= MAX_NAMES) entries.clear();
    const schema = load(name);
    entries.set(name, { schema, until: at + ttlMs });
    // A failed read is not kept: the next event reads again.
    schema.catch(() => {
      if (entries.get(name)?.schema === schema) entries.delete(name);
    });
    return schema;
  }

  /** Says once why an event went through unchecked; stops applying a schema that cannot apply to any. */
  function accepted(schema: string, eventType: string, err: SchemaTooSlow | SchemaReplyProblem): void {
    const remember = (set: Set<string>) => {
      if (set.size >= MAX_REMEMBERED) set.clear();
      set.add(schema);
    };
    if (err instanceof SchemaTooSlow) {
      remember(unapplied);
      logger.error({ eventType, budgetMs, reason: err.message }, 'checking one event against a stored event-type schema took too long; its events are accepted unchecked until the schema changes');
    } else if (err.phase === 'compile') {
      // Checked when it was stored, so the schema rules changed since.
      remember(unapplied);
      logger.error({ err, eventType }, 'a stored event-type schema no longer compiles; its events are accepted unchecked');
    } else if (!failedOnData.has(schema)) {
      // The schema, not the data, is at fault (a reference cycle that this data reaches).
      remember(failedOnData);
      logger.error({ err, eventType }, 'a stored event-type schema cannot be applied; its events are accepted unchecked');
    }
  }

  return {
    /** What is wrong with `data` for event type `name`; nothing when it has no schema or `data` satisfies it. */
    async issues(name: string, data: unknown, opts?: { allIssues?: boolean }): Promise<SchemaIssue[]> {
      const schema = await schemaFor(name);
      if (schema === null || unapplied.has(schema)) return [];
      try {
        const { issues, ms } = await checker.check(schema, data, { allIssues: opts?.allIssues ?? false, deadlineMs: budgetMs * DEADLINE_FACTOR });
        // This event has its answer; the next ones of the schema would each take as long.
        if (ms > budgetMs) accepted(schema, name, new SchemaTooSlow(budgetMs));
        return issues;
      } catch (err) {
        if (!(err instanceof SchemaTooSlow || err instanceof SchemaReplyProblem)) throw err;
        accepted(schema, name, err);
        return [];
      }
    },

    /** After a change to `name` through this process: the next event reads it again. */
    forget(name: string): void {
      entries.delete(name);
    },
  };
}
export type EventSchemas = ReturnType<typeof createEventSchemas>;
