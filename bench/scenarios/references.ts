/**
 * The two references every scenario figure is divided by, measured in the same run on the same
 * machine, so a busy machine moves figure and reference together:
 * - ceiling: signed POSTs/s from this process to the same receiver (no Temporal, no store);
 * - temporal-floor: bare one-local-activity workflows/s on the same dev server (no Hookline code).
 * A third row sends through Hookline's own HttpSender (SSRF-guarded lookup, timeout signal, capped
 * body read): the gap to the ceiling is the sender's own overhead.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { Pool } from 'undici';
import { createHttpSender } from '../../src/activities/http-sender';
import { loadConfig } from '../../src/config';
import { taskSlotOptions } from '../../src/worker';
import { generateSecret, standardHeaders } from '../../src/domain/signing';
import type { floorWorkflow } from '../floor-workflows';
import { closedLoop } from '../lib-load';
import type { Row } from '../lib-report';
import type { CountingReceiver, Stack } from '../support';
import { log, round, summarize, type Scale } from '../lib-util';

export interface References {
  ceilingPerS: number;
  senderPerS: number;
  floorPerS: number;
  floorLatency: { p50: number; p99: number };
  floorHistoryEvents: number;
  floorCpu: { selfMsPerUnit: number; serverMsPerUnit: number };
}

const SECRET = generateSecret();
const CONCURRENCY = 64;

/** The body and headers the real sender would produce for a small event, signed per request. */
function signed(i: number): { headers: Record<string, string>; body: string } {
  const id = `msg_ceiling_${i}`;
  const body = JSON.stringify({ id, type: 'bench.ceiling', timestamp: new Date().toISOString(), data: { i } });
  const sig = standardHeaders({ msgId: id, timestampS: Math.floor(Date.now() / 1000), body, secrets: [SECRET] });
  return { headers: { 'content-type': 'application/json', 'user-agent': 'Hookline-bench', ...sig }, body };
}

export async function measureCeiling(receiver: CountingReceiver, scale: Scale) {
  const pool = new Pool(receiver.url, { connections: CONCURRENCY, keepAliveTimeout: 30_000 });
  const ceiling = await closedLoop({
    label: 'ceiling',
    concurrency: CONCURRENCY,
    warmupMs: 500,
    windowMs: scale.ceilingWindowMs,
    op: async (i) => {
      const res = await pool.request({ method: 'POST', path: '/ceiling', ...signed(i) });
      await res.body.dump();
      return res.statusCode < 300;
    },
  });
  await pool.close();

  const sender = createHttpSender({ allowInsecure: true, allowSubnets: [] });
  const viaSender = await closedLoop({
    label: 'ceiling via HttpSender',
    concurrency: CONCURRENCY,
    warmupMs: 500,
    windowMs: scale.ceilingWindowMs,
    op: async (i) => {
      const res = await sender.post({ url: `${receiver.url}/sender`, ...signed(i), timeoutMs: 10_000 });
      return res.statusCode !== null && res.statusCode < 300;
    },
  });
  await sender.close();
  return { ceiling, viaSender };
}

const FLOOR_QUEUE = 'bench-floor';

export async function measureFloor(stack: Stack, scale: Scale) {
  const { client, temporalAddress } = stack.hookline;
  const connection = await NativeConnection.connect({ address: temporalAddress });
  // The same worker settings as Hookline's defaults (cache and slots), so the only difference
  // left is the workflow code.
  const defaults = loadConfig({});
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue: FLOOR_QUEUE,
    maxCachedWorkflows: defaults.workerMaxCachedWorkflows,
    ...taskSlotOptions(defaults.workerTaskSlots, defaults.workerMaxCachedWorkflows),
    workflowsPath: require.resolve('../floor-workflows'),
    activities: { noop: async () => undefined },
  });
  const running = worker.run();
  const runId = Date.now().toString(36);
  try {
    const execute = (id: string) => client.workflow.execute<typeof floorWorkflow>('floorWorkflow', { taskQueue: FLOOR_QUEUE, workflowId: id, args: [] });
    const throughput = await closedLoop({
      label: 'temporal-floor',
      concurrency: scale.inFlight,
      warmupMs: scale.floor.warmupMs,
      windowMs: scale.floor.windowMs,
      op: async (i) => {
        await execute(`floor/${runId}/${i}`);
        return true;
      },
    });
    // Unloaded latency, one at a time: the reference for P2's accepted→received latency.
    const latencies: number[] = [];
    for (let i = 0; i < scale.floor.latencySamples; i++) {
      const started = performance.now();
      await execute(`floor-latency/${runId}/${i}`);
      latencies.push(performance.now() - started);
    }
    const description = await client.workflow.getHandle(`floor-latency/${runId}/0`).describe();
    return { throughput, latency: summarize(latencies), historyEvents: description.historyLength };
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
}

export function referenceRows(
  c: Awaited<ReturnType<typeof measureCeiling>>,
  f: Awaited<ReturnType<typeof measureFloor>> | undefined,
): { refs: References | undefined; rows: Row[] } {
  const rows: Row[] = [
    { id: 'ref', metric: 'ceiling: signed POSTs/s (undici Pool)', value: c.ceiling.perS, unit: '/s', note: `${CONCURRENCY} in flight, HMAC per request, this process at ${round(c.ceiling.cpu.selfCores, 2)} cores` },
    { id: 'ref', metric: "ceiling via Hookline's HttpSender", value: c.viaSender.perS, unit: '/s', ref: { name: 'ceiling', value: c.ceiling.perS } },
  ];
  if (!f) return { refs: undefined, rows };
  const refs: References = {
    ceilingPerS: c.ceiling.perS,
    senderPerS: c.viaSender.perS,
    floorPerS: f.throughput.perS,
    floorLatency: { p50: f.latency.p50, p99: f.latency.p99 },
    floorHistoryEvents: f.historyEvents,
    floorCpu: f.throughput.cpu,
  };
  rows.push(
    {
      id: 'ref',
      metric: 'temporal-floor: workflows/s',
      value: f.throughput.perS,
      unit: '/s',
      ref: { name: 'ceiling', value: c.ceiling.perS },
      note: `CPU per workflow: ${round(f.throughput.cpu.selfMsPerUnit)} ms worker process, ${round(f.throughput.cpu.serverMsPerUnit)} ms dev server`,
    },
    { id: 'ref', metric: 'temporal-floor: latency p50 (unloaded)', value: f.latency.p50, unit: 'ms' },
    { id: 'ref', metric: 'temporal-floor: latency p99 (unloaded)', value: f.latency.p99, unit: 'ms' },
    { id: 'ref', metric: 'temporal-floor: history events', value: f.historyEvents, unit: 'events' },
  );
  log(`references: ceiling ${round(c.ceiling.perS, 0)}/s, floor ${round(f.throughput.perS)}/s`);
  return { refs, rows };
}
