/**
 * Retry schedules, server hints, endpoint health and auto-disable on a real dev server with
 * compressed durations; operational events arrive signed at the operator's receiver.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../src/domain/signing';
import { deliveryWorkflowId } from '../src/workflows/delivery';
import { endpointHealthWorkflowId } from '../src/workflows/endpoint-health';
import { createApp, createEndpoint, deliveriesOf, deliveryOf, sendEvent } from './support/factories';
import { overrideWorkflows, startTestHookline, startWithEnv, storeKinds, testEnv, type TestHookline } from './support/hookline';
import { startReceiver, type Receiver } from './support/receiver';
import { sample, scrape } from './support/metrics';
import { waitUntil } from './support/wait';

describe.each(storeKinds)('retries and health on %s', (kind) => {
  let t: TestHookline;
  let operator: Receiver;
  const operatorSecret = generateSecret();
  const receivers: Receiver[] = [];
  const receiver = async () => {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  };
  /** Operational events of one type about one subject, verified with the operator secret. */
  const operationalEvents = async (type: string, match: (data: Record<string, unknown>) => boolean) => {
    const wh = new Webhook(operatorSecret);
    const found = await waitUntil(
      async () => operator.requests.map((q) => wh.verify(q.body, q.headers as Record<string, string>) as { type: string; data: Record<string, unknown> }).filter((e) => e.type === type && match(e.data)),
      (list) => list.length > 0,
      30_000,
      `operational event ${type}`,
    );
    return found;
  };

  beforeAll(async () => {
    operator = await startReceiver();
    t = await startTestHookline(kind, {
      env: {
        HOOKLINE_OPERATOR_WEBHOOK_URL: `${operator.url}/ops`,
        HOOKLINE_OPERATOR_WEBHOOK_SECRET: operatorSecret,
        HOOKLINE_DISPATCH_INTERVAL_MS: '300',
        HOOKLINE_DISPATCH_GRACE_MS: '0',
        HOOKLINE_MAX_ENDPOINTS_PER_APP: '1000',
      },
    });
  });
  afterAll(async () => {
    await Promise.all([operator, ...receivers].map((r) => r?.close()));
    await t?.stop();
  });

  it('follows a short schedule to the end, fails, and emits delivery.exhausted, then delivery.recovered after a resend', async () => {
    const app = await createApp(t.api, { retry_schedule: ['100ms', '200ms', '300ms'] });
    const r = await receiver();
    r.setDefault({ status: 500 });
    await createEndpoint(t.api, app.id, { url: r.url });
    const event = await sendEvent(t.api, app.id);
    const [d] = await waitUntil(() => deliveriesOf(t.api, app.id, event.id), (ds) => ds[0]?.status === 'failed', 20_000, 'failed delivery');
    expect(d).toMatchObject({ attempt_count: 4, failure_reason: 'schedule_exhausted' });
    const gaps = r.requests.slice(1).map((q, i) => q.at - r.requests[i]!.at);
    [100, 200, 300].forEach((ms, i) => expect(gaps[i]).toBeGreaterThanOrEqual(ms * 0.8 - 5));
    const [exhausted] = await operationalEvents('delivery.exhausted', (data) => data.delivery_id === d!.id);
    expect(exhausted!.data).toMatchObject({ event_id: event.id, attempts: 4 });
    await t.hookline.client.workflow.getHandle(deliveryWorkflowId(event.id, d!.endpoint_id)).result();
    r.setDefault({ status: 200 });
    expect((await t.api.post(`/v1/apps/${app.id}/deliveries/${d!.id}/resend`)).status).toBe(202);
    const [recovered] = await operationalEvents('delivery.recovered', (data) => data.delivery_id === d!.id);
    expect(recovered!.data).toMatchObject({ event_id: event.id, attempts: 5 });
  });

  it('/stats reports the endpoint\'s attempts, success rate and latency over 24 h', async () => {
    const app = await createApp(t.api, { retry_schedule: ['100ms'] });
    const r = await receiver();
    r.script({ status: 500, delayMs: 60 });
    r.setDefault({ status: 200, delayMs: 120 });
    const ep = await createEndpoint(t.api, app.id, { url: r.url });
    const empty = await t.api.get(`/v1/apps/${app.id}/endpoints/${ep.id}/stats`);
    expect(empty.body).toMatchObject({ endpoint_id: ep.id, attempts: 0, succeeded: 0, failed: 0, success_rate: null, latency_ms: { p50: null, p95: null } });
    const event = await sendEvent(t.api, app.id);
    await waitUntil(() => deliveriesOf(t.api, app.id, event.id), (ds) => ds[0]?.status === 'succeeded', 20_000, 'delivered on the retry');
    const stats = (await t.api.get(`/v1/apps/${app.id}/endpoints/${ep.id}/stats`)).body;
    expect(stats).toMatchObject({ attempts: 2, succeeded: 1, failed: 1, success_rate: 0.5 });
    expect(new Date(stats.until).getTime() - new Date(stats.since).getTime()).toBe(24 * 3600 * 1000);
    // Two attempts of about 60 and 120 ms: the median between them, p95 near the slower.
    expect(stats.latency_ms.p50).toBeGreaterThanOrEqual(60);
    expect(stats.latency_ms.p95).toBeGreaterThan(stats.latency_ms.p50);
    expect(stats.latency_ms.p95).toBeGreaterThanOrEqual(110);
  });

  it('honours Retry-After on 429, clamped to twice the scheduled delay', async () => {
    const app = await createApp(t.api, { retry_schedule: ['1s'] });
    const r = await receiver();
    r.script({ status: 429, headers: { 'retry-after': '2' } });
    await createEndpoint(t.api, app.id, { url: r.url });
    const event = await sendEvent(t.api, app.id);
    const [first] = await waitUntil(() => deliveriesOf(t.api, app.id, event.id), (ds) => ds[0]?.attempt_count === 1, 20_000, 'first attempt');
    const detail = await deliveryOf(t.api, app.id, first!.id);
    const planned = Date.parse(detail.next_attempt_at!) - Date.parse((detail.attempts![0] as unknown as { started_at: string }).started_at);
    // 1 s ± 20% would be 0.8–1.2 s; the hint moves it to min(2 s, 2 × that): 1.6–2 s.
    expect(planned).toBeGreaterThanOrEqual(1_600);
    expect(planned).toBeLessThanOrEqual(2_100);
    await r.waitFor(2);
    expect(r.requests[1]!.at - r.requests[0]!.at).toBeGreaterThanOrEqual(1_550);
  });

  it('410 Gone disables the endpoint at once; new events are skipped; enable resets and delivers again', async () => {
    const app = await createApp(t.api, { retry_schedule: ['100ms', '100ms'] });
    const r = await receiver();
    r.script({ status: 410 });
    const ep = await createEndpoint(t.api, app.id, { url: r.url });
    const event = await sendEvent(t.api, app.id);
    const [d] = await waitUntil(() => deliveriesOf(t.api, app.id, event.id), (ds) => ds[0]?.status === 'failed', 20_000, 'failed delivery');
    expect(d!.failure_reason).toBe('endpoint_disabled');
    const endpoint = (await t.api.get(`/v1/apps/${app.id}/endpoints/${ep.id}`)).body;
    expect(endpoint).toMatchObject({ status: 'disabled', disabled_reason: expect.stringContaining('410') });
    expect(endpoint.disabled_at).toEqual(expect.any(String));
    await operationalEvents('endpoint.disabled', (data) => data.endpoint_id === ep.id);

    const skippedEvent = await sendEvent(t.api, app.id);
    const [skipped] = await waitUntil(() => deliveriesOf(t.api, app.id, skippedEvent.id), (ds) => ds.length === 1, 20_000, 'skipped delivery');
    expect(skipped).toMatchObject({ status: 'skipped', attempt_count: 0 });
    expect(r.requests).toHaveLength(1);

    const enabled = await t.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/enable`);
    expect(enabled.body).toMatchObject({ status: 'active', disabled_reason: null, disabled_at: null });
    await operationalEvents('endpoint.enabled', (data) => data.endpoint_id === ep.id);
    // Enabling an active endpoint changes nothing: no health reset, no second endpoint.enabled.
    const { health_reset_at: resetAt } = await t.hookline.store.db.selectFrom('endpoints').select('health_reset_at').where('id', '=', ep.id).executeTakeFirstOrThrow();
    const twice = await t.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/enable`);
    expect(twice.body).toMatchObject({ status: 'active', updated_at: enabled.body.updated_at });
    expect((await t.hookline.store.db.selectFrom('endpoints').select('health_reset_at').where('id', '=', ep.id).executeTakeFirstOrThrow()).health_reset_at).toEqual(resetAt);
    const again = await sendEvent(t.api, app.id);
    await waitUntil(() => deliveriesOf(t.api, app.id, again.id), (ds) => ds[0]?.status === 'succeeded', 20_000, 'delivery after enable');

    // The 410 ended its delivery by disabling the endpoint, not by exhausting the schedule: no
    // delivery.exhausted was sent, so its resend succeeding is no delivery.recovered either.
    expect((await t.api.post(`/v1/apps/${app.id}/deliveries/${d!.id}/resend`)).status).toBe(202);
    await waitUntil(() => deliveryOf(t.api, app.id, d!.id), (x) => x.status === 'succeeded', 20_000, 'the resent delivery');
    await t.hookline.client.workflow.getHandle(deliveryWorkflowId(event.id, ep.id)).result();
    const aboutIt = await t.hookline.store.db.selectFrom('events').select('type').where('type', 'like', 'delivery.%').where('payload', 'like', `%${d!.id}%`).execute();
    expect(aboutIt).toEqual([]);
  });

  it('the consecutive policy disables after N failures, and the pending delivery stops', async () => {
    // Failures are reported to the health workflow at most every 2 s, so the schedule outlasts that.
    const app = await createApp(t.api, { retry_schedule: ['500ms', '500ms', '500ms', '500ms', '500ms', '500ms', '500ms', '500ms', '500ms', '500ms', '500ms', '500ms'], disable_policy: { type: 'consecutive', threshold: 3 } });
    const r = await receiver();
    r.setDefault({ status: 500 });
    const ep = await createEndpoint(t.api, app.id, { url: r.url });
    const event = await sendEvent(t.api, app.id);
    const [d] = await waitUntil(() => deliveriesOf(t.api, app.id, event.id), (ds) => ds[0]?.status === 'failed', 20_000, 'failed delivery');
    expect(d!.failure_reason).toBe('endpoint_disabled');
    expect((await t.api.get(`/v1/apps/${app.id}/endpoints/${ep.id}`)).body).toMatchObject({ status: 'disabled', disabled_reason: expect.stringMatching(/3/) });
    expect(r.requests.length).toBeGreaterThanOrEqual(3);
    expect(r.requests.length).toBeLessThan(13);
    const health = await t.hookline.client.workflow.getHandle(endpointHealthWorkflowId(ep.id)).result();
    expect(health.verdict).toBe('disabled');
  });

  /** Two events whose first attempts failed, each delivery now waiting on a one-hour retry timer. */
  async function twoWaitingDeliveries() {
    const app = await createApp(t.api, { retry_schedule: ['1h'] });
    const r = await receiver();
    r.setDefault({ status: 500 });
    const ep = await createEndpoint(t.api, app.id, { url: r.url });
    const waiting = [];
    for (let i = 0; i < 2; i++) {
      const event = await sendEvent(t.api, app.id);
      const [d] = await waitUntil(() => deliveriesOf(t.api, app.id, event.id), (ds) => ds[0]?.attempt_count === 1, 20_000, 'first attempt');
      waiting.push({ ...d!, handle: t.hookline.client.workflow.getHandle(deliveryWorkflowId(event.id, ep.id)) });
    }
    return { app, ep, r, waiting };
  }

  /** Each workflow ends `failed` within seconds, not at its timer, and the Web UI sees it. */
  async function expectStopped(app: { id: string }, waiting: Awaited<ReturnType<typeof twoWaitingDeliveries>>['waiting']) {
    for (const d of waiting) {
      expect(await d.handle.result()).toEqual({ status: 'failed', attempts: 1 });
      const { searchAttributes } = await d.handle.describe();
      expect(searchAttributes.HooklineStatus).toEqual(['failed']);
      expect(await deliveryOf(t.api, app.id, d.id)).toMatchObject({ status: 'failed', failure_reason: 'endpoint_disabled', next_attempt_at: null, attempt_count: 1 });
    }
  }

  it('disabling through the API ends the workflows of deliveries waiting on their timers', async () => {
    const { app, ep, r, waiting } = await twoWaitingDeliveries();
    // No health workflow runs to notice the disable on its own: the API must wake one. (Failure
    // reports trail by up to 2 s, so wait them out before ending the one the failures started.)
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await t.hookline.client.workflow.getHandle(endpointHealthWorkflowId(ep.id)).terminate('the test needs no health workflow running');
    expect((await t.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/disable`, { reason: 'maintenance' })).body.status).toBe('disabled');
    expect(await deliveryOf(t.api, app.id, waiting[0]!.id)).toMatchObject({ status: 'failed', failure_reason: 'endpoint_disabled', next_attempt_at: null });
    await expectStopped(app, waiting);
    expect(r.requests).toHaveLength(2);
    expect(sample(await scrape(`${t.api.url}/metrics`), 'hookline_endpoints_disabled_total', { cause: 'api' })).toBeGreaterThanOrEqual(1);
  });

  it('a disable through the API answers at once while the health workflow cannot be reached', async () => {
    let release!: () => void;
    const unreachable = new Promise<void>((resolve) => (release = resolve));
    const hang = overrideWorkflows({
      signalWithStart: async () => {
        await unreachable;
        throw new Error('injected: Temporal unreachable');
      },
    });
    const down = await startWithEnv(await testEnv(kind), { wrapWorkflows: hang });
    try {
      const app = await createApp(down.api);
      const ep = await createEndpoint(down.api, app.id, { url: 'http://127.0.0.1:9/never' });
      const disabled = await down.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/disable`, { reason: 'maintenance' });
      expect(disabled.status).toBe(200);
      expect(disabled.body.status).toBe('disabled');
    } finally {
      release();
      await down.stop();
    }
  });

  it('a 410 ends the workflows of the endpoint\'s other deliveries waiting on their timers', async () => {
    const { app, r, waiting } = await twoWaitingDeliveries();
    r.script({ status: 410 });
    const gone = await sendEvent(t.api, app.id);
    await waitUntil(() => deliveriesOf(t.api, app.id, gone.id), (ds) => ds[0]?.status === 'failed', 20_000, 'the 410 delivery');
    await expectStopped(app, waiting);
    expect(r.requests).toHaveLength(3);
    const metrics = await scrape(`${t.api.url}/metrics`);
    expect(sample(metrics, 'hookline_endpoints_disabled_total', { cause: 'gone' })).toBeGreaterThanOrEqual(1);
    expect(sample(metrics, 'hookline_delivery_attempt_duration_seconds_count', { outcome: 'failed', trigger: 'scheduled' })).toBeGreaterThanOrEqual(3);
  });

  it("a test send's 410 disables the endpoint and ends the workflows of its deliveries waiting on their timers", async () => {
    const { app, ep, r, waiting } = await twoWaitingDeliveries();
    // As above: no health workflow runs, so the test send's 410 must wake one itself.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await t.hookline.client.workflow.getHandle(endpointHealthWorkflowId(ep.id)).terminate('the test needs no health workflow running');
    r.script({ status: 410 });
    expect((await t.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/test`)).status).toBe(202);
    await expectStopped(app, waiting);
    expect((await t.api.get(`/v1/apps/${app.id}/endpoints/${ep.id}`)).body).toMatchObject({ status: 'disabled', disabled_reason: expect.stringContaining('410') });
    // The test send's failure itself is not in the statistics.
    expect((await t.api.get(`/v1/apps/${app.id}/endpoints/${ep.id}/stats`)).body).toMatchObject({ attempts: 2, failed: 2 });
  });

  it('1,000 successful deliveries start no endpointHealth workflow', async () => {
    const app = await createApp(t.api);
    const r = await receiver();
    for (let i = 0; i < 1000; i++) {
      await t.hookline.store.endpoints.create(app.id, 1000, {
        uid: null, url: `${r.url}/ok/${i}`, description: '', eventTypes: ['*'], channels: null, signatureScheme: 'standard', signatureHeader: null,
        secret: generateSecret(), headers: null, timeoutMs: 10_000, rateLimitPerS: null, retrySchedule: null, metadata: {},
      });
    }
    const event = await sendEvent(t.api, app.id);
    await r.waitFor(1000, 240_000);
    await waitUntil(() => t.hookline.store.deliveries.list(app.id, { limit: 1, status: 'pending', eventId: event.id }), (p) => p.data.length === 0, 60_000, 'all recorded');
    const failing = await t.hookline.store.deliveries.list(app.id, { limit: 1, status: 'failed', eventId: event.id });
    expect(failing.data).toHaveLength(0);
    const rows = await t.hookline.store.db.selectFrom('endpoints').select('id').where('app_id', '=', app.id).execute();
    const mine = new Set(rows.map((e) => endpointHealthWorkflowId(e.id)));
    expect(mine.size).toBe(1000);
    // The earlier tests failed on purpose, so health workflows exist here: the query does see them.
    let all = 0;
    let forThese = 0;
    for await (const w of t.hookline.client.workflow.list({ query: `WorkflowType = 'endpointHealth' AND TaskQueue = '${t.env.HOOKLINE_TASK_QUEUE}'` })) {
      all++;
      if (mine.has(w.workflowId)) forThese++;
    }
    expect(all).toBeGreaterThan(0);
    expect(forThese).toBe(0);
  }, 300_000);

  it('a rate-limited endpoint gets 50 events at 5/s across workers, all delivered', async () => {
    // On PostgreSQL a second worker process shares the task queue; PGlite is single-process.
    // It serves /metrics on a port of its own, as a worker-only process would be scraped.
    const second = kind === 'postgres' ? await startWithEnv({ ...t.env, HOOKLINE_ROLE: 'worker', HOOKLINE_METRICS_PORT: '0' }) : undefined;
    const sent = { outcome: 'succeeded', trigger: 'scheduled' };
    const sentHere = async () => sample(await scrape(`${t.api.url}/metrics`), 'hookline_delivery_attempt_duration_seconds_count', sent);
    const before = await sentHere();
    try {
      const app = await createApp(t.api);
      const r = await receiver();
      const ep = await createEndpoint(t.api, app.id, { url: r.url, rate_limit_per_s: 5 });
      const started = Date.now();
      for (let i = 0; i < 50; i++) await sendEvent(t.api, app.id, { data: { i } });
      await r.waitFor(50, 60_000);
      const spanMs = r.requests[49]!.at - r.requests[0]!.at;
      expect(spanMs).toBeGreaterThanOrEqual(9_000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(9_500);
      // Sends leave the gate at least 200 ms apart, so the attempts' start times (taken as each
      // leaves the gate) put at most 5 in any one second, plus one at its edge. The receiver's
      // arrival times are not used: on a loaded machine the way there varies by more than that.
      const recorded = () => t.hookline.store.db.selectFrom('attempts').select('started_at').where('endpoint_id', '=', ep.id).execute();
      const starts = (await waitUntil(recorded, (rows) => rows.length === 50, 10_000, '50 attempts recorded')).map((a) => new Date(a.started_at).getTime());
      for (const at of starts) expect(starts.filter((o) => o >= at && o < at + 1000).length).toBeLessThanOrEqual(6);
      expect(new Set(r.requests.map((q) => q.headers['webhook-id'])).size).toBe(50);
      // Every attempt is counted once, by the process that sent it.
      const sentThere = second ? sample(await scrape(second.hookline.metricsUrl!), 'hookline_delivery_attempt_duration_seconds_count', sent) : 0;
      expect((await sentHere()) - before + sentThere).toBe(50);
      if (second) {
        // The worker-only process is watched on the same port: up, and ready with its worker running.
        const base = second.hookline.metricsUrl!.replace(/\/metrics$/, '');
        expect(await fetch(`${base}/healthz`).then((x) => x.json())).toEqual({ status: 'ok' });
        const ready = await fetch(`${base}/readyz`);
        expect(ready.status).toBe(200);
        expect(await ready.json()).toEqual({ status: 'ok', checks: { store: 'ok', temporal: 'ok', worker: 'ok' } });
      }
    } finally {
      await second?.stop({ keepData: true });
    }
  }, 120_000);
});
