/**
 * P6: API ingest alone. Events go to an application with no endpoints, so there is no delivery
 * work and no workflow start. Closed loops at a few concurrencies, driven from a worker thread,
 * find the capacity; an open loop at twice that shows what happens past it: shed with 429/503,
 * or queue (latency climbing for as long as the overload lasts).
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { cpuPer, sampleCpu, type CpuSample } from '../lib-proc';
import { storeStatements } from '../lib-queries';
import type { Row, ScenarioOutput } from '../lib-report';
import { log, round, summarize, tally, ticker, until } from '../lib-util';
import type { Ctx } from './context';

/**
 * One closed loop of POST /events at `concurrency`, driven from a worker thread (bench/ingest-load.mjs)
 * so that the load generator does not share the API's event loop. CPU and store statements are
 * sampled here at the window's edges; CPU "here" still includes the load thread.
 */
async function ingestInThread(opts: { baseUrl: string; key: string; appId: string; concurrency: number; warmupMs: number; windowMs: number }) {
  const probe = storeStatements();
  const worker = new Worker(LOAD_THREAD, { workerData: { mode: 'closed', ...opts } });
  let start: { cpu: CpuSample; probe: number } | undefined;
  let end: { cpu: CpuSample; probe: number; counted: WindowCounts } | undefined;
  await new Promise<void>((resolve, reject) => {
    worker.on('message', (m: { type: string } & WindowCounts) => {
      if (m.type === 'window-start') start = { cpu: sampleCpu(), probe: probe() };
      if (m.type === 'window-end') end = { cpu: sampleCpu(), probe: probe(), counted: m };
      if (m.type === 'done') resolve();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the load thread exited with ${code}`))));
  });
  await worker.terminate();
  if (!start || !end) throw new Error('the load thread ended before its window');
  const { done, failures, statuses, ms } = end.counted;
  const windowMs = end.cpu.at - start.cpu.at;
  return { done, perS: (done * 1000) / windowMs, windowMs, cpu: cpuPer(start.cpu, end.cpu, Math.max(1, done)), failures, probeDelta: end.probe - start.probe, statuses, latency: summarize(ms) };
}

const LOAD_THREAD = join(__dirname, '..', 'ingest-load.mjs');

/** The open loop past capacity, from the load thread too: every request's status and time, in order. */
async function overloadInThread(opts: { baseUrl: string; key: string; appId: string; count: number; ratePerS: number }) {
  const worker = new Worker(LOAD_THREAD, { workerData: { mode: 'open', concurrency: 1024, ...opts } });
  let out: { results: { status: string; ms: number }[]; sendMs: number; totalMs: number } | undefined;
  await new Promise<void>((resolve, reject) => {
    worker.on('message', (m: { type: string } & NonNullable<typeof out>) => {
      if (m.type === 'open-end') out = m;
      if (m.type === 'done') resolve();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the load thread exited with ${code}`))));
  });
  await worker.terminate();
  if (!out) throw new Error('the load thread ended before the open loop did');
  return out;
}

interface WindowCounts {
  done: number;
  failures: number;
  statuses: Record<string, number>;
  ms: number[];
}

