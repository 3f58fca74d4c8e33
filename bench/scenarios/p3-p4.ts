/**
 * P3: one event to N endpoints: how fast the fan-out's deliveries arrive, and the largest history
 * any fan-out run reaches (invariant 4: no history grows with N). P4: Temporal's cost per
 * first-try delivery as history events, the fan-out's share included, and the event-type breakdown
 * of one delivery and one fan-out (the profile in docs/performance.md).
 */
import { generateSecret } from '../../src/domain/signing';
import { deliveryWorkflowId } from '../../src/workflows/delivery';
import { fanOutWorkflowId } from '../../src/workflows/fan-out';
import { idOf } from '../lib-api';
import { breakdown, breakdownTable, firstRunId, historyTotals, waitNoneRunning, type HistoryBreakdown } from '../lib-history';
import type { Row, ScenarioOutput } from '../lib-report';
import { log, round, ticker, until } from '../lib-util';
import { storeStatements } from '../lib-queries';
import { progress } from '../support';
import { appWithEndpoints, type Ctx } from './context';

export async function p3FanOut(ctx: Ctx): Promise<ScenarioOutput & { firstRun: HistoryBreakdown | undefined }> {
  const { receiver, scale, stack } = ctx;
  const n = scale.p3.endpoints;
  const appId = await ctx.api.create('/v1/apps', { name: 'p3-fanout' });
  // Straight through the store (as bench/foundation.ts does): 10,000 API calls would measure the
  // endpoint API, not the fan-out. One secret for all: signing cost does not depend on which.
  const secret = generateSecret();
  const createStarted = performance.now();
  for (let i = 0; i < n; i++) {
    await stack.hookline.store.endpoints.create(appId, n, {
      uid: null, url: `${receiver.url}/p3/${i}`, description: '', eventTypes: ['*'], channels: null, signatureScheme: 'standard',
      signatureHeader: null, headers: null, secret, timeoutMs: 10_000, rateLimitPerS: null, retrySchedule: null, metadata: {},
    });
    if (i % 500 === 0) progress('P3 creating endpoints')(i);
  }
  const createMs = performance.now() - createStarted;
  process.stderr.write('\n');

  const before = receiver.count;
  const statements = storeStatements();
  const q0 = statements();
  const posted = performance.now();
  // One event, retried once if no answer came (status 0): the idempotency key makes the retry
  // return the same event rather than a second fan-out. (A full run once lost this POST to a
  // transport error after the minute of endpoint creation.)
  const post = () => ctx.api.postEvent(appId, 'bench.fanout', { n }, { 'idempotency-key': 'p3-fanout' });
  let res = await post();
  if (res.status === 0) {
    log(`P3: the event POST got no answer (${res.error}); retrying it once with the same idempotency key`);
    res = await post();
  }
  const eventId = idOf(res.json);
  if (res.status !== 202 || !eventId) throw new Error(`P3: event not accepted: ${res.status} ${res.error ?? JSON.stringify(res.json)}`);
  const stopTicker = ticker('P3 fan-out', () => `${receiver.count - before}/${n} received`);
  const complete = await until(() => receiver.count - before >= n, scale.p3.timeoutMs, 100).finally(stopTicker);
  const received = receiver.count - before;
  const statementsPerDelivery = (statements() - q0) / Math.max(1, received);
  const lastMs = performance.now() - posted;
  const firstMs = (receiver.firstArrival.get(eventId) ?? NaN) - posted;
  const perS = (received * 1000) / lastMs;

  const query = `WorkflowId = '${fanOutWorkflowId(eventId)}'`;
  await waitNoneRunning(stack.hookline.client, query, 30_000);
  const runs = await historyTotals(stack.hookline.client, query);
  const runId = await firstRunId(stack.hookline.client, fanOutWorkflowId(eventId));
  const firstRun = runId ? await breakdown(stack.hookline.client, fanOutWorkflowId(eventId), runId) : undefined;

  const rows: Row[] = [
    {
      id: 'P3',
      metric: `1 event → ${n} endpoints: deliveries/s`,
      value: perS,
      unit: '/s',
      ref: { name: 'floor', value: ctx.refs.floorPerS },
      target: '>= 90% of floor',
      pass: complete && perS >= 0.9 * ctx.refs.floorPerS,
      note: `${received}/${n} received in ${round(lastMs / 1000)} s; first after ${round(firstMs, 0)} ms; ${round(statementsPerDelivery)} store statements per delivery; endpoints created in ${round(createMs / 1000)} s`,
    },
    { id: 'P3', metric: 'largest fan-out run history', value: runs.maxEvents, unit: 'events', target: '<= 10,000', pass: runs.maxEvents <= 10_000, note: `${runs.runs} fan-out runs, ${runs.totalEvents} events in all` },
  ];
  return { rows, details: { endpoints: n, received, complete, seconds: lastMs / 1000, firstDeliveryMs: firstMs, deliveriesPerS: perS, statementsPerDelivery, endpointCreateSeconds: createMs / 1000, fanOutRuns: runs }, firstRun };
}

