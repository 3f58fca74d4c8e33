/**
 * P1: sustained deliveries/s, 1 and 10 endpoints per event, measured at the receiver over a fixed
 * window while a closed loop keeps a bounded number of deliveries in flight (so the system is
 * saturated but no backlog grows). P2: accepted→received latency in an open loop at half of P1's
 * 1-endpoint rate, where queues should be short and latency is the path's own.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { sampleCpu, cpuPer } from '../lib-proc';
import { storeStatements } from '../lib-queries';
import type { Row, ScenarioOutput } from '../lib-report';
import { log, round, sleep, summarize, tally, until } from '../lib-util';
import { openLoop } from '../lib-load';
import { timeline, timelineTable } from '../lib-history';
import { deliveryWorkflowId } from '../../src/workflows/delivery';
import { fanOutWorkflowId } from '../../src/workflows/fan-out';
import { appWithEndpoints, driveEvents, type Ctx } from './context';

export async function p1Throughput(ctx: Ctx, perEvent: number) {
  const { receiver, scale } = ctx;
  const { appId } = await appWithEndpoints(ctx.api, `p1-${perEvent}ep`, receiver.url, perEvent);
  const statements = storeStatements();
  const window = { delivered: 0, ms: 0, cpu: cpuPer(sampleCpu(), sampleCpu(), 1), statements: 0 };
  const drive = await driveEvents({
    label: `P1 ${perEvent} endpoint(s)/event`,
    ctx,
    appId,
    perEvent,
    delivered: () => receiver.count,
    warmupMs: scale.p1.warmupMs,
    measure: async () => {
      const c0 = receiver.count;
      const q0 = statements();
      const s0 = sampleCpu();
      await sleep(scale.p1.windowMs);
      const s1 = sampleCpu();
      window.delivered = receiver.count - c0;
      window.statements = statements() - q0;
      window.ms = s1.at - s0.at;
      window.cpu = cpuPer(s0, s1, Math.max(1, window.delivered));
    },
  });
  return { perEvent, deliveriesPerS: (window.delivered * 1000) / window.ms, statementsPerDelivery: window.statements / Math.max(1, window.delivered), ...window, ...drive };
}

export type P1Result = Awaited<ReturnType<typeof p1Throughput>>;

export function p1Rows(ctx: Ctx, results: P1Result[]): Row[] {
  const floor = { name: 'floor', value: ctx.refs.floorPerS };
  return results.map((r) => ({
    id: 'P1',
    metric: `deliveries/s, ${r.perEvent} endpoint(s)/event`,
    value: r.deliveriesPerS,
    unit: '/s',
    ref: floor,
    target: '>= 90% of floor',
    pass: r.deliveriesPerS >= 0.9 * ctx.refs.floorPerS,
    note:
      `CPU per delivery ${round(r.cpu.selfMsPerUnit)} ms here (${round(r.cpu.selfCores, 2)} cores) + ${round(r.cpu.serverMsPerUnit)} ms dev server ` +
      `(${round(r.cpu.serverCores, 2)} cores); floor ${round(ctx.refs.floorCpu.selfMsPerUnit)} + ${round(ctx.refs.floorCpu.serverMsPerUnit)} ms; ` +
      `${round(r.statementsPerDelivery)} store statements per delivery` +
      (r.drained ? '' : `; NOT drained: ${r.expected} expected`) +
      (Object.keys(r.rejected).length ? `; rejected ${JSON.stringify(r.rejected)}` : ''),
  }));
}

const LOOP_RESOLUTION_MS = 10;

export async function p2Latency(ctx: Ctx, ratePerS: number, rateSource: string): Promise<ScenarioOutput> {
  const { receiver, scale } = ctx;
  const { appId, endpointIds } = await appWithEndpoints(ctx.api, 'p2', receiver.url, 1);
  const count = Math.max(10, Math.min(scale.p2.maxEvents, Math.round((ratePerS * scale.p2.durationMs) / 1000)));
  log(`P2: ${count} events at ${round(ratePerS)}/s (${rateSource})`);
  // API, worker, PGlite and receiver share this event loop: a blocked loop is latency for all.
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loopDelay.enable();
  const { results, sendMs } = await openLoop(
    count,
    ratePerS,
    async (i) => {
      const sentAt = performance.now();
      const res = await ctx.api.postEvent(appId, 'bench.latency', { i });
      const acceptedAt = performance.now();
      const id = res.status === 202 && typeof res.json === 'object' && res.json !== null && 'id' in res.json ? String(res.json.id) : undefined;
      return { id, sentAt, acceptedAt, status: res.status };
    },
    'P2 open loop',
  );
  loopDelay.disable();
  // The histogram records whole timer intervals: an idle loop reads as the resolution itself.
  const lag = (ns: number) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
  const loop = { p50: lag(loopDelay.percentile(50)), p99: lag(loopDelay.percentile(99)), max: lag(loopDelay.max) };
  const accepted = results.filter((r): r is typeof r & { id: string } => r.id !== undefined);
  await until(() => accepted.every((r) => receiver.firstArrival.has(r.id)), scale.drainTimeoutMs, 100);
  const arrived = accepted.filter((r) => receiver.firstArrival.has(r.id));
  const fromAccepted = summarize(arrived.map((r) => receiver.firstArrival.get(r.id)! - r.acceptedAt));
  const fromSent = summarize(arrived.map((r) => receiver.firstArrival.get(r.id)! - r.sentAt));
  const api = summarize(results.map((r) => r.acceptedAt - r.sentAt));
  const lost = accepted.length - arrived.length;
  const path = await medianTimeline(ctx, endpointIds[0]!, arrived);
  const floorP50 = { name: 'floor p50', value: ctx.refs.floorLatency.p50 };
  const rows: Row[] = [
    { id: 'P2', metric: 'accepted→received p50', value: fromAccepted.p50, unit: 'ms', ref: floorP50, target: '<= 20 ms', pass: fromAccepted.p50 <= 20, note: `at ${round(ratePerS)}/s (${rateSource}); achieved ${round((count * 1000) / sendMs)}/s` },
    { id: 'P2', metric: 'accepted→received p99', value: fromAccepted.p99, unit: 'ms', ref: { name: 'floor p99', value: ctx.refs.floorLatency.p99 }, target: '<= 200 ms', pass: fromAccepted.p99 <= 200 && lost === 0, ...(lost > 0 && { note: `${lost} accepted events never arrived within the drain timeout` }) },
    { id: 'P2', metric: 'API POST /events p50 (sent→202)', value: api.p50, unit: 'ms', note: `event loop delay of this process during P2: p50 ${round(loop.p50)} ms, p99 ${round(loop.p99)} ms, max ${round(loop.max)} ms` },
    { id: 'P2', metric: 'API POST /events p99 (sent→202)', value: api.p99, unit: 'ms' },
  ];
  return { rows, details: { ratePerS, rateSource, count, sendMs, statuses: tally(results.map((r) => String(r.status))), acceptedToReceived: fromAccepted, sentToReceived: fromSent, apiPost: api, eventLoopDelayMs: loop, lost, medianTimeline: path } };
}

/** The history timeline of the event with the median latency: where its milliseconds went. */
async function medianTimeline(ctx: Ctx, endpointId: string, arrived: { id: string; sentAt: number; acceptedAt: number }[]) {
  if (arrived.length === 0) return undefined;
  const latency = (r: (typeof arrived)[number]) => ctx.receiver.firstArrival.get(r.id)! - r.acceptedAt;
  const median = [...arrived].sort((a, b) => latency(a) - latency(b))[Math.floor(arrived.length / 2)]!;
  const wall = (perf: number) => performance.timeOrigin + perf;
  const origin = wall(median.sentAt);
  const steps = await timeline(
    ctx.stack.hookline.client,
    origin,
    [
      { label: 'fanOut', workflowId: fanOutWorkflowId(median.id) },
      { label: 'delivery', workflowId: deliveryWorkflowId(median.id, endpointId) },
    ],
    [
      { ms: 0, step: 'bench: POST /events sent' },
      { ms: wall(median.acceptedAt) - origin, step: 'bench: 202 received' },
      { ms: wall(ctx.receiver.firstArrival.get(median.id)!) - origin, step: 'receiver: POST arrived' },
    ],
  );
  const table = timelineTable(steps);
  log(`P2 median delivery timeline:\n${table}`);
  return { eventId: median.id, steps, table };
}
