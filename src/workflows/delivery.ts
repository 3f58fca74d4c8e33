/**
 * `delivery`: one per (event, endpoint), id `delivery/<evt>/<ep>` (PRODUCT.md §8).
 *
 * Attempts go through the `sendWebhook` activity, which is never retried by Temporal: every
 * retry is this workflow's durable timer, so the schedule survives restarts of every process.
 * The `resend` signal cuts a wait short; a resend after the workflow ended starts a new run
 * (signal-with-start) that makes one `manual` attempt.
 *
 * `sendWebhook` runs as a local activity, inside the workflow task that decides on the attempt:
 * a first-try delivery is then one workflow task (7 history events) instead of two plus an
 * activity task (12), and one task-queue hop shorter. What that changes, and why it is safe:
 * - A worker lost mid-attempt makes the workflow task time out; the attempt runs again on
 *   another worker with the same number: concluded from its record if it has one (a failed
 *   manual attempt is sent again, as the next number), else sent (attempt rows are upserts).
 * - A resend that arrives during an attempt that would end the delivery: the server refuses to
 *   complete a workflow with a signal pending, so the task fails and the attempt's result is not
 *   kept. On the next task the signal comes first and the attempt runs again with the same number
 *   as `manual`: if it had succeeded, that try concludes from its record without sending;
 *   otherwise the receiver gets the message twice (same `webhook-id`), and the second POST is
 *   recorded as the next attempt, whose number the workflow adopts from the result. A resend
 *   during an attempt that does not end the delivery is honoured right after it.
 *   The endpoint's disable signal refuses a completion the same way.
 * - The endpoint timeout (≤ 30 s) can outlast the workflow task timeout; the SDK heartbeats the
 *   task while a local activity runs.
 */
import {
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  isCancellation,
  proxyLocalActivities,
  patched,
  setHandler,
  sleep,
  TemporalFailure,
  upsertSearchAttributes,
  WorkflowIdReusePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, SendResult } from '../activities';
import type { AttemptTrigger, Delivery } from '../domain/model';
import { ActivityFailureType } from '../domain/activity-failures';
import { formatDuration } from '../domain/schedule';
import { deliverySearchAttributes, HooklineStatus } from './search-attributes';

export interface DeliveryInput {
  deliveryId: string;
  appId: string;
  eventId: string;
  endpointId: string;
  eventType: string;
  /** Set when a resend revives a finished delivery: the number its one manual attempt takes. */
  revive?: { attemptNumber: number };
  /** A test send: one `test` attempt, no retries. */
  test?: boolean;
  /** Set when a run continues as new during a long infrastructure outage: where the last run stood. */
  resume?: DeliveryResume;
}

/** The loop's state, carried as it stands; the next run's loop applies a pending resend itself. */
export interface DeliveryResume {
  attemptNumber: number;
  retryIndex: number;
  trigger: AttemptTrigger;
  slotReserved: boolean;
  infraFailures: number;
  /** The last try's attempt is recorded and only a follow-up failed (SendInput.afterFailedTry). */
  afterFailedTry: boolean;
  /** A resend asked for one more attempt after the schedule had ended the delivery. */
  scheduleEnded: boolean;
  /** A resend signal that arrived during the last wait. */
  resendRequested: boolean;
  /** The highest endpoint status version an attempt has read; null when none has. */
  seenStatusVersion: number | null;
}

export const DeliveryOutcome = { succeeded: 'succeeded', failed: 'failed' } as const;
export type DeliveryOutcome = (typeof DeliveryOutcome)[keyof typeof DeliveryOutcome];

export interface DeliveryResult {
  status: DeliveryOutcome;
  attempts: number;
}

export interface DeliveryState {
  status: 'attempting' | 'waiting' | DeliveryOutcome;
  attemptNumber: number;
  nextAttemptInMs: number | null;
  last: Pick<SendResult, 'outcome' | 'statusCode' | 'errorCode'> | null;
}

