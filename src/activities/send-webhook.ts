/**
 * The `sendWebhook` activity: one signed POST and its record. The retry decision stays with the
 * delivery workflow; this computes the next delay from the stored schedule, the workflow's jitter
 * and any Retry-After, so `next_attempt_at` in the store is the exact time the timer fires.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import { ActivityFailureType } from '../domain/activity-failures';
import { decideOutcome, FailureReason } from '../domain/attempt-outcome';
import { DEFAULT_MAX_IN_FLIGHT_PER_ENDPOINT, EndpointGate, type GateEntry } from '../domain/endpoint-gate';
import { renderBody } from '../domain/envelope';
import { type Attempt, AttemptErrorCode, AttemptTrigger, DeliveryStatus, EndpointStatus } from '../domain/model';
import { scheduleDelaysMs } from '../domain/schedule';
import { signatureHeaders } from '../domain/signing';
import { checkEndpointUrl, type UrlPolicy } from '../domain/url-rules';
import { DeferReason, type Metrics } from '../metrics';
import type { Store } from '../store';
import type { SendContext } from '../store/send-context';
import type { HttpSender, PostResponse } from './http-sender';
import { afterFailure, afterManualSuccess } from './send-follow-ups';
import { throttle } from './throttle';

export interface SendInput {
  deliveryId: string;
  attemptNumber: number;
  trigger: AttemptTrigger;
  /** Index of the schedule step that follows this attempt if it fails. */
  retryIndex: number;
  /** In [-1, 1]: where in the ±20% band the next delay falls. */
  jitter: number;
  /** False for a revived delivery's single manual attempt. */
  retry: boolean;
  /** True when an earlier call reserved this attempt's rate-limit slot and the wait is over. */
  slotReserved?: boolean;
  /**
   * The previous try of this attempt sent and recorded it, then failed in a follow-up
   * (ActivityFailureType.followUpFailed), and no resend came since: this try only finishes the follow-ups. (A
   * resend, by contrast, asks for a new send even when it reuses the number.)
   */
  afterFailedTry?: boolean;
}

/** What goes back into the workflow history: ids and an outcome summary, never payloads. */
export interface SendResult {
  /**
   * `throttled`: not sent; wait `nextDelayMs` for the reserved rate-limit slot. `busy`: not sent;
   * the endpoint has its most POSTs open from this worker, try again in `nextDelayMs`.
   * `gone`/`disabled`: nothing to send.
   */
  outcome: 'succeeded' | 'failed' | 'throttled' | 'busy' | 'gone' | 'disabled';
  statusCode: number | null;
  errorCode: string | null;
  /** Delay before the next attempt (or the reserved slot), or null when the delivery is finished. */
  nextDelayMs: number | null;
  scheduleLength: number;
  /** The endpoint's status version this attempt read; the workflow weighs disable notices with it. */
  endpointStatusVersion?: number;
  /**
   * The number the attempt is recorded under, which the workflow adopts: past the one asked for
   * when a manual try found that number recorded already (see `sendWebhook`).
   */
  attemptNumber?: number;
}

export interface SendDeps {
  store: Store;
  http: HttpSender;
  urlPolicy: UrlPolicy;
  userAgent: string;
  /** Starts or signals the endpoint's health workflow; called on failures only. */
  reportFailure: (endpointId: string) => Promise<void>;
  metrics: Metrics;
  /** POSTs one endpoint may have open from this process at once (`EndpointGate`). */
  maxInFlightPerEndpoint?: number;
  now?: () => Date;
}

const finished = (outcome: SendResult['outcome']): SendResult => ({ outcome, statusCode: null, errorCode: null, nextDelayMs: null, scheduleLength: 0 });

