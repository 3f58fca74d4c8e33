/**
 * P5: N deliveries parked on retry timers. The receiver answers 500 and the application's schedule
 * is ["1h"], so every delivery fails once and waits; what a parked delivery costs is then memory
 * (the worker process's RSS, on a split stack; and the dev server's) and whether the API stays as
 * fast as it was. Runs last on its stack: the parked workflows stay until the stack stops.
 */
import { forceGc, processCpuMs, rssBytes, serverRssBytes, watchPauses, type PauseStats } from '../lib-proc';
import type { ApiClient } from '../lib-api';
import { startCountingReceiver } from '../support';
import type { Row, ScenarioOutput } from '../lib-report';
import { log, round, sleep, summarize, until, type Summary } from '../lib-util';
import { appWithEndpoints, driveEvents, type Ctx } from './context';

const MB = 1024 * 1024;

/**
 * The worker's RSS (its own process on a split stack, else this one) and the dev server's; in
 * this process also where V8 can see memory going (the rest is worker threads with the workflow
 * isolates, native code and PGlite's WASM).
 */
function memory(workerPid: number | undefined) {
  forceGc();
  const m = process.memoryUsage();
  const rss = workerPid ? rssBytes(workerPid) : m.rss;
  return { rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, serverRss: serverRssBytes(workerPid ? [workerPid] : []) };
}
const mb = (bytes: number) => `${round(bytes / MB)} MB`;
/** "Unchanged" allows for noise on a shared machine: within 25% or 5 ms of the baseline. */
const unchanged = (before: number, after: number) => after <= Math.max(before * 1.25, before + 5);

/**
 * GET latency over a fixed mix (an app, its endpoints, its newest deliveries), 4 at a time. The
 * app is the probe application, whose data does not change during the scenario: before and
 * after then read the same rows, and only the parked deliveries elsewhere differ. (Until session
 * 6 the mix read the parking application itself, so "before" listed no deliveries and "after"
 * listed 20.)
 */
async function getLatency(api: ApiClient, appId: string, samples: number, stop?: () => boolean): Promise<Summary & { statuses: string[]; pauses: PauseStats }> {
  const paths = [`/v1/apps/${appId}`, `/v1/apps/${appId}/endpoints?limit=10`, `/v1/apps/${appId}/deliveries?limit=20`];
  const ms: number[] = [];
  const statuses = new Set<string>();
  let next = 0;
  const pauses = watchPauses();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (stop ? !stop() : next < samples) {
        const res = await api.request('GET', paths[next++ % paths.length]!);
        statuses.add(String(res.status));
        ms.push(res.ms);
        // While parking, sample rather than load: the GETs must not become the load.
        if (stop) await sleep(20);
      }
    }),
  );
  return { ...summarize(ms), statuses: [...statuses], pauses: pauses.stop() };
}

/** Deliveries the probe application holds, so that its delivery list is a full page. */
const PROBE_EVENTS = 25;

/** The application the GETs read: one endpoint at the counting receiver, its events delivered. */
async function probeApplication(ctx: Ctx): Promise<string> {
  const { appId } = await appWithEndpoints(ctx.api, 'p5-probe', ctx.receiver.url, 1);
  const base = ctx.receiver.count;
  for (let i = 0; i < PROBE_EVENTS; i++) {
    const res = await ctx.api.postEvent(appId, 'bench.probe', { i });
    if (res.status !== 202) throw new Error(`P5 probe event answered ${res.status}`);
  }
  await ctx.receiver.waitForCount(base + PROBE_EVENTS, 60_000);
  return appId;
}

const pauseText = (p: PauseStats) => `GC ${p.gc.count} pauses, ${p.gc.totalMs} ms, max ${p.gc.maxMs} ms; loop delay p99 ${p.loopDelay.p99Ms} ms`;

/** Waits for the worker's process to go quiet (the last attempts recorded, health checks done). */
async function quiesce(pid: number, minMs: number, maxMs: number): Promise<void> {
  await sleep(minMs);
  let last = { cpu: processCpuMs(pid), at: performance.now() };
  await until(async () => {
    await sleep(1000);
    const now = { cpu: processCpuMs(pid), at: performance.now() };
    const cores = (now.cpu - last.cpu) / (now.at - last.at);
    last = now;
    return cores < 0.15;
  }, maxMs, 0);
}