export const resendSignal = defineSignal('resend');
/** The endpoint's status version after the disable that ended the delivery (`endpoints.status_version`). */
export interface EndpointDisabledNotice {
  statusVersion: number;
}
/**
 * The endpoint was disabled (the health workflow signals each delivery the disable ended): stop
 * waiting and attempt now. The attempt consults the store, where the disable already ended the
 * delivery, so it sends nothing and the workflow ends `failed`. A signal that arrives during an
 * attempt reaches the workflow after it, so the next attempt comes at once and does the same.
 * Every disable and re-enable raises the endpoint's status version. A notice whose version is
 * older than one an attempt of this run has read is ignored: that attempt already saw the
 * endpoint active again (a re-enable and a resend can overtake the health workflow's signal).
 * Versions, not times, so that no two machines' clocks are compared. The notice is optional so
 * that signals sent before it existed still replay as checks, and the comparison sits behind
 * `patched('disable-notice-version')`.
 */
export const endpointDisabledSignal = defineSignal<[EndpointDisabledNotice?]>('endpointDisabled');
export const deliveryStateQuery = defineQuery<DeliveryState>('state');

export function deliveryWorkflowId(eventId: string, endpointId: string): string {
  return `delivery/${eventId}/${endpointId}`;
}

/** The pair a `deliveryWorkflowId` names, or undefined for any other id. */
export function parseDeliveryWorkflowId(workflowId: string): { eventId: string; endpointId: string } | undefined {
  const [kind, eventId, endpointId, ...rest] = workflowId.split('/');
  return kind === 'delivery' && eventId && endpointId && rest.length === 0 ? { eventId, endpointId } : undefined;
}

/** The workflow input for a stored delivery (a resend, or a test send, starts its run from it). */
export function deliveryInput(d: Pick<Delivery, 'id' | 'appId' | 'eventId' | 'endpointId' | 'eventType' | 'test'>): DeliveryInput {
  return { deliveryId: d.id, appId: d.appId, eventId: d.eventId, endpointId: d.endpointId, eventType: d.eventType, ...(d.test && { test: true }) };
}

/**
 * Signal-with-start options for a resend: a waiting run gets the `resend` signal; a finished one is
 * revived by a new run that makes one `manual` attempt with the next number. A pending delivery
 * with no attempt yet (its fan-out has not started it) starts as a whole delivery instead, whose
 * first attempt the signal makes `manual`: it keeps its retry schedule.
 */
export function resendDeliveryOptions(d: Pick<Delivery, 'id' | 'appId' | 'eventId' | 'endpointId' | 'eventType' | 'attemptCount' | 'status' | 'test'>, taskQueue: string) {
  const input = deliveryInput(d);
  const notStarted = d.status === 'pending' && d.attemptCount === 0;
  return {
    workflowId: deliveryWorkflowId(d.eventId, d.endpointId),
    taskQueue,
    signal: resendSignal,
    signalArgs: [] as [],
    args: [notStarted ? input : { ...input, revive: { attemptNumber: d.attemptCount + 1 } }] as [DeliveryInput],
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    typedSearchAttributes: deliverySearchAttributes(input),
  };
}

const { sendWebhook } = proxyLocalActivities<Activities>({
  // The endpoint timeout is at most 30 s; the rest is room for the store.
  startToCloseTimeout: '60s',
  // Never retried by Temporal: a failure here is an infrastructure failure, retried below.
  retry: { maximumAttempts: 1 },
});

/**
 * Infrastructure failures (store down, worker lost mid-attempt) retry the same attempt number, for
 * as long as they last: a run that failed instead would leave the delivery `pending` in the store
 * with nothing left to finish it. The wait grows to 10 minutes and stays there.
 */
const INFRA_RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 120_000, 600_000];
export function infraRetryDelayMs(failures: number): number {
  return INFRA_RETRY_DELAYS_MS[Math.min(failures, INFRA_RETRY_DELAYS_MS.length - 1)]!;
}
/** A run continues as new after this many infrastructure failures (~9 history events each). */
export const INFRA_FAILURES_PER_RUN = 50;

/**
 * The loop's state between attempts. The signal handlers write `resendRequested` and
 * `checkRequested`; a continue-as-new carries the rest as a `DeliveryResume`.
 */
interface Loop extends Omit<DeliveryResume, 'attemptNumber' | 'seenStatusVersion'> {
  /** The highest endpoint status version an attempt of this run has read; -Infinity when none has. */
  seenStatusVersion: number;
  /** The endpoint was disabled: the next attempt reads the store now. */
  checkRequested: boolean;
  infraFailuresThisRun: number;
}