async function post(deps: SendDeps, ctx: SendContext, startedAt: Date, signal: AbortSignal | undefined): Promise<PostResponse> {
  const verdict = checkEndpointUrl(ctx.endpoint.url, deps.urlPolicy);
  if (!verdict.ok) {
    const errorCode = verdict.blockedAddress ? AttemptErrorCode.ssrfBlocked : AttemptErrorCode.invalidUrl;
    return { durationMs: 0, statusCode: null, headers: {}, body: '', bodyTruncated: false, errorCode, errorMessage: verdict.reason };
  }
  const body = renderBody(ctx.event, ctx.payloadFormat);
  const signature = signatureHeaders({
    scheme: ctx.endpoint.signatureScheme,
    signatureHeader: ctx.endpoint.signatureHeader,
    msgId: ctx.event.id,
    timestampS: Math.floor(startedAt.getTime() / 1000),
    body,
    secrets: ctx.endpoint.secrets,
  });
  return deps.http.post({
    url: verdict.url.href,
    // Custom headers first: reserved names were refused when they were set, and the signature
    // and content headers must win regardless.
    headers: { ...ctx.endpoint.headers, 'content-type': 'application/json', 'user-agent': deps.userAgent, ...signature },
    body,
    timeoutMs: ctx.endpoint.timeoutMs,
    signal,
  });
}

/**
 * The part of an activity's cancellation `sendWebhook` acts on: its local activity timed out, so
 * the workflow has given up on this try and makes another. Not a worker's shutdown, which also
 * cancels: a POST under way then finishes and is recorded, as before the signal was passed in.
 */
export function timedOutOnly(cancellation: AbortSignal): AbortSignal {
  const gaveUp = new AbortController();
  const check = () => {
    if (cancellation.reason instanceof CancelledFailure && cancellation.reason.message === 'TIMED_OUT') gaveUp.abort(cancellation.reason);
  };
  if (cancellation.aborted) check();
  else cancellation.addEventListener('abort', check, { once: true });
  return gaveUp.signal;
}

export function createSendWebhook(deps: SendDeps) {
  const now = deps.now ?? (() => new Date());
  // One per worker process: `createActivities` builds this once.
  // A monotonic clock: the gate measures POST times and waits, which a wall-clock step would skew.
  const gate = new EndpointGate({ maxInFlight: deps.maxInFlightPerEndpoint ?? DEFAULT_MAX_IN_FLIGHT_PER_ENDPOINT, now: () => performance.now() });
  /**
   * `signal` is the activity's cancellation (`createActivities` passes it): the local activity
   * timed out and the workflow will try again, so this try must not send, or record, any more.
   */
  return async function sendWebhook(input: SendInput, signal?: AbortSignal): Promise<SendResult> {
    const ctx = await deps.store.loadSendContext(input.deliveryId, now());
    // The delivery, its event or its endpoint was deleted: nothing left to send or record.
    if (!ctx) return finished('gone');
    const concluded = await concludeRecorded(deps, ctx, input, now());
    if (concluded) return concluded;
    if (ctx.endpoint.status === EndpointStatus.disabled) {
      await deps.store.deliveries.endPending(ctx.deliveryId, { status: DeliveryStatus.failed, nextAttemptAt: null, failureReason: FailureReason.endpointDisabled });
      return finished('disabled');
    }
    // Disabling the endpoint ended this delivery, and its retries stop there even if the endpoint
    // is enabled again before the timer fires: recovery sends it later. A resend marks it pending.
    if (stoppedByDisable(ctx, input)) return finished('disabled');
    const entry = await gate.enter(ctx.endpoint.id);
    if (!entry.admitted) {
      // The workflow waits on a durable timer, which holds no worker slot, then calls again.
      deps.metrics.deferrals.inc({ reason: DeferReason.endpointBusy });
      return { ...finished('busy'), nextDelayMs: entry.waitMs };
    }
    try {
      if (ctx.endpoint.rateLimitPerS) {
        const waitMs = await throttle(deps.store, ctx.endpoint.id, ctx.endpoint.rateLimitPerS, input.slotReserved === true, signal);
        // The workflow waits on a durable timer, not this activity, then calls again with the slot.
        if (waitMs > 0) {
          deps.metrics.deferrals.inc({ reason: DeferReason.rateLimit });
          return { ...finished('throttled'), nextDelayMs: waitMs };
        }
      }
      // A manual try asked for a number already recorded (a resend that came while that attempt
      // was completing, or a manual try whose result was lost) is a new POST: recorded under the
      // next number, which the workflow adopts, so every POST has its record.
      const number = input.trigger === 'manual' && ctx.delivery.attemptCount >= input.attemptNumber ? ctx.delivery.attemptCount + 1 : input.attemptNumber;
      return numbered(await sendAndRecord(deps, ctx, { ...input, attemptNumber: number }, now(), signal, entry), input, number);
    } finally {
      entry.leave();
    }
  };
}

