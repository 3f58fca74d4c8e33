/**
 * The thread that checks data against event-type schemas for the API (schema-checker.ts). A JSON
 * Schema can take exponential time or memory to check, and a check is synchronous: on the API's
 * event loop it would hold every request, and a large enough one ran the process out of memory.
 * Here it holds only this thread, which the API ends when a check runs past its budget.
 */
import { parentPort } from 'node:worker_threads';
import { compileSchema, SchemaProblem, type DataCheck, type SchemaIssue } from '../domain/json-schema';
import { schemaProbes } from '../domain/schema-probes';

/** Checks `data`; or vets a schema before it is stored: its example's issues and its slowest probe. */
export type SchemaJob = { id: number; schema: string } & ({ kind: 'check'; data: unknown; allIssues: boolean } | { kind: 'vet'; example: unknown; probeBudgetMs: number });

export type SchemaReply = { id: number } & (
  /** `ms`: the check of `data` alone, timed here (compiling not included). */
  | { ok: true; issues: SchemaIssue[]; ms: number; slowProbe?: { ms: number; probe: string } }
  | { ok: false; phase: 'compile' | 'check'; message: string; issues: SchemaIssue[] }
);

/** Compiled schemas kept, by text; the catalog is the admin's, so this is generous. */
const MAX_COMPILED = 1_000;
const compiled = new Map<string, DataCheck>();

function checkFor(schema: string): DataCheck {
  let check = compiled.get(schema);
  if (!check) {
    check = compileSchema(JSON.parse(schema));
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(schema, check);
  }
  return check;
}

function timed(check: DataCheck, value: unknown): number {
  const started = performance.now();
  check(value, { allIssues: true });
  return performance.now() - started;
}

/** The first probe over budget, timed again first so that one GC pause refuses nothing. */
function slowProbe(check: DataCheck, example: unknown, budgetMs: number): { ms: number; probe: string } | undefined {
  for (const probe of schemaProbes(example)) {
    const ms = timed(check, probe);
    if (ms > budgetMs && Math.min(ms, timed(check, probe)) > budgetMs) return { ms, probe: JSON.stringify(probe) };
  }
  return undefined;
}

function run(job: SchemaJob): SchemaReply {
  let check: DataCheck;
  try {
    check = checkFor(job.schema);
  } catch (err) {
    if (!(err instanceof SchemaProblem)) throw err;
    return { id: job.id, ok: false, phase: 'compile', message: err.message, issues: err.issues };
  }
  try {
    const started = performance.now();
    if (job.kind === 'check') {
      const issues = check(job.data, { allIssues: job.allIssues });
      return { id: job.id, ok: true, issues, ms: performance.now() - started };
    }
    const issues = check(job.example, { allIssues: true });
    const slow = slowProbe(check, job.example, job.probeBudgetMs);
    return { id: job.id, ok: true, issues, ms: performance.now() - started, ...(slow && { slowProbe: slow }) };
  } catch (err) {
    if (!(err instanceof SchemaProblem)) throw err;
    return { id: job.id, ok: false, phase: 'check', message: err.message, issues: err.issues };
  }
}

parentPort?.on('message', (job: SchemaJob) => parentPort!.postMessage(run(job)));
parentPort?.postMessage('ready');
