/**
 * P7: a noisy neighbour. Several endpoints answer only after `holdMs`, each with a backlog of
 * events. Once their POSTs are open, one fast endpoint gets an open loop of events: how late is
 * it, with the per-endpoint cap (HOOKLINE_WORKER_MAX_IN_FLIGHT_PER_ENDPOINT) at its default and
 * with it out of the way? Every POST holds a worker slot (HOOKLINE_WORKER_TASK_SLOTS) for as long
 * as its receiver takes, so without the cap the slow endpoints' backlog takes them all.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Row, ScenarioOutput } from '../lib-report';
import { openLoop } from '../lib-load';
import { log, round, sleep, summarize, tally, until, type Summary } from '../lib-util';
import { closeServer } from '../support';
import { appWithEndpoints, type Ctx } from './context';

/** A cap that never binds: the worker's slots are the only limit. */
export const P7_NO_CAP = 100_000;

interface SlowReceiver {
  url: string;
  open: number;
  done: number;
  mostOpen: number;
  close(): Promise<void>;
}

/** Answers 204 to every POST, `holdMs` after it arrived; counts the most it held open at once. */
async function startSlowReceiver(holdMs: number): Promise<SlowReceiver> {
  const state = { open: 0, mostOpen: 0, done: 0 };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      state.mostOpen = Math.max(state.mostOpen, ++state.open);
      setTimeout(() => {
        state.open--;
        state.done++;
        res.writeHead(204).end();
      }, holdMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get open() {
      return state.open;
    },
    get done() {
      return state.done;
    },
    get mostOpen() {
      return state.mostOpen;
    },
    close: () => closeServer(server),
  };
}

export interface P7Result {
  cap: number;
  fast: Summary;
  fastLost: number;
  slowDeliveries: number;
  slowDrainMs: number;
  slowDrained: boolean;
  /** The most POSTs any one slow endpoint had open at once. */
  slowMostOpen: number;
  /** POSTs open at the slow endpoints, all told, when the fast loop began. */
  slowOpenAtStart: number;
  statuses: Record<string, number>;
}

export async function p7NoisyNeighbour(ctx: Ctx, cap: number): Promise<P7Result> {
  const { slowEndpoints, backlogEvents, holdMs, fastRatePerS, fastDurationMs } = ctx.scale.p7;
  const slow = await Promise.all(Array.from({ length: slowEndpoints }, () => startSlowReceiver(holdMs)));
  try {
    const slowApp = await ctx.api.create('/v1/apps', { name: `p7-slow-${cap}` });
    for (const r of slow) await ctx.api.create(`/v1/apps/${slowApp}/endpoints`, { url: `${r.url}/slow`, timeout_ms: Math.min(30_000, holdMs + 5_000) });
    const { appId: fastApp } = await appWithEndpoints(ctx.api, `p7-fast-${cap}`, ctx.receiver.url, 1);
    const slowDeliveries = slowEndpoints * backlogEvents;
    log(`P7 (cap ${cap}): ${backlogEvents} events to ${slowEndpoints} endpoints that answer in ${holdMs} ms, then the fast endpoint at ${fastRatePerS}/s`);
    const started = performance.now();
    const backlog = await Promise.all(Array.from({ length: backlogEvents }, (_, i) => ctx.api.postEvent(slowApp, 'bench.slow', { i })));
    const slowOpenAtStart = await settledOpen(slow);
    const count = Math.round((fastRatePerS * fastDurationMs) / 1000);
    const { results } = await openLoop(
      count,
      fastRatePerS,
      async (i) => {
        const res = await ctx.api.postEvent(fastApp, 'bench.fast', { i });
        const acceptedAt = performance.now();
        const id = res.status === 202 && typeof res.json === 'object' && res.json !== null && 'id' in res.json ? String(res.json.id) : undefined;
        return { id, acceptedAt, status: res.status };
      },
      `P7 fast endpoint (cap ${cap})`,
    );
    const accepted = results.filter((r): r is typeof r & { id: string } => r.id !== undefined);
    await until(() => accepted.every((r) => ctx.receiver.firstArrival.has(r.id)), ctx.scale.p7.timeoutMs, 100);
    const arrived = accepted.filter((r) => ctx.receiver.firstArrival.has(r.id));
    const slowDrained = await until(() => slow.reduce((n, r) => n + r.done, 0) >= slowDeliveries, ctx.scale.p7.timeoutMs, 100);
    return {
      cap,
      fast: summarize(arrived.map((r) => ctx.receiver.firstArrival.get(r.id)! - r.acceptedAt)),
      fastLost: accepted.length - arrived.length,
      slowDeliveries,
      slowDrainMs: performance.now() - started,
      slowDrained,
      slowMostOpen: Math.max(...slow.map((r) => r.mostOpen)),
      slowOpenAtStart,
      statuses: tally([...backlog, ...results].map((r) => String(r.status))),
    };
  } finally {
    await Promise.all(slow.map((r) => r.close()));
  }
}

/**
 * Waits until POSTs are open at the slow endpoints and their number has stopped growing (2 s
 * unchanged; 60 s at most): the fast loop then runs beside a backlog that is already being sent.
 */
async function settledOpen(slow: SlowReceiver[]): Promise<number> {
  const total = () => slow.reduce((n, r) => n + r.open, 0);
  const deadline = performance.now() + 60_000;
  let last = -1;
  while (performance.now() < deadline && (total() === 0 || total() !== last)) {
    last = total();
    await sleep(2_000);
  }
  return total();
}

export function p7Rows(ctx: Ctx, runs: P7Result[]): ScenarioOutput {
  const { slowEndpoints, holdMs } = ctx.scale.p7;
  const label = (cap: number) => (cap >= P7_NO_CAP ? 'no cap' : `cap ${cap}`);
  const rows: Row[] = runs.flatMap((r) => [
    {
      id: 'P7',
      metric: `fast endpoint p50 beside ${slowEndpoints} slow, ${label(r.cap)}`,
      value: r.fast.p50,
      unit: 'ms',
      note: `accepted→received, while ${r.slowOpenAtStart} slow POSTs were open; ${r.fast.n} events${r.fastLost ? `, ${r.fastLost} lost` : ''}; statuses ${JSON.stringify(r.statuses)}`,
    },
    {
      id: 'P7',
      metric: `fast endpoint p99 beside ${slowEndpoints} slow, ${label(r.cap)}`,
      value: r.fast.p99,
      unit: 'ms',
      note: `slow endpoints: ${r.slowDeliveries} deliveries answered in ${holdMs} ms each, ${r.slowDrained ? 'all' : 'NOT all'} in ${round(r.slowDrainMs / 1000)} s; at most ${r.slowMostOpen} open at one endpoint`,
    },
  ]);
  return { rows, details: { runs } };
}
