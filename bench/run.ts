/**
 * `npm run bench`: Hookline's throughput, latency and cost per delivery (issue 6), each figure next
 * to the references measured in the same run (ceiling, temporal-floor) and against its target.
 *   BENCH_QUICK=1     every scenario scaled down to seconds: a smoke run, not a measurement
 *   BENCH_ONLY=P1,P4  only these scenarios (the references always run: every ratio needs them)
 *   BENCH_BUDGET_S    whole-run watchdog in seconds (default 12 min quick, 4 h full)
 *   BENCH_P5_PARKED   how many deliveries P5 parks (default 300 quick, 20,000 full)
 *   BENCH_P7_CAPS     P7's per-endpoint caps, one stack each (default: 20, then 100,000 = none)
 *   BENCH_P7_TASK_SLOTS  P7's worker slots (HOOKLINE_WORKER_TASK_SLOTS; default its default)
 *   DATABASE_URL      PostgreSQL for the stack (else PGlite); P5 and P6 without it start a private
 *                     PostgreSQL when the server binaries exist, else run on PGlite and say so.
 *                     P5 runs the worker in a process of its own, on PostgreSQL.
 * Progress goes to stderr, the table to stdout, everything to bench/results/<timestamp>.json.
 * A watchdog bounds the whole run; each scenario bounds its own counts and waits.
 */
import { join } from 'node:path';
import { DEFAULT_API_MAX_EVENT_LOOP_DELAY_MS } from '../src/config';
import { apiClient } from './lib-api';
import { startPrivatePostgres, type PrivatePostgres } from './lib-proc';
import { newReport, renderTable, writeReport, type Row, type ScenarioOutput } from './lib-report';
import { log, parseOnly, round, scaleFor, type ScenarioId } from './lib-util';
import { warmUp, type Ctx } from './scenarios/context';
import { p1Rows, p1Throughput, p2Latency, type P1Result } from './scenarios/p1-p2';
import { p3FanOut, p4History } from './scenarios/p3-p4';
import { p5Parked } from './scenarios/p5';
import { p6Ingest } from './scenarios/p6';
import { P7_NO_CAP, p7NoisyNeighbour, p7Rows, type P7Result } from './scenarios/p7';
import { DEFAULT_MAX_IN_FLIGHT_PER_ENDPOINT } from '../src/domain/endpoint-gate';
import { measureCeiling, measureFloor, referenceRows, type References } from './scenarios/references';
import { startCountingReceiver, startSplitStack, startStack, type CountingReceiver } from './support';
import type { HistoryBreakdown } from './lib-history';

const quick = ['1', 'true', 'yes'].includes(process.env.BENCH_QUICK ?? '');
const scale = scaleFor(quick);
// An override of the whole-run budget, mainly to check that the watchdog really ends a run.
if (Number(process.env.BENCH_BUDGET_S) > 0) scale.budgetMs = Number(process.env.BENCH_BUDGET_S) * 1000;
const selected = parseOnly(process.env.BENCH_ONLY);
const report = newReport(quick);
const refRows: Row[] = [];
const scenarioRows = new Map<ScenarioId, Row[]>();
const cleanups: (() => Promise<void> | void)[] = [];
let finishing = false;

/** Prints and writes whatever was measured, cleans up (bounded), and exits: the bench always ends. */
async function finish(exitCode: number): Promise<never> {
  if (finishing) process.exit(exitCode);
  finishing = true;
  report.finishedAt = new Date().toISOString();
  report.rows = [...refRows, ...[...scenarioRows.entries()].sort(([a], [b]) => a.localeCompare(b)).flatMap(([, rows]) => rows)];
  const cleanup = (async () => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch((err: unknown) => log(`cleanup: ${String(err)}`));
  })();
  await Promise.race([cleanup, new Promise((r) => setTimeout(r, 30_000))]);
  const code = report.code ? `${report.code.commit}${report.code.srcModified ? ' + uncommitted src changes' : ''}` : 'unknown';
  console.log(`\nHookline bench${quick ? ' (BENCH_QUICK: smoke figures, not measurements)' : ''} — code ${code} — stores: ${JSON.stringify(report.stores)}\n`);
  console.log(renderTable(report.rows));
  const p4 = report.scenarios.P4;
  if (p4 && typeof p4.breakdownMarkdown === 'string') console.log(`\nHistory events by type (P4):\n${p4.breakdownMarkdown}`);
  for (const note of report.notes) console.log(`note: ${note}`);
  for (const err of report.errors) console.log(`error: ${err}`);
  log(`results written to ${writeReport(report, join(__dirname, 'results'))}`);
  process.exit(exitCode);
}