function loopFor(input: DeliveryInput): Loop {
  const resume = input.resume;
  return {
    trigger: resume?.trigger ?? (input.revive ? 'manual' : input.test ? 'test' : 'scheduled'),
    retryIndex: resume?.retryIndex ?? 0,
    slotReserved: resume?.slotReserved ?? false,
    infraFailures: resume?.infraFailures ?? 0,
    afterFailedTry: resume?.afterFailedTry ?? false,
    // Set once the schedule has ended the delivery and a resend asked for one more attempt: that
    // attempt is a manual one with no retries, as if the delivery had been revived.
    scheduleEnded: resume?.scheduleEnded ?? false,
    resendRequested: resume?.resendRequested ?? false,
    seenStatusVersion: resume?.seenStatusVersion ?? -Infinity,
    checkRequested: false,
    infraFailuresThisRun: 0,
  };
}

export async function delivery(input: DeliveryInput): Promise<DeliveryResult> {
  const loop = loopFor(input);
  setHandler(resendSignal, () => {
    loop.resendRequested = true;
  });
  setHandler(endpointDisabledSignal, (notice) => {
    if (notice !== undefined && notice.statusVersion < loop.seenStatusVersion && patched('disable-notice-version')) return;
    loop.checkRequested = true;
  });
  const state: DeliveryState = { status: 'attempting', attemptNumber: input.resume?.attemptNumber ?? input.revive?.attemptNumber ?? 1, nextAttemptInMs: null, last: null };
  setHandler(deliveryStateQuery, () => state);

  for (;;) {
    state.status = 'attempting';
    // A resend that is already pending when an attempt starts is served by that attempt.
    if (loop.resendRequested) {
      loop.trigger = 'manual';
      loop.afterFailedTry = false;
    }
    loop.resendRequested = false;
    // This attempt reads the store, which is what the disable signal asks for.
    loop.checkRequested = false;
    let result: SendResult;
    try {
      result = await sendWebhook({
        deliveryId: input.deliveryId,
        attemptNumber: state.attemptNumber,
        trigger: loop.trigger,
        retryIndex: loop.retryIndex,
        // Jitter comes from the workflow's seeded Math.random, so a replay computes the same delay.
        jitter: Math.random() * 2 - 1,
        retry: !input.revive && !input.test && !loop.scheduleEnded,
        slotReserved: loop.slotReserved,
        afterFailedTry: loop.afterFailedTry,
      });
    } catch (err) {
      await waitAfterInfraFailure(err, state, loop);
      if (++loop.infraFailuresThisRun >= INFRA_FAILURES_PER_RUN || workflowInfo().continueAsNewSuggested) {
        return continueAsNew<typeof delivery>({ ...input, resume: resumeOf(state, loop) });
      }
      continue;
    }
    const ended = await afterAttempt(input, result, state, loop);
    if (ended) return ended;
  }
}

/** An attempt's try failed for a reason other than the endpoint: wait, then the same attempt again. */
async function waitAfterInfraFailure(err: unknown, state: DeliveryState, loop: Loop): Promise<void> {
  // A local activity's failure arrives as the activity's own error (or a TimeoutFailure),
  // not wrapped in an ActivityFailure.
  if (!(err instanceof TemporalFailure) || isCancellation(err)) throw err;
  // Runs from before the retries went on without end failed here; their replay must too.
  if (loop.infraFailures >= INFRA_RETRY_DELAYS_MS.length && !patched('infra-retry-forever')) throw err;
  // Only a try whose attempt is recorded may be concluded from the record.
  loop.afterFailedTry = err instanceof ApplicationFailure && err.type === ActivityFailureType.followUpFailed;
  const delay = infraRetryDelayMs(loop.infraFailures++);
  await sleep(delay, { summary: `attempt ${state.attemptNumber} interrupted; again in ${formatDuration(delay)}` });
}

