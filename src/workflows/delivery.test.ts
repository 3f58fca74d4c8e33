/**
 * Workflow tests: the real delivery workflow on the shared dev server, with a fake `sendWebhook`
 * that scripts each attempt's outcome. One bundle per run (global setup), unique ids.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWorkflowWorker } from '../../test/support/workflow-worker';
import type { SendInput, SendResult } from '../activities';
import { ActivityFailureType } from '../domain/activity-failures';
import { delivery, deliveryStateQuery, endpointDisabledSignal, resendSignal, type DeliveryInput } from './delivery';

type Script = (input: SendInput) => Partial<SendResult> | Error | Promise<Partial<SendResult>>;

const ok: Partial<SendResult> = { outcome: 'succeeded', statusCode: 200, nextDelayMs: null };
const fail = (nextDelayMs: number | null): Partial<SendResult> => ({ outcome: 'failed', statusCode: 500, nextDelayMs });

describe('delivery workflow', () => {
  const scripts = new Map<string, Script>();
  const calls = new Map<string, SendInput[]>();
  const { env: testEnv, taskQueue } = useWorkflowWorker({
    async sendWebhook(input) {
      calls.set(input.deliveryId, [...(calls.get(input.deliveryId) ?? []), input]);
      const result = (await scripts.get(input.deliveryId)?.(input)) ?? ok;
      if (result instanceof Error) throw result;
      return { outcome: 'failed', statusCode: null, errorCode: null, nextDelayMs: null, scheduleLength: 3, ...result };
    },
  });
  let env: TestWorkflowEnvironment;
  beforeAll(() => {
    env = testEnv();
  });

  const input = (): DeliveryInput => {
    const id = randomUUID();
    return { deliveryId: `dlv_${id}`, appId: 'app_1', eventId: `evt_${id}`, endpointId: 'ep_1', eventType: 'a.b' };
  };
  const start = (i: DeliveryInput) => env.client.workflow.start(delivery, { taskQueue, workflowId: `delivery/${i.eventId}/${i.endpointId}`, args: [i] });
  const untilWaiting = async (handle: Awaited<ReturnType<typeof start>>) => {
    for (let tries = 0; (await handle.query(deliveryStateQuery)).status !== 'waiting'; tries++) {
      if (tries > 100) throw new Error('never waited');
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('retries on its timers with a deterministic jitter and succeeds', async () => {
    const i = input();
    let n = 0;
    scripts.set(i.deliveryId, () => (++n < 3 ? fail(50) : ok));
    const handle = await start(i);
    expect(await handle.result()).toEqual({ status: 'succeeded', attempts: 3 });
    const seen = calls.get(i.deliveryId)!;
    expect(seen.map((c) => [c.attemptNumber, c.retryIndex, c.trigger, c.retry])).toEqual([
      [1, 0, 'scheduled', true],
      [2, 1, 'scheduled', true],
      [3, 2, 'scheduled', true],
    ]);
    for (const c of seen) expect(Math.abs(c.jitter)).toBeLessThanOrEqual(1);

    const history = await handle.fetchHistory();
    const timers = history.events!.filter((e) => e.timerStartedEventAttributes);
    expect(timers).toHaveLength(2);
    const summary = timers[0]!.userMetadata?.summary?.data;
    expect(summary && Buffer.from(summary).toString()).toContain('retry 1/3 in 50ms');
  });

  it('waits out a rate limit with its slot reserved, and a busy endpoint with the same try, on timers', async () => {
    const i = input();
    const outcomes: Partial<SendResult>[] = [{ outcome: 'throttled', nextDelayMs: 30 }, { outcome: 'busy', nextDelayMs: 30 }, fail(20), { outcome: 'busy', nextDelayMs: 40 }, ok];
    scripts.set(i.deliveryId, () => outcomes.shift()!);
    const handle = await start(i);
    expect(await handle.result()).toEqual({ status: 'succeeded', attempts: 2 });
    // A busy answer took no rate-limit slot: a reserved one stays reserved, none is made up.
    expect(calls.get(i.deliveryId)!.map((c) => [c.attemptNumber, c.retryIndex, c.trigger, c.slotReserved])).toEqual([
      [1, 0, 'scheduled', false],
      [1, 0, 'scheduled', true],
      [1, 0, 'scheduled', true],
      [2, 1, 'scheduled', false],
      [2, 1, 'scheduled', false],
    ]);
    const history = await handle.fetchHistory();
    const summaries = history.events!.flatMap((e) => (e.timerStartedEventAttributes && e.userMetadata?.summary?.data ? [Buffer.from(e.userMetadata.summary.data).toString()] : []));
    expect(summaries).toEqual([expect.stringContaining('rate limit: attempt 1 in 30ms'), expect.stringContaining('endpoint busy: attempt 1 in 30ms'), expect.stringContaining('retry 1/3 in 20ms'), expect.stringContaining('endpoint busy: attempt 2 in 40ms')]);
  });

  it('a resend during a busy wait keeps its place in the queue, and the try that follows is manual', async () => {
    const i = input();
    const outcomes: Partial<SendResult>[] = [{ outcome: 'busy', nextDelayMs: 2_000 }, ok];
    scripts.set(i.deliveryId, () => outcomes.shift()!);
    const handle = await start(i);
    await untilWaiting(handle);
    expect((await handle.query(deliveryStateQuery)).nextAttemptInMs).toBe(2_000);
    await handle.signal(resendSignal);
    expect(await handle.result()).toEqual({ status: 'succeeded', attempts: 1 });
    expect(calls.get(i.deliveryId)!.map((c) => [c.attemptNumber, c.trigger])).toEqual([
      [1, 'scheduled'],
      [1, 'manual'],
    ]);
    const events = (await handle.fetchHistory()).events!;
    expect(events.filter((e) => e.timerFiredEventAttributes)).toHaveLength(1);
    expect(events.filter((e) => e.timerCanceledEventAttributes)).toHaveLength(0);
  });

  it('the endpoint-disabled signal ends a busy wait at once', async () => {
    const i = input();
    const outcomes: Partial<SendResult>[] = [{ outcome: 'busy', nextDelayMs: 3_600_000 }, { outcome: 'disabled', nextDelayMs: null }];
    scripts.set(i.deliveryId, () => outcomes.shift()!);
    const handle = await start(i);
    await untilWaiting(handle);
    await handle.signal(endpointDisabledSignal, { statusVersion: 1 });
    expect(await handle.result()).toEqual({ status: 'failed', attempts: 0 });
  });

  it('ends failed when the schedule is spent', async () => {
    const i = input();
    scripts.set(i.deliveryId, (c) => fail(c.attemptNumber < 3 ? 20 : null));
    expect(await (await start(i)).result()).toEqual({ status: 'failed', attempts: 3 });
  });

  it('adopts the attempt number the activity recorded under, and numbers on from it', async () => {
    const i = input();
    // The second try was a manual one whose number was taken: the activity recorded it as 4.
    scripts.set(i.deliveryId, (c) => (c.attemptNumber === 1 ? fail(20) : c.attemptNumber === 2 ? { ...fail(20), attemptNumber: 4 } : fail(null)));
    expect(await (await start(i)).result()).toEqual({ status: 'failed', attempts: 5 });
    expect(calls.get(i.deliveryId)!.map((c) => c.attemptNumber)).toEqual([1, 2, 5]);
  });

  it('a resend signal cuts the wait short with a manual attempt', async () => {
    const i = input();
    let n = 0;
    scripts.set(i.deliveryId, () => (++n === 1 ? fail(3_600_000) : ok));
    const handle = await start(i);
    await untilWaiting(handle);
    expect((await handle.query(deliveryStateQuery)).nextAttemptInMs).toBe(3_600_000);
    await handle.signal(resendSignal);
    expect(await handle.result()).toEqual({ status: 'succeeded', attempts: 2 });
    expect(calls.get(i.deliveryId)!.map((c) => c.trigger)).toEqual(['scheduled', 'manual']);
  });

  it('a resend that fails does not use up a step of the schedule: the wait it cut short starts again', async () => {
    const i = input();
    let n = 0;
    scripts.set(i.deliveryId, () => (++n === 1 ? fail(3_600_000) : n === 2 ? fail(100) : ok));
    const handle = await start(i);
    await untilWaiting(handle);
    await handle.signal(resendSignal);
    expect(await handle.result()).toEqual({ status: 'succeeded', attempts: 3 });
    const made = calls.get(i.deliveryId)!;
    expect(made.map((c) => c.trigger)).toEqual(['scheduled', 'manual', 'scheduled']);
    // The step that follows each attempt if it fails: the manual one repeats the step it cut short.
    expect(made.map((c) => c.retryIndex)).toEqual([0, 0, 1]);
  });

  it('the endpoint-disabled signal ends the wait at once, and the attempt that the store ends sends nothing', async () => {
    const i = input();
    scripts.set(i.deliveryId, (c) => (c.attemptNumber === 1 ? fail(3_600_000) : { outcome: 'disabled', nextDelayMs: null }));
    const handle = await start(i);
    await untilWaiting(handle);
    await handle.signal(endpointDisabledSignal);
    expect(await handle.result()).toEqual({ status: 'failed', attempts: 1 });
    expect(calls.get(i.deliveryId)!.map((c) => [c.attemptNumber, c.trigger, c.retryIndex])).toEqual([
      [1, 'scheduled', 0],
      [2, 'scheduled', 1],
    ]);
  });

  it('a disable notice older than the status version an attempt read is ignored; a newer one ends the wait', async () => {
    const i = input();
    // Disabled (version 1), enabled again (2): attempt 2, the resend, reads version 2.
    scripts.set(i.deliveryId, (c) =>
      c.attemptNumber === 1 ? fail(3_600_000) : c.attemptNumber === 2 ? { ...fail(3_600_000), endpointStatusVersion: 2 } : { outcome: 'disabled', nextDelayMs: null },
    );
    const handle = await start(i);
    await untilWaiting(handle);
    await handle.signal(resendSignal);
    while (calls.get(i.deliveryId)!.length < 2) await new Promise((r) => setTimeout(r, 20));
    await untilWaiting(handle);
    // The health workflow's signal about the version-1 disable arrives late: the run keeps waiting.
    await handle.signal(endpointDisabledSignal, { statusVersion: 1 });
    await untilTaskAfterLastSignal(handle);
    expect(calls.get(i.deliveryId)).toHaveLength(2);
    expect((await handle.query(deliveryStateQuery)).status).toBe('waiting');

    await handle.signal(endpointDisabledSignal, { statusVersion: 3 });
    expect(await handle.result()).toEqual({ status: 'failed', attempts: 2 });
    expect(calls.get(i.deliveryId)!.map((c) => [c.attemptNumber, c.trigger])).toEqual([
      [1, 'scheduled'],
      [2, 'manual'],
      [3, 'scheduled'],
    ]);
  });

  /** Waits until the run has completed a workflow task after its latest signal (it has seen it). */
  async function untilTaskAfterLastSignal(handle: Awaited<ReturnType<typeof start>>) {
    for (let tries = 0; ; tries++) {
      const events = (await handle.fetchHistory()).events!;
      const lastSignal = events.map((e) => Boolean(e.workflowExecutionSignaledEventAttributes)).lastIndexOf(true);
      if (events.slice(lastSignal).some((e) => e.workflowTaskCompletedEventAttributes)) return;
      if (tries > 100) throw new Error('the signal was never handled');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('a revived delivery makes one manual attempt with the next number and no retries', async () => {
    const i = { ...input(), revive: { attemptNumber: 4 } };
    scripts.set(i.deliveryId, () => fail(null));
    expect(await (await start(i)).result()).toEqual({ status: 'failed', attempts: 4 });
    expect(calls.get(i.deliveryId)!.map((c) => [c.attemptNumber, c.trigger, c.retry])).toEqual([[4, 'manual', false]]);
  });

  /**
   * Starts a delivery whose first attempt sends `signal` while it is still running and then ends
   * with `firstResult`; every later attempt ends with `laterResult`.
   */
  async function signalDuringFirstAttempt(signal: typeof resendSignal | typeof endpointDisabledSignal, firstResult: Partial<SendResult>, laterResult = ok) {
    const i = input();
    const signalled: { send?: () => Promise<void>; done?: boolean } = {};
    scripts.set(i.deliveryId, async () => {
      if (signalled.done) return laterResult;
      while (!signalled.send) await new Promise((r) => setTimeout(r, 20));
      await signalled.send();
      signalled.done = true;
      return firstResult;
    });
    const handle = await start(i);
    signalled.send = () => handle.signal(signal);
    return { handle, attempts: () => calls.get(i.deliveryId)!.map((c) => [c.attemptNumber, c.trigger]) };
  }

  async function resendDuringFirstAttempt(firstResult: Partial<SendResult>) {
    const { handle, attempts } = await signalDuringFirstAttempt(resendSignal, firstResult);
    const result = await handle.result();
    return { result, attempts: attempts() };
  }

  it('an endpoint-disabled signal during an attempt is not lost: the next attempt comes at once and the store ends it', async () => {
    // The server hands the signal to the workflow after the attempt, so the wait ends at once.
    const { handle, attempts } = await signalDuringFirstAttempt(endpointDisabledSignal, fail(3_600_000), { outcome: 'disabled', nextDelayMs: null });
    expect(await handle.result()).toEqual({ status: 'failed', attempts: 1 });
    expect(attempts()).toEqual([
      [1, 'scheduled'],
      [2, 'scheduled'],
    ]);
  });

  it('a resend that arrives during the final attempt is honoured, not lost', async () => {
    // The first attempt is also the last by the schedule. Its local result is dropped with the
    // refused completion, so attempt 1 runs again after the signal, as the resend's manual attempt.
    const { result, attempts } = await resendDuringFirstAttempt(fail(null));
    expect(result).toEqual({ status: 'succeeded', attempts: 1 });
    expect(attempts).toEqual([
      [1, 'scheduled'],
      [1, 'manual'],
    ]);
  });

  it('a resend during a final attempt that outlasts the workflow task timeout makes one more attempt, manual and without retries', async () => {
    // The attempt takes 11 s, so the SDK heartbeats the workflow task and the signal reaches the
    // run while the attempt still runs: its result is kept, and the resend's attempt follows it.
    const i = input();
    scripts.set(i.deliveryId, async (call) => {
      if (call.attemptNumber > 1) return fail(null);
      await new Promise((r) => setTimeout(r, 11_000));
      return fail(null);
    });
    const handle = await start(i);
    for (let tries = 0; !calls.get(i.deliveryId); tries++) {
      if (tries > 100) throw new Error('never attempted');
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 500));
    await handle.signal(resendSignal);
    expect(await handle.result()).toEqual({ status: 'failed', attempts: 2 });
    expect(calls.get(i.deliveryId)!.map((c) => [c.attemptNumber, c.trigger, c.retry])).toEqual([
      [1, 'scheduled', true],
      [2, 'manual', false],
    ]);
  }, 60_000);

  it('a resend during an attempt that leaves retries is honoured right after it', async () => {
    const { result, attempts } = await resendDuringFirstAttempt(fail(3_600_000));
    expect(result).toEqual({ status: 'succeeded', attempts: 2 });
    expect(attempts).toEqual([
      [1, 'scheduled'],
      [2, 'manual'],
    ]);
  });

  it('an attempt that outlasts the workflow task timeout (10 s) completes once, not re-run', async () => {
    const i = input();
    scripts.set(i.deliveryId, async () => {
      await new Promise((r) => setTimeout(r, 12_000));
      return ok;
    });
    expect(await (await start(i)).result()).toEqual({ status: 'succeeded', attempts: 1 });
    expect(calls.get(i.deliveryId)).toHaveLength(1);
  }, 60_000);

  it('retries the same attempt number after an infrastructure failure; only a follow-up failure lets the next try reuse the record', async () => {
    const i = input();
    let n = 0;
    scripts.set(i.deliveryId, () => (++n === 1 ? ApplicationFailure.retryable('store unavailable', 'StoreError') : n === 2 ? ApplicationFailure.retryable('recorded; health wake failed', ActivityFailureType.followUpFailed) : ok));
    expect(await (await start(i)).result()).toEqual({ status: 'succeeded', attempts: 1 });
    expect(calls.get(i.deliveryId)!.map((c) => [c.attemptNumber, c.afterFailedTry])).toEqual([
      [1, false],
      [1, false],
      [1, true],
    ]);
  }, 20_000);

  it('a resend during the wait after a follow-up failure asks for a new send, not the recorded attempt', async () => {
    const i = input();
    let n = 0;
    let signalled!: () => void;
    const signalSent = new Promise<void>((resolve) => (signalled = resolve));
    // The first try fails only once the signal is in, so the signal always lands before the retry.
    scripts.set(i.deliveryId, async () => {
      if (++n > 1) return ok;
      await signalSent;
      throw ApplicationFailure.retryable('recorded; health wake failed', ActivityFailureType.followUpFailed);
    });
    const handle = await start(i);
    for (let tries = 0; !calls.get(i.deliveryId); tries++) {
      if (tries > 100) throw new Error('never attempted');
      await new Promise((r) => setTimeout(r, 20));
    }
    await handle.signal(resendSignal);
    signalled();
    expect(await handle.result()).toEqual({ status: 'succeeded', attempts: 1 });
    expect(calls.get(i.deliveryId)!.map((c) => [c.trigger, c.afterFailedTry])).toEqual([
      ['scheduled', false],
      ['manual', false],
    ]);
  });
});