function record(id: ScenarioId, out: ScenarioOutput): void {
  scenarioRows.set(id, [...(scenarioRows.get(id) ?? []), ...out.rows]);
  report.scenarios[id] = { ...(report.scenarios[id] ?? {}), ...out.details };
}

/** Runs one scenario; a failure is recorded and the run goes on to the next. */
async function attempt(id: ScenarioId, fn: () => Promise<void>): Promise<void> {
  if (!selected.has(id)) return;
  log(`${id}: start`);
  const started = performance.now();
  try {
    await fn();
  } catch (err) {
    report.errors.push(`${id}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    scenarioRows.set(id, [...(scenarioRows.get(id) ?? []), { id, metric: 'scenario failed (see errors)', value: NaN, unit: '', pass: false }]);
    log(`${id}: FAILED: ${String(err)}`);
  }
  log(`${id}: done in ${round((performance.now() - started) / 1000)} s`);
}

let refs: References | undefined;

/** One whole Hookline (dev server, store, worker, API) for the scenarios in `fn`; stopped after. */
async function onStack(store: string, env: Record<string, string>, ceiling: Awaited<ReturnType<typeof measureCeiling>>, receiver: CountingReceiver, fn: (ctx: Ctx) => Promise<void>, split = false) {
  log(`starting a Hookline stack on ${store}${split ? ', worker in its own process' : ''} (dev server, worker bundle: takes a while)`);
  const stackStarted = performance.now();
  const stackEnv = {
    // The per-key rate limit would cap every scenario at 100 events/s: the bench measures the
    // system behind it. P6 reports what happens past capacity without the limiter's help.
    HOOKLINE_API_RATE_LIMIT_PER_S: '1000000',
    HOOKLINE_API_RATE_BURST: '1000000',
    HOOKLINE_MAX_ENDPOINTS_PER_APP: String(Math.max(50, scale.p3.endpoints)),
    ...env,
  };
  const stack = split && env.DATABASE_URL ? await startSplitStack(env.DATABASE_URL, stackEnv) : await startStack(stackEnv);
  const startMs = performance.now() - stackStarted;
  const stop = () => stack.stop();
  cleanups.push(stop);
  const api = apiClient(stack.hookline.apiUrl!, stack.adminKey);
  try {
    if (!refs) {
      log('temporal-floor: bundling the floor worker and measuring');
      const floor = await measureFloor(stack, scale);
      const r = referenceRows(ceiling, floor);
      refs = r.refs;
      refRows.splice(0, refRows.length, ...r.rows);
      report.references = { ceiling, floor };
    }
    const ctx: Ctx = { stack, api, receiver, scale, refs: refs!, store };
    const warm = await warmUp(ctx);
    log(`warm-up: 10 deliveries in ${round(warm.warmMs)} ms; idle stack: ${round(warm.idle.selfCores, 2)} cores here, ${round(warm.idle.serverCores, 2)} dev server`);
    report.stacks[store] = { startMs, warm };
    refRows.push({ id: 'ref', metric: `idle stack CPU (${store})`, value: warm.idle.selfCores, unit: 'cores', note: `dev server ${round(warm.idle.serverCores, 2)} cores idle; started in ${round(startMs / 1000)} s; this process idle after warm-up: RSS ${round(warm.rssMb)} MB, heap ${round(warm.heapMb)} MB, external ${round(warm.externalMb)} MB` });
    await fn(ctx);
  } finally {
    await api.close();
    cleanups.splice(cleanups.indexOf(stop), 1);
    await stop();
  }
}

async function main() {
  const watchdog = setTimeout(() => {
    report.errors.push(`watchdog: the run exceeded its ${scale.budgetMs / 60_000} min budget`);
    void finish(2);
  }, scale.budgetMs);
  watchdog.unref();
  process.once('SIGINT', () => {
    report.errors.push('interrupted (SIGINT)');
    void finish(130);
  });
  log(`${quick ? 'QUICK smoke run' : 'full run'}: ${[...selected].join(', ')}`);

  const receiver = await startCountingReceiver();
  cleanups.push(() => receiver.close());
  // The ceiling first, while this process is quiet: no stack, no worker, no Temporal.
  const ceiling = await measureCeiling(receiver, scale);
  refRows.push(...referenceRows(ceiling, undefined).rows);
  report.references = { ceiling };

  const mainStore = process.env.DATABASE_URL ? 'postgresql' : 'pglite';
  let privatePg: PrivatePostgres | undefined;
  if ((selected.has('P6') || selected.has('P5')) && !process.env.DATABASE_URL) {
    privatePg = startPrivatePostgres(join(__dirname, '..'));
    if (privatePg) {
      const pg = privatePg;
      cleanups.push(() => pg.stop());
    } else report.notes.push('P5 and P6 ran on PGlite: PostgreSQL server binaries not found; P6\'s target is for PostgreSQL, and P5 could not run the worker in a process of its own');
  }
  const pgUrl = process.env.DATABASE_URL ?? privatePg?.url;
  // P5 judges the worker's memory, so it runs the worker in a process of its own (on PostgreSQL,
  // which both processes can reach); without PostgreSQL it falls back to the one-process stack.
  const p5OnMain = selected.has('P5') && !pgUrl;
  const mainIds = (['P1', 'P2', 'P3', 'P4'] as const).filter((id) => selected.has(id));

  if (mainIds.length || p5OnMain) {
    report.stores.main = mainStore;
    await onStack(mainStore, {}, ceiling, receiver, async (ctx) => {
      const p1: P1Result[] = [];
      await attempt('P1', async () => {
        for (const perEvent of [1, 10]) p1.push(await p1Throughput(ctx, perEvent));
        record('P1', { rows: p1Rows(ctx, p1), details: { runs: p1 } });
      });
      await attempt('P2', async () => {
        // P2's rate is half of P1's: without a P1 result, measure the 1-endpoint rate first.
        const basis = p1.find((r) => r.perEvent === 1) ?? (await p1Throughput(ctx, 1));
        const source = p1.includes(basis) ? "half of P1's 1-endpoint rate" : "half of a 1-endpoint P1 run made for P2";
        record('P2', await p2Latency(ctx, Math.max(1, basis.deliveriesPerS / 2), source));
      });
      let fanOutRun: HistoryBreakdown | undefined;
      await attempt('P3', async () => {
        const out = await p3FanOut(ctx);
        fanOutRun = out.firstRun;
        record('P3', out);
      });
      await attempt('P4', async () => record('P4', await p4History(ctx, fanOutRun)));
      if (p5OnMain) await attempt('P5', async () => record('P5', await p5Parked(ctx)));
    });
  }
  if (selected.has('P6')) {
    // A stack of its own, with no delivery work: the API then has the event loop to itself, as
    // in an API-role process, and gets that role's default event-loop shedding.
    const p6Store = privatePg ? 'postgresql (private, fsync off)' : mainStore;
    report.stores.P6 = p6Store;
    await onStack(`${p6Store}, P6`, { ...(pgUrl && { DATABASE_URL: pgUrl }), HOOKLINE_API_MAX_EVENT_LOOP_DELAY_MS: String(DEFAULT_API_MAX_EVENT_LOOP_DELAY_MS) }, ceiling, receiver, async (ctx) => {
      await attempt('P6', async () => record('P6', await p6Ingest(ctx)));
    });
  }
  if (selected.has('P7')) {
    // A stack per cap: the cap is a worker setting, read at start.
    const runs: P7Result[] = [];
    let last: Ctx | undefined;
    const caps = process.env.BENCH_P7_CAPS ? process.env.BENCH_P7_CAPS.split(',').map(Number) : [DEFAULT_MAX_IN_FLIGHT_PER_ENDPOINT, P7_NO_CAP];
    for (const cap of caps) {
      await onStack(`${mainStore}, P7 ${cap === P7_NO_CAP ? 'no cap' : `cap ${cap}`}`, { HOOKLINE_WORKER_MAX_IN_FLIGHT_PER_ENDPOINT: String(cap), ...(process.env.BENCH_P7_TASK_SLOTS && { HOOKLINE_WORKER_TASK_SLOTS: process.env.BENCH_P7_TASK_SLOTS }) }, ceiling, receiver, async (ctx) => {
        last = ctx;
        await attempt('P7', async () => void runs.push(await p7NoisyNeighbour(ctx, cap)));
      });
    }
    if (last && runs.length) record('P7', p7Rows(last, runs));
  }
  if (pgUrl && selected.has('P5')) {
    report.stores.P5 = `${privatePg ? 'postgresql (private, fsync off)' : 'postgresql'}, worker in its own process`;
    // The API (role api) shares this process with the load producers, so its event loop is late
    // because of them: no event-loop shedding, or P5 would time fast 503s as GETs.
    await onStack('postgresql', { DATABASE_URL: pgUrl, HOOKLINE_API_MAX_EVENT_LOOP_DELAY_MS: '0' }, ceiling, receiver, async (ctx) => {
      await attempt('P5', async () => record('P5', await p5Parked(ctx)));
    }, true);
  }
  await finish(report.errors.length ? 1 : 0);
}

main().catch((err: unknown) => {
  report.errors.push(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  log(`fatal: ${String(err)}`);
  void finish(1);
});
