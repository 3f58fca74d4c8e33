/**
 * The real durations, on Temporal's time-skipping test server (the Java one from Maven Central,
 * scripts/temporal-test-server.sh): a delivery's full `standard` schedule (about 75 h) and the
 * endpoint-health workflow's 24 h `failure_rate` window against a real store. Skipped when Java
 * or Maven is missing.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type ActivityInboundCallsInterceptor } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../activities';
import type { HttpSender } from '../activities/http-sender';
import type { SendInput } from '../activities/send-webhook';
import { Context } from '@temporalio/activity';
import { SchedulePresets } from '../domain/schedule';
import type { Store } from '../store';
import { openMemoryStore, storedApp, storedDelivery, storedEndpoint } from '../../test/support/store-fixtures';
import { temporal } from '@temporalio/proto';
import { hooklineSearchAttributes } from './search-attributes';
import { delivery, deliveryWorkflowId } from './delivery';
import { recover, recoverWorkflowId } from './recover';
import { endpointHealth, wakeEndpointHealth } from './endpoint-health';
import { createMetrics } from '../metrics';
import { deliveryResender, deliveryStopper } from '../temporal';

const script = join(__dirname, '..', '..', 'scripts', 'temporal-test-server.sh');
const available = (() => {
  try {
    execFileSync(script, ['--check'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * The activities' clock is the test server's skipped time. `sendWebhook` runs as a local
 * activity, whose task carries the worker's clock, so an interceptor asks the server for its
 * time as each activity starts (time does not skip while a task is running).
 */
let skippedBase = { serverMs: Date.now(), realMs: Date.now() };
const skippedNow = () => new Date(skippedBase.serverMs + (Date.now() - skippedBase.realMs));

/**
 * The SDK waits a fixed few seconds for the Java server to listen. On a loaded machine (the other
 * test files run beside this one) a JVM start can miss that once, so the start is tried again.
 */
async function startTimeSkipping(tries = 3): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: script } } });
    } catch (err) {
      if (attempt >= tries) throw err;
      console.warn(`time-skipping test server did not start (attempt ${attempt} of ${tries}): ${String(err)}`);
    }
  }
}