function resumeOf(state: DeliveryState, loop: Loop): DeliveryResume {
  return {
    attemptNumber: state.attemptNumber,
    retryIndex: loop.retryIndex,
    trigger: loop.trigger,
    slotReserved: loop.slotReserved,
    infraFailures: loop.infraFailures,
    afterFailedTry: loop.afterFailedTry,
    scheduleEnded: loop.scheduleEnded,
    resendRequested: loop.resendRequested,
    seenStatusVersion: Number.isFinite(loop.seenStatusVersion) ? loop.seenStatusVersion : null,
  };
}

/**
 * What follows an attempt the endpoint answered (or that found nothing to send): the delivery's
 * result if it has ended, otherwise undefined once the wait before the next attempt is over.
 */
async function afterAttempt(input: DeliveryInput, result: SendResult, state: DeliveryState, loop: Loop): Promise<DeliveryResult | undefined> {
  // A manual try of a number already recorded was recorded under the next one (sendWebhook).
  if (result.attemptNumber !== undefined) state.attemptNumber = result.attemptNumber;
  loop.infraFailures = 0;
  if (result.outcome === 'busy') {
    // Nothing was sent and no rate-limit slot taken: the same try again after the wait, which
    // holds no worker slot. The endpoint's disable ends it early. A resend does not: the wait is
    // this delivery's place in the endpoint's queue, and trying now would only be turned away to
    // the back of it; the resend makes the try that follows manual. A slow endpoint can keep a
    // delivery here for long, so the run continues as new when its history is long.
    // (Results before 'busy' existed never take this branch on replay.)
    const waitMs = result.nextDelayMs ?? 0;
    state.status = 'waiting';
    state.nextAttemptInMs = waitMs;
    await condition(() => loop.checkRequested, waitMs, { summary: `endpoint busy: attempt ${state.attemptNumber} in ${formatDuration(waitMs)}` });
    state.nextAttemptInMs = null;
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof delivery>({ ...input, resume: resumeOf(state, loop) });
    return undefined;
  }
  loop.afterFailedTry = false;
  loop.slotReserved = false;
  if (result.endpointStatusVersion !== undefined) loop.seenStatusVersion = Math.max(loop.seenStatusVersion, result.endpointStatusVersion);
  if (result.outcome === 'throttled') {
    // The endpoint's rate limit reserved a later slot for this attempt: wait for it durably.
    await sleep(result.nextDelayMs ?? 0, { summary: `rate limit: attempt ${state.attemptNumber} in ${formatDuration(result.nextDelayMs ?? 0)}` });
    loop.slotReserved = true;
    return undefined;
  }
  state.last = { outcome: result.outcome, statusCode: result.statusCode, errorCode: result.errorCode };
  const done = result.outcome === 'succeeded' || result.nextDelayMs === null;
  if (done && loop.resendRequested && result.outcome !== 'gone' && result.outcome !== 'disabled') {
    // A resend that arrived during the last attempt: signal-with-start delivered it to this
    // run (the API marks the delivery pending), so this run must honour it.
    state.attemptNumber++;
    loop.trigger = 'manual';
    loop.scheduleEnded = true;
    return undefined;
  }
  if (result.outcome === 'gone' || result.outcome === 'disabled') {
    // Nothing was sent: the store ended the delivery (endpoint disabled or deleted).
    state.attemptNumber--;
    return finish(state, DeliveryOutcome.failed);
  }
  if (result.outcome === 'succeeded') return finish(state, DeliveryOutcome.succeeded);
  if (result.nextDelayMs === null) return finish(state, DeliveryOutcome.failed);

  state.status = 'waiting';
  state.nextAttemptInMs = result.nextDelayMs;
  state.attemptNumber++;
  await condition(() => loop.resendRequested || loop.checkRequested, result.nextDelayMs, {
    summary: `retry ${loop.retryIndex + 1}/${result.scheduleLength} in ${formatDuration(result.nextDelayMs)}`,
  });
  state.nextAttemptInMs = null;
  if (loop.resendRequested) {
    loop.trigger = 'manual';
  } else {
    // The timer fired, or the endpoint was disabled and the attempt ends the delivery.
    loop.trigger = 'scheduled';
    loop.retryIndex++;
  }
  return undefined;
}

function finish(state: DeliveryState, status: DeliveryOutcome): DeliveryResult {
  state.status = status;
  upsertSearchAttributes([{ key: HooklineStatus, value: status }]);
  return { status, attempts: state.attemptNumber };
}