export async function p5Parked(ctx: Ctx): Promise<ScenarioOutput> {
  const { scale } = ctx;
  const n = scale.p5.parked;
  const perEvent = scale.p5.endpoints;
  const failing = await startCountingReceiver(500);
  try {
    const { appId } = await appWithEndpoints(ctx.api, 'p5-parked', failing.url, perEvent, { retry_schedule: ['1h'] });
    const probeAppId = await probeApplication(ctx);
    await getLatency(ctx.api, probeAppId, 30); // warm the routes so the baseline is not a cold start
    const workerPid = ctx.stack.workerPid;
    const where = workerPid ? 'worker process' : 'this process: API + worker + store';
    const before = { ...memory(workerPid), get: await getLatency(ctx.api, probeAppId, scale.p5.getSamples) };
    log(`P5: baseline RSS ${round(before.rss / MB)} MB here, ${round(before.serverRss / MB)} MB dev server; GET p99 ${round(before.get.p99)} ms`);

    let parking = true;
    const duringParking = getLatency(ctx.api, probeAppId, 0, () => !parking);
    const started = performance.now();
    const drive = await driveEvents({
      label: `P5 parking ${n}`,
      ctx,
      appId,
      perEvent,
      delivered: () => failing.count,
      warmupMs: 0,
      stopAfter: n,
      measure: async () => void (await until(() => failing.count >= n, scale.p5.timeoutMs, 100)),
    });
    const parkMs = performance.now() - started;
    parking = false;
    const whileParking = await duringParking;
    await quiesce(workerPid ?? process.pid, scale.p5.settleMs, 60_000);

    const parked = failing.count;
    const after = { ...memory(workerPid), get: await getLatency(ctx.api, probeAppId, scale.p5.getSamples) };
    const running = (await ctx.stack.hookline.client.workflow.count(`HooklineApp = '${appId}' AND ExecutionStatus = 'Running'`)).count;
    const perParked = (after.rss - before.rss) / parked;
    const serverPerParked = (after.serverRss - before.serverRss) / parked;
    const rows: Row[] = [
      {
        id: 'P5',
        metric: `RSS with ${parked} parked (${where})`,
        value: after.rss / MB,
        unit: 'MB',
        ref: { name: 'before', value: before.rss / MB },
        target: '<= 400 MB',
        pass: after.rss <= 400 * MB,
        note: workerPid
          ? `one worker process (HOOKLINE_ROLE=worker) on PostgreSQL; ${running} workflows running; parked in ${round(parkMs / 1000)} s`
          : `worker is in-process, so RSS also holds the API, ${ctx.store === 'pglite' ? 'PGlite, ' : ''}the receiver and the bench; main heap ${mb(before.heapUsed)} → ${mb(after.heapUsed)}, ` +
            `external ${mb(before.external)} → ${mb(after.external)}; ${running} workflows running; parked in ${round(parkMs / 1000)} s`,
      },
      { id: 'P5', metric: `bytes per parked delivery (${workerPid ? 'worker process' : 'this process'})`, value: perParked, unit: 'B' },
      { id: 'P5', metric: 'bytes per parked delivery (dev server)', value: serverPerParked, unit: 'B', note: `dev server RSS ${round(before.serverRss / MB)} → ${round(after.serverRss / MB)} MB` },
      {
        id: 'P5',
        metric: 'API GET p99 with deliveries parked',
        value: after.get.p99,
        unit: 'ms',
        ref: { name: 'before', value: before.get.p99 },
        target: 'unchanged (≤ +25% or +5 ms)',
        pass: unchanged(before.get.p99, after.get.p99),
        note: `p50 ${round(before.get.p50)} → ${round(after.get.p50)} ms; in this process (API and bench) before → after: ${pauseText(before.get.pauses)} → ${pauseText(after.get.pauses)}`,
      },
      { id: 'P5', metric: 'API GET p99 while parking', value: whileParking.p99, unit: 'ms', ref: { name: 'before', value: before.get.p99 }, note: `${whileParking.n} GETs sampled during the parking load` },
    ];
    return { rows, details: { parked, perEvent, parkMs, running, before, whileParking, after, bytesPerParked: perParked, serverBytesPerParked: serverPerParked, drive } };
  } finally {
    await failing.close();
  }
}
