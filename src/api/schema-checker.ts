/**
 * Runs event-type schema checks on a thread of their own (schema-worker.ts), one at a time, each
 * within a time budget. A check past its budget, or one that runs the thread out of memory, ends
 * the thread: the API's event loop and heap never hold it. The next check starts a new thread.
 *
 * Two clocks: the thread times each check itself (compiling excluded) and says how long it took,
 * which is what callers judge a schema by; the budget here is only the hard deadline that ends a
 * check that would never answer, with room for a first compile and for this event loop's stalls.
 *
 * What must stay true: a job's deadline counts from when the thread takes it, not from the
 * thread's start (loading the schema library takes longer than a check may), and a job is
 * answered exactly once: with the thread's reply, SchemaTooSlow, SchemaProblem, or
 * SchemaCheckerUnavailable when no thread can start.
 */
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SchemaProblem, type SchemaIssue } from '../domain/json-schema';
import type { SchemaJob, SchemaReply } from './schema-worker';

/** The check ran past its deadline, or out of the thread's heap; the thread was ended. */
export class SchemaTooSlow extends Error {
  constructor(
    readonly budgetMs: number,
    /** What happened, after "the check": `ran past its deadline of 2000 ms`, or ran the thread out of heap. */
    readonly reason = `ran past its deadline of ${budgetMs} ms`,
  ) {
    super(`The check ${reason}`);
  }
}

/** The thread could not start (a broken install): no schema can be checked, whichever it is. */
export class SchemaCheckerUnavailable extends Error {}

/** Heap the thread may use: a check that needs more is a schema that cannot be applied. */
const THREAD_HEAP_MB = 256;
/** Room a schema's first check on a thread gets for compiling it. */
const COMPILE_ALLOWANCE_MS = 2_000;

type Job = { kind: 'check'; data: unknown; allIssues: boolean } | { kind: 'vet'; example: unknown; probeBudgetMs: number };
type Ok = Extract<SchemaReply, { ok: true }>;

interface Pending {
  job: SchemaJob;
  budgetMs: number;
  resolve: (reply: Ok) => void;
  reject: (err: Error) => void;
}

/** The compile or check error of a reply, as the SchemaProblem the callers know; `phase` says which. */
export class SchemaReplyProblem extends SchemaProblem {
  constructor(
    readonly phase: 'compile' | 'check',
    message: string,
    issues: SchemaIssue[],
  ) {
    super(message, issues);
  }
}