async function historyPerDelivery(ctx: Ctx, perEvent: number, events: number) {
  const { receiver, scale, stack } = ctx;
  const { appId, endpointIds } = await appWithEndpoints(ctx.api, `p4-${perEvent}ep`, receiver.url, perEvent);
  const before = receiver.count;
  const eventIds: string[] = [];
  // A few at a time: P4 is about cost, not speed, and a quiet system keeps histories first-try.
  for (let i = 0; i < events; i += 5) {
    const batch = await Promise.all(Array.from({ length: Math.min(5, events - i) }, () => ctx.api.postEvent(appId, 'bench.history', { i })));
    for (const res of batch) {
      const id = idOf(res.json);
      if (res.status !== 202 || !id) throw new Error(`P4: event not accepted: ${res.status}`);
      eventIds.push(id);
    }
  }
  const deliveries = events * perEvent;
  if (!(await until(() => receiver.count - before >= deliveries, scale.drainTimeoutMs, 100))) throw new Error(`P4: ${receiver.count - before}/${deliveries} arrived`);
  const query = `HooklineApp = '${appId}'`;
  await waitNoneRunning(stack.hookline.client, query, 60_000);
  const totals = await historyTotals(stack.hookline.client, query);
  const evt = eventIds[0]!;
  return {
    perEvent,
    events,
    deliveries,
    totals,
    perDelivery: totals.totalEvents / deliveries,
    delivery: await breakdown(stack.hookline.client, deliveryWorkflowId(evt, endpointIds[0]!)),
    fanOut: await breakdown(stack.hookline.client, fanOutWorkflowId(evt)),
  };
}

export async function p4History(ctx: Ctx, p3FirstRun: HistoryBreakdown | undefined): Promise<ScenarioOutput> {
  const one = await historyPerDelivery(ctx, 1, ctx.scale.p4.singleEvents);
  const ten = await historyPerDelivery(ctx, 10, ctx.scale.p4.tenEvents);
  const floor = { name: 'floor history', value: ctx.refs.floorHistoryEvents };
  const rows: Row[] = [one, ten].map((r) => ({
    id: 'P4',
    metric: `history events per delivery, ${r.perEvent} endpoint(s)/event`,
    value: r.perDelivery,
    unit: 'events',
    ref: floor,
    target: '<= 8',
    pass: r.perDelivery <= 8,
    note: Object.entries(r.totals.byType).map(([type, t]) => `${type}: ${t.runs} runs, ${round(t.events / r.deliveries, 2)}/delivery`).join('; '),
  }));
  const columns = [
    { label: 'delivery (first try)', b: one.delivery },
    { label: 'fanOut, 1 endpoint', b: one.fanOut },
    { label: 'fanOut, 10 endpoints', b: ten.fanOut },
    ...(p3FirstRun ? [{ label: 'fanOut run 1 of P3 (a full window)', b: p3FirstRun }] : []),
  ];
  const table = breakdownTable(columns);
  log(`P4 history breakdown:\n${table}`);
  return { rows, details: { oneEndpoint: one, tenEndpoints: ten, p3FirstRun, breakdownMarkdown: table } };
}