describe.runIf(available)('long schedules on the time-skipping test server', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let run: Promise<void>;
  let store: Store;
  const taskQueue = `long-${randomUUID()}`;
  const attemptsAt: Date[] = [];
  /** Every sendWebhook call's input, as the worker received it. */
  const sends: SendInput[] = [];
  let watchHealth = false;

  beforeAll(async () => {
    env = await startTimeSkipping();
    // The Java test server implements AddSearchAttributes but not ListSearchAttributes.
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(hooklineSearchAttributes.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
    });
    store = await openMemoryStore();
    // The real activities over a real store; only the receiver (always 500) and the clock are stand-ins.
    const http: HttpSender = {
      async post() {
        attemptsAt.push(skippedNow());
        return { durationMs: 5, statusCode: 500, headers: {}, body: 'down', bodyTruncated: false, errorCode: null, errorMessage: null };
      },
      async close() {},
    };
    const activities = createActivities({
      store,
      http,
      urlPolicy: { allowInsecure: false, allowSubnets: [] },
      userAgent: 'Hookline/test',
      now: skippedNow,
      reportFailure: async (endpointId) => {
        if (!watchHealth) return;
        await env.client.workflow.signalWithStart(endpointHealth, wakeEndpointHealth(endpointId, taskQueue));
      },
      stopDelivery: deliveryStopper(env.client),
      resend: deliveryResender(store, env.client.workflow, taskQueue, { warn: () => undefined }),
      metrics: createMetrics(),
    });
    const clock: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        skippedBase = { serverMs: await env.currentTimeMs(), realMs: Date.now() };
        if (Context.current().info.activityType === 'sendWebhook') sends.push(input.args[0] as SendInput);
        return next(input);
      },
    };
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      activities,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      interceptors: { activity: [() => ({ inbound: clock })] },
    });
    run = worker.run();
  }, 180_000);
  afterAll(async () => {
    worker?.shutdown();
    await run;
    await env?.teardown();
    await store?.close();
  });

  async function failingDelivery(schedule: 'standard' | string[]) {
    const app = await storedApp(store, { retrySchedule: schedule });
    const endpoint = await storedEndpoint(store, app.id);
    return { app, endpoint, ...(await storedDelivery(store, app.id, endpoint.id)) };
  }

  it('a recovery longer than one run (100 pages) continues as new and resends each delivery once', async () => {
    watchHealth = false;
    const { app, endpoint, deliveryId, eventId } = await failingDelivery(['1h']);
    const failed = [{ deliveryId, eventId }];
    for (let i = 0; i < 100; i++) {
      failed.push(await storedDelivery(store, app.id, endpoint.id));
    }
    for (const f of failed) await store.deliveries.endPending(f.deliveryId, { status: 'failed', nextAttemptAt: null, failureReason: 'schedule_exhausted' });

    // One resend per page: 101 full pages, then an empty one, so the first run ends after 100.
    const recoveryId = `rcv_${randomUUID()}`;
    const handle = await env.client.workflow.start(recover, {
      taskQueue,
      workflowId: recoverWorkflowId(recoveryId),
      args: [{ recoveryId, appId: app.id, endpointId: endpoint.id, sinceMs: 0, untilMs: Date.now() + 3_600_000, perS: 1 }],
    });
    expect(await handle.result()).toEqual({ resent: 101, status: 'completed' });
    const firstRun = await env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory();
    expect(firstRun.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();

    for (const f of failed) await env.client.workflow.getHandle(deliveryWorkflowId(f.eventId, endpoint.id)).result();
    for (const f of failed) {
      const manual = (await store.deliveries.attempts(f.deliveryId)).filter((a) => a.trigger === 'manual');
      expect(manual, f.deliveryId).toHaveLength(1);
    }
  }, 180_000);

  it('runs the whole standard schedule (~75 h) and ends failed, each wait within ±20% of its step', async () => {
    attemptsAt.length = 0;
    // Health watching is the next test's business; here the schedule alone decides.
    watchHealth = false;
    const { endpoint, deliveryId, eventId, app } = await failingDelivery('standard');
    const handle = await env.client.workflow.start(delivery, { taskQueue, workflowId: `delivery/${eventId}/${endpoint.id}`, args: [{ deliveryId, appId: app.id, eventId, endpointId: endpoint.id, eventType: 'a.b' }] });
    expect(await handle.result()).toEqual({ status: 'failed', attempts: 10 });
    const gaps = attemptsAt.slice(1).map((t, i) => t.getTime() - attemptsAt[i]!.getTime());
    SchedulePresets.standard.forEach((step, i) => {
      expect(gaps[i]).toBeGreaterThanOrEqual(step * 0.8 - 1000);
      expect(gaps[i]).toBeLessThanOrEqual(step * 1.2 + 1000);
    });
    const total = attemptsAt.at(-1)!.getTime() - attemptsAt[0]!.getTime();
    expect(total / 3_600_000).toBeGreaterThan(60);
  }, 120_000);

  it('an outage longer than the infrastructure retries (60 failed tries, ~9 h) does not end the run: it continues as new, and sends each attempt once', async () => {
    watchHealth = false;
    attemptsAt.length = 0;
    const { app, endpoint, deliveryId, eventId } = await failingDelivery(['1h']);
    const load = store.loadSendContext;
    let refused = 0;
    store.loadSendContext = async (id, ...rest) => {
      if (id === deliveryId && refused < 60) {
        refused++;
        throw new Error('store unavailable');
      }
      return load(id, ...rest);
    };
    try {
      const workflowId = `delivery/${eventId}/${endpoint.id}`;
      const first = await env.client.workflow.start(delivery, { taskQueue, workflowId, args: [{ deliveryId, appId: app.id, eventId, endpointId: endpoint.id, eventType: 'a.b' }] });
      expect(await first.result()).toEqual({ status: 'failed', attempts: 2 });
      expect(refused).toBe(60);
      expect(attemptsAt).toHaveLength(2);
      // No try failed after a recorded attempt, so none, in either run, may conclude from a record.
      const mine = sends.filter((s) => s.deliveryId === deliveryId);
      expect(mine).toHaveLength(62);
      expect(mine.filter((s) => s.afterFailedTry)).toEqual([]);
      // 50 failed tries per run: the second run made the attempts, with the same numbers.
      const last = await env.client.workflow.getHandle(workflowId).describe();
      expect(last.runId).not.toBe(first.firstExecutionRunId);
      expect((await store.deliveries.byId(deliveryId))!).toMatchObject({ status: 'failed', attemptCount: 2, failureReason: 'schedule_exhausted' });
    } finally {
      store.loadSendContext = load;
    }
  }, 120_000);

  it('failure_rate disables only once failures span ~90% of the 24 h window, with 10+ attempts', async () => {
    attemptsAt.length = 0;
    watchHealth = true;
    const hourly = Array.from({ length: 20 }, () => '90m');
    const { endpoint, deliveryId, eventId, app } = await failingDelivery(hourly);
    const handle = await env.client.workflow.start(delivery, { taskQueue, workflowId: `delivery/${eventId}/${endpoint.id}`, args: [{ deliveryId, appId: app.id, eventId, endpointId: endpoint.id, eventType: 'a.b' }] });
    const result = await handle.result();
    expect(result.status).toBe('failed');
    const disabled = (await store.endpoints.get(app.id, endpoint.id))!;
    expect(disabled.status).toBe('disabled');
    const failingFor = disabled.disabledAt!.getTime() - attemptsAt[0]!.getTime();
    expect(failingFor / 3_600_000).toBeGreaterThanOrEqual(21.6);
    expect(failingFor / 3_600_000).toBeLessThan(26);
    expect(attemptsAt.length).toBeGreaterThanOrEqual(10);
    expect((await store.deliveries.byId(deliveryId))!.failureReason).toBe('endpoint_disabled');
  }, 120_000);
});