export async function p6Ingest(ctx: Ctx): Promise<ScenarioOutput> {
  const { scale, stack } = ctx;
  const appId = await ctx.api.create('/v1/apps', { name: 'p6-ingest' });
  const client = stack.hookline.client;
  const runningFanOuts = async () => (await client.workflow.count(`HooklineApp = '${appId}' AND ExecutionStatus = 'Running'`)).count;

  const levels = [];
  for (const concurrency of scale.p6.concurrency) {
    const result = await ingestInThread({ baseUrl: stack.hookline.apiUrl!, key: stack.adminKey, appId, concurrency, warmupMs: 1_000, windowMs: scale.p6.windowMs });
    log(`P6 ingest, ${concurrency} clients: ${round(result.perS)}/s`);
    levels.push({ concurrency, ...result });
    // Let the fan-outs these events started finish, so the next level starts on an idle server.
    await until(async () => (await runningFanOuts()) === 0, scale.p6.drainTimeoutMs, 500);
  }
  const best = levels.reduce((a, b) => (b.perS > a.perS ? b : a));

  // Past capacity: twice the best rate, open loop, through enough sockets (1024) that requests
  // queue in the server rather than in the client's pool.
  const offered = Math.max(50, 2 * best.perS);
  const count = Math.round((offered * scale.p6.overloadMs) / 1000);
  log(`P6: overload at ${round(offered, 0)}/s for ${scale.p6.overloadMs / 1000} s (${count} requests, from the load thread)`);
  const { results, sendMs, totalMs } = await overloadInThread({ baseUrl: stack.hookline.apiUrl!, key: stack.adminKey, appId, count, ratePerS: offered });
  const overloadStatuses = tally(results.map((r) => r.status));
  const accepted = results.filter((r) => r.status === '202').length;
  const tenth = Math.max(1, Math.floor(results.length / 10));
  const firstTenth = summarize(results.slice(0, tenth).map((r) => r.ms));
  const lastTenth = summarize(results.slice(-tenth).map((r) => r.ms));
  const all = summarize(results.map((r) => r.ms));
  const shed = Object.keys(overloadStatuses).some((s) => s === '429' || s === '503');
  // Overloaded: the offered rate was not served, or latency climbed past the at-capacity level
  // (a queue growing for as long as the overload lasts). Passing needs shedding (429/503) then.
  const overloaded = (accepted * 1000) / totalMs < 0.95 * offered || lastTenth.p50 > 2 * best.latency.p50;

  // The other backlog: accepted events whose fanOut workflows have not run yet.
  const backlogAtEnd = await runningFanOuts();
  const drainStarted = performance.now();
  const stopTicker = ticker('P6 fan-out backlog', () => 'draining');
  const drained = await until(async () => (await runningFanOuts()) === 0, scale.p6.drainTimeoutMs, 500).finally(stopTicker);
  const drainMs = performance.now() - drainStarted;

  const floor = { name: 'floor', value: ctx.refs.floorPerS };
  const onPg = ctx.store !== 'pglite';
  const rows: Row[] = [
    {
      id: 'P6',
      metric: `events accepted/s (${ctx.store}, best of ${levels.map((l) => l.concurrency).join('/')} clients)`,
      value: best.perS,
      unit: '/s',
      ref: floor,
      target: '>= 1,700/s on PostgreSQL',
      pass: best.perS >= 1700,
      note:
        `${best.concurrency} clients: POST p50 ${round(best.latency.p50)} ms p99 ${round(best.latency.p99)} ms; CPU per event ${round(best.cpu.selfMsPerUnit)} ms here + ` +
        `${round(best.cpu.serverMsPerUnit)} ms dev server; ${round(best.probeDelta / Math.max(1, best.done), 3)} store statements per event (${round(best.done / Math.max(1, best.probeDelta))} events per statement: concurrent inserts share one); statuses ${JSON.stringify(best.statuses)}` + (onPg ? '' : '; on PGlite: the target is for PostgreSQL'),
    },
    {
      id: 'P6',
      metric: `past capacity: offered ${round(offered, 0)}/s, accepted/s`,
      value: (accepted * 1000) / totalMs,
      unit: '/s',
      ref: { name: 'capacity', value: best.perS },
      target: '429/503, no unbounded backlog',
      pass: (shed || !overloaded) && drained,
      note:
        `statuses ${JSON.stringify(overloadStatuses)}; ${overloaded ? (shed ? 'overloaded, shed' : 'overloaded, queued without shedding') : 'kept up'}; POST p50 ${round(firstTenth.p50)} ms in the first tenth → ${round(lastTenth.p50)} ms in the last (max ${round(all.max)} ms); ` +
        `${backlogAtEnd} fan-outs still running at the end, drained in ${round(drainMs / 1000)} s${drained ? '' : ' (NOT drained)'}`,
    },
  ];
  return { rows, details: { store: ctx.store, levels, overload: { offered, count, sendMs, totalMs, statuses: overloadStatuses, firstTenth, lastTenth, all, shed, overloaded, backlogAtEnd, drainMs, drained } } };
}