export function createSchemaChecker() {
  let worker: Worker | undefined;
  let ready: Promise<Worker> | undefined;
  let nextId = 1;
  const queue: Pending[] = [];
  let current: Pending | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  /** Schemas the current thread has compiled: their checks need no compile allowance. */
  let compiledHere = new Set<string>();

  function spawn(): Promise<Worker> {
    // Under tsx (development, tests) the thread loads the TypeScript source through tsx's API,
    // found from here (an eval'd thread resolves from the working directory); built, it loads the
    // compiled file. No execArgv: the thread needs none of this process's loaders or flags.
    const entry = join(__dirname, `schema-worker${extname(__filename)}`);
    const options = { execArgv: [], resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB } };
    const w =
      extname(__filename) === '.ts'
        ? new Worker(`require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).require(${JSON.stringify(entry)}, ${JSON.stringify(__filename)})`, { ...options, eval: true })
        : new Worker(entry, options);
    compiledHere = new Set();
    w.unref();
    worker = w;
    let isReady = false;
    return new Promise((resolve, reject) => {
      // Before 'ready', a failure rejects the start (pump fails the job); after, it fails the job under way.
      const gone = (err: Error) => {
        if (!isReady) return reject(err);
        if (worker !== w) return; // ended by a timeout, already answered
        worker = undefined;
        ready = undefined;
        fail(err);
      };
      w.on('message', (message: SchemaReply | 'ready') => {
        if (message !== 'ready') return settle(w, message);
        isReady = true;
        resolve(w);
      });
      w.on('error', (err: NodeJS.ErrnoException) => {
        // Out of memory: as costly as a check past its deadline, and so for its schema's queued checks.
        if (err.code === 'ERR_WORKER_OUT_OF_MEMORY' && isReady && worker === w && current) return abandon(current, `ran the checking thread out of its ${THREAD_HEAP_MB} MB heap`);
        gone(new SchemaReplyProblem('check', `The schema cannot be applied: ${err.message}`, []));
      });
      w.on('exit', () => gone(new SchemaReplyProblem('check', 'The schema cannot be applied: its check ended the checking thread', [])));
    });
  }

  function settle(w: Worker, reply: SchemaReply): void {
    if (worker !== w || !current || reply.id !== current.job.id) return;
    const { resolve, reject } = finish();
    if (reply.ok) resolve(reply);
    else reject(new SchemaReplyProblem(reply.phase, reply.message, reply.issues));
    pump();
  }

  /** Ends the job under way with `err` and starts the next on a new thread. */
  function fail(err: Error): void {
    if (!current) return;
    finish().reject(err);
    pump();
  }

  function finish(): Pending {
    const done = current!;
    current = undefined;
    clearTimeout(timer);
    return done;
  }

  function pump(): void {
    if (current || closed || queue.length === 0) return;
    current = queue.shift()!;
    const job = current;
    ready ??= spawn();
    ready.then(
      (w) => {
        if (current !== job) return;
        const deadlineMs = job.budgetMs + (compiledHere.has(job.job.schema) ? 0 : COMPILE_ALLOWANCE_MS);
        compiledHere.add(job.job.schema);
        timer = setTimeout(() => {
          // Ending the thread is the only way to stop a synchronous check.
          // The deadline named is the one that ran out: the budget, with any allowance for compiling.
          if (current === job) abandon(job, `ran past its deadline of ${deadlineMs} ms`);
        }, deadlineMs);
        w.postMessage(job.job);
      },
      (err: Error) => {
        ready = undefined;
        fail(new SchemaCheckerUnavailable(`The schema checker's thread could not start: ${err.message}`, { cause: err }));
      },
    );
  }

  /**
   * Ends the thread under `job` and answers it SchemaTooSlow. Checks of the same schema queued
   * behind it would each cost as much: they are answered so too, now.
   */
  function abandon(job: Pending, reason?: string): void {
    const w = worker;
    worker = undefined;
    ready = undefined;
    void w?.terminate();
    for (const same of queue.filter((p) => p.job.schema === job.job.schema)) {
      queue.splice(queue.indexOf(same), 1);
      // Never run: refused with the check of its schema that did not answer.
      same.reject(new SchemaTooSlow(same.budgetMs, `was queued behind a check of the same schema that ${reason ?? `ran past its deadline of ${job.budgetMs} ms`}`));
    }
    fail(new SchemaTooSlow(job.budgetMs, reason));
  }

  function submit(schema: string, job: Job, budgetMs: number): Promise<Ok> {
    if (closed) return Promise.reject(new Error('the schema checker is closed'));
    return new Promise((resolve, reject) => {
      queue.push({ job: { id: nextId++, schema, ...job }, budgetMs, resolve, reject });
      pump();
    });
  }

  return {
    /**
     * The issues of `data` against the schema (JSON text), and how long the check took on the
     * thread. `deadlineMs`: when to end a check that has not answered (plus a first compile's
     * allowance). Rejects with SchemaReplyProblem, SchemaTooSlow or SchemaCheckerUnavailable.
     */
    async check(schema: string, data: unknown, opts: { allIssues: boolean; deadlineMs: number }): Promise<{ issues: SchemaIssue[]; ms: number }> {
      const { issues, ms } = await submit(schema, { kind: 'check', data, allIssues: opts.allIssues }, opts.deadlineMs);
      return { issues, ms };
    },

    /** Before a schema is stored: the example's issues, and the first probe over `probeBudgetMs`, if any. */
    vet(schema: string, example: unknown, opts: { probeBudgetMs: number; budgetMs: number }): Promise<Pick<Ok, 'issues' | 'slowProbe'>> {
      return submit(schema, { kind: 'vet', example, probeBudgetMs: opts.probeBudgetMs }, opts.budgetMs);
    },

    async close(): Promise<void> {
      closed = true;
      for (const pending of queue.splice(0)) pending.reject(new Error('the schema checker is closed'));
      fail(new Error('the schema checker is closed'));
      const w = worker;
      worker = undefined;
      ready = undefined;
      await w?.terminate();
    },
  };
}
export type SchemaChecker = ReturnType<typeof createSchemaChecker>;
