/**
 * What a scenario gets: the running stack, an API client, the counting receiver, the scale of
 * the run and the references measured earlier; plus the setup steps several scenarios share.
 */
import type { ApiClient } from '../lib-api';
import { InFlightGate } from '../lib-load';
import { cpuPer, forceGc, sampleCpu } from '../lib-proc';
import type { CountingReceiver, Stack } from '../support';
import { sleep, tally, ticker, until, type Scale } from '../lib-util';
import type { References } from './references';

export interface Ctx {
  stack: Stack;
  api: ApiClient;
  receiver: CountingReceiver;
  scale: Scale;
  refs: References;
  /** Which store this stack runs on, for the report. */
  store: string;
}

/** An application with `n` endpoints (through the API, as a customer would) pointing at `url`. */
export async function appWithEndpoints(api: ApiClient, name: string, url: string, n: number, app: Record<string, unknown> = {}) {
  const appId = await api.create('/v1/apps', { name, ...app });
  const endpointIds: string[] = [];
  for (let i = 0; i < n; i++) endpointIds.push(await api.create(`/v1/apps/${appId}/endpoints`, { url: `${url}/${name}/${i}` }));
  return { appId, endpointIds };
}

/**
 * Closed loop through the API: producers post events while fewer than `inFlight` deliveries are
 * outstanding at `delivered()`; after `warmupMs`, `measure` runs (its window is the measurement),
 * then producers stop and the outstanding deliveries are waited for, so the next scenario starts
 * on an idle system. Warm-up starts at the first arrival. Stops at `stopAfter` deliveries when given (P5 parks a fixed number).
 */
export async function driveEvents(opts: {
  label: string;
  ctx: Ctx;
  appId: string;
  perEvent: number;
  delivered: () => number;
  warmupMs: number;
  measure: () => Promise<void>;
  stopAfter?: number;
}): Promise<{ eventsAccepted: number; rejected: Record<string, number>; drainMs: number; drained: boolean; expected: number }> {
  const { ctx, perEvent } = opts;
  const base = opts.delivered();
  const gate = new InFlightGate(ctx.scale.inFlight, () => opts.delivered() - base);
  let stop = false;
  let accepted = 0;
  const rejected: string[] = [];
  let claimed = 0;
  const producer = async () => {
    while (!stop) {
      // Claimed before the wait, so concurrent producers cannot overshoot `stopAfter` together.
      if (opts.stopAfter !== undefined && claimed + perEvent > opts.stopAfter) break;
      claimed += perEvent;
      await gate.reserve(perEvent);
      if (stop) break;
      const res = await ctx.api.postEvent(opts.appId, 'bench.event', { n: accepted, pad: 'x'.repeat(200) });
      if (res.status === 202) accepted++;
      else {
        gate.cancel(perEvent);
        claimed -= perEvent;
        rejected.push(res.status === 0 ? `error:${res.error}` : String(res.status));
        await sleep(20);
      }
    }
  };
  const stopTicker = ticker(opts.label, () => `${opts.delivered() - base} delivered, ${gate.inFlight} in flight, ${accepted} events`);
  const producers = Array.from({ length: Math.min(16, Math.ceil(ctx.scale.inFlight / perEvent)) }, producer);
  try {
    // Warm-up counts from the first arrival: until then the pipeline is filling, not flowing.
    await until(() => opts.delivered() > base, ctx.scale.drainTimeoutMs, 20);
    await sleep(opts.warmupMs);
    await opts.measure();
  } finally {
    stop = true;
    gate.close();
    await Promise.all(producers);
  }
  const expected = accepted * perEvent;
  const drainStarted = performance.now();
  const drained = await until(() => opts.delivered() - base >= expected, ctx.scale.drainTimeoutMs, 100);
  stopTicker();
  return { eventsAccepted: accepted, rejected: tally(rejected), drainMs: performance.now() - drainStarted, drained, expected };
}

/**
 * Sends a few events through the whole path once the stack is up (first workflow tasks, activity
 * code paths, store statements are cold otherwise and would land in P1's window), then samples
 * what the idle stack costs: per-delivery CPU figures include that background.
 */
export async function warmUp(ctx: Ctx): Promise<{ warmMs: number; idle: { selfCores: number; serverCores: number }; rssMb: number; heapMb: number; externalMb: number }> {
  const started = performance.now();
  const { appId } = await appWithEndpoints(ctx.api, 'warm-up', ctx.receiver.url, 1);
  const before = ctx.receiver.count;
  await Promise.all(Array.from({ length: 10 }, (_, i) => ctx.api.postEvent(appId, 'bench.warm', { i })));
  if (!(await until(() => ctx.receiver.count - before >= 10, 120_000, 50))) throw new Error('warm-up: deliveries did not arrive within 120 s');
  const warmMs = performance.now() - started;
  await sleep(1_000);
  const a = sampleCpu();
  await sleep(2_000);
  const idle = cpuPer(a, sampleCpu(), 1);
  forceGc();
  const m = process.memoryUsage();
  const mb = (bytes: number) => bytes / 1024 / 1024;
  return { warmMs, idle: { selfCores: idle.selfCores, serverCores: idle.serverCores }, rssMb: mb(m.rss), heapMb: mb(m.heapUsed), externalMb: mb(m.external) };
}