/**
 * A try of an attempt already recorded, concluded from its record; undefined when it must send.
 * The try that recorded it lost its result to the workflow (a worker lost, a workflow task timed
 * out, or refused because a signal came meanwhile, such as a resend or the endpoint's disable),
 * or failed in a follow-up after recording (`afterFailedTry`), and the workflow asks again: a
 * delivered message is not sent twice, nor read as failed because its endpoint is disabled now.
 * A failed attempt asked again as `manual` sends: a resend that came during it asks for a new
 * POST. Only on these paths is the record read, so the usual attempt pays nothing for it.
 */
async function concludeRecorded(deps: SendDeps, ctx: SendContext, input: SendInput, now: Date): Promise<SendResult | undefined> {
  const { attemptCount, status } = ctx.delivery;
  const recordedAlready = attemptCount >= input.attemptNumber && (input.trigger !== 'manual' || status === DeliveryStatus.succeeded);
  if (!input.afterFailedTry && !recordedAlready) return undefined;
  // The newest record: a renumbered manual attempt (see above) is recorded past the number asked.
  const number = Math.max(input.attemptNumber, attemptCount);
  const recorded = await deps.store.deliveries.attempt(ctx.deliveryId, number);
  if (!recorded) return undefined;
  const asRecorded = number === input.attemptNumber ? input : { ...input, attemptNumber: number };
  const decided = decideAgain(ctx, asRecorded, recorded, now);
  // A recorded failure whose endpoint a disable has stopped since ends with the checks that follow,
  // not with the retry its record planned.
  if (!decided.outcome.succeeded && stoppedByDisable(ctx, input)) return undefined;
  return numbered(await conclude(deps, ctx, asRecorded, recorded.responseStatus, decided), input, number);
}

/** The attempt's POST, its record, and its follow-ups. */
async function sendAndRecord(deps: SendDeps, ctx: SendContext, input: SendInput, startedAt: Date, signal: AbortSignal | undefined, entry: Extract<GateEntry, { admitted: true }>): Promise<SendResult> {
  const response = await post(deps, ctx, startedAt, signal);
  // The endpoint's part is over: its place goes to the next POST while this one is recorded.
  entry.leave(response.durationMs);
  // Cut off by the cancellation, not by the endpoint: there is no answer to record, and the
  // workflow's next try of this number sends it. (An answer that came in is recorded.)
  if (response.statusCode === null && signal?.aborted) throw new CancelledFailure(`attempt ${input.attemptNumber} was given up before an answer came`);
  const sent: SentAttempt = { startedAt, durationMs: response.durationMs, statusCode: response.statusCode, errorCode: response.errorCode, retryAfter: response.headers['retry-after'] ?? null };
  const decided = decide(ctx, input, sent);
  const { outcome, nextAttemptAt } = decided;
  deps.metrics.attempts.observe({ outcome: outcome.succeeded ? 'succeeded' : 'failed', trigger: input.trigger }, response.durationMs / 1000);
  await deps.store.deliveries.recordAttempt(
    {
      deliveryId: ctx.deliveryId,
      endpointId: ctx.endpoint.id,
      attemptNumber: input.attemptNumber,
      trigger: input.trigger,
      url: ctx.endpoint.url,
      startedAt,
      durationMs: response.durationMs,
      responseStatus: response.statusCode,
      responseHeaders: response.headers,
      responseBody: response.body,
      responseBodyTruncated: response.bodyTruncated,
      succeeded: outcome.succeeded,
      errorCode: outcome.errorCode,
      errorMessage: response.errorMessage,
      nextAttemptAt,
      endpointStatusVersion: ctx.endpoint.statusVersion,
    },
    { status: outcome.status, nextAttemptAt, failureReason: outcome.failureReason },
  );
  return conclude(deps, ctx, input, response.statusCode, decided);
}

/** The result, with the number its attempt is recorded under when that is not the one asked for. */
function numbered(result: SendResult, asked: SendInput, number: number): SendResult {
  return number === asked.attemptNumber ? result : { ...result, attemptNumber: number };
}

/**
 * The endpoint is disabled, or a disable ended this delivery and this is a scheduled try (its
 * retries stop there, even with the endpoint enabled again): nothing is sent.
 */
function stoppedByDisable(ctx: SendContext, input: SendInput): boolean {
  if (ctx.endpoint.status === EndpointStatus.disabled) return true;
  return input.trigger === 'scheduled' && ctx.delivery.status === DeliveryStatus.failed && ctx.delivery.failureReason === FailureReason.endpointDisabled;
}

/** What decides an attempt's outcome, from the response or again from the attempt's record. */
interface SentAttempt {
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  /** A recorded code may already be derived (`redirect` from a 3xx): it decides the same again. */
  errorCode: AttemptErrorCode | null;
  retryAfter: string | null;
}

function decide(ctx: SendContext, input: SendInput, sent: SentAttempt) {
  const delaysMs = scheduleDelaysMs(ctx.retrySchedule);
  const outcome = decideOutcome({
    response: { status: sent.statusCode, errorCode: sent.errorCode, retryAfter: sent.retryAfter ?? undefined },
    delaysMs,
    retryIndex: input.retryIndex,
    jitter: input.jitter,
    retry: input.retry,
    test: input.trigger === 'test',
    now: sent.startedAt,
  });
  const nextAttemptAt = outcome.nextDelayMs === null ? null : new Date(sent.startedAt.getTime() + sent.durationMs + outcome.nextDelayMs);
  return { outcome, nextAttemptAt, scheduleLength: delaysMs.length };
}

/**
 * A recorded attempt decided again: the same outcome, but the wait is what is left until the
 * recorded next attempt time (this try's jitter and the infrastructure wait must not move it).
 */
function decideAgain(ctx: SendContext, input: SendInput, recorded: Attempt, now: Date) {
  // Retry-After only moves the wait, which the recorded time replaces.
  const decided = decide(ctx, input, { startedAt: recorded.startedAt, durationMs: recorded.durationMs, statusCode: recorded.responseStatus, errorCode: recorded.errorCode, retryAfter: null });
  if (decided.outcome.nextDelayMs === null || recorded.nextAttemptAt === null) return decided;
  return { ...decided, outcome: { ...decided.outcome, nextDelayMs: Math.max(0, recorded.nextAttemptAt.getTime() - now.getTime()) } };
}

/** The follow-ups of a recorded attempt, and its result for the workflow. */
async function conclude(deps: SendDeps, ctx: SendContext, input: SendInput, statusCode: number | null, decided: ReturnType<typeof decide>): Promise<SendResult> {
  const { outcome, scheduleLength } = decided;
  try {
    if (!outcome.succeeded) await afterFailure(deps, ctx, input, outcome.disableEndpoint, outcome.failureReason);
    else if (input.trigger === 'manual') await afterManualSuccess(deps, ctx, input);
  } catch (err) {
    throw ApplicationFailure.retryable(`attempt ${input.attemptNumber} is recorded; a follow-up failed: ${err instanceof Error ? err.message : String(err)}`, ActivityFailureType.followUpFailed);
  }
  return {
    outcome: outcome.succeeded ? 'succeeded' : 'failed',
    statusCode,
    errorCode: outcome.errorCode,
    nextDelayMs: outcome.nextDelayMs,
    scheduleLength,
    endpointStatusVersion: ctx.endpoint.statusVersion,
  };
}
