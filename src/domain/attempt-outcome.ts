/**
 * What one attempt's response means for its delivery (PRODUCT.md §3, §5): success, a retry after
 * the schedule's next delay (moved by Retry-After where the status allows it), the end of the
 * schedule, or — for 410 Gone — disabling the endpoint at once.
 */
import { AttemptErrorCode, DeliveryStatus } from './model';
import { applyRetryAfter, parseRetryAfter } from './retry-after';
import { retryDelayMs } from './schedule';

export const FailureReason = {
  exhausted: 'schedule_exhausted',
  manualFailed: 'manual_attempt_failed',
  /** A test send's one attempt failed (test sends are never retried). */
  testFailed: 'test_attempt_failed',
  endpointDisabled: 'endpoint_disabled',
  /** A test send whose workflow could not be started: nothing was sent, the API answered 503. */
  notStarted: 'not_started',
  /**
   * Its workflow was terminated, canceled or timed out in Temporal (an operator, in the Web UI or
   * the CLI) before it finished: nothing more is sent until it is resent.
   */
  workflowEnded: 'workflow_ended',
} as const;
export type FailureReason = (typeof FailureReason)[keyof typeof FailureReason];

export interface AttemptResponse {
  status: number | null;
  /** Set when no HTTP response arrived (timeout, TLS, DNS, SSRF...). */
  errorCode: AttemptErrorCode | null;
  retryAfter: string | undefined;
}

export interface OutcomeInput {
  response: AttemptResponse;
  delaysMs: readonly number[];
  retryIndex: number;
  jitter: number;
  /** False for a revived delivery's single manual attempt, and a test send's one attempt. */
  retry: boolean;
  /** A test send: its failure reads `test_attempt_failed`. */
  test?: boolean;
  now: Date;
}

export interface Outcome {
  succeeded: boolean;
  errorCode: AttemptErrorCode | null;
  /** Delay before the next attempt; null when the delivery is finished. */
  nextDelayMs: number | null;
  status: DeliveryStatus;
  failureReason: FailureReason | null;
  /** 410 Gone: the endpoint is disabled at once, under every policy. */
  disableEndpoint: boolean;
}

export function decideOutcome({ response, delaysMs, retryIndex, jitter, retry, test = false, now }: OutcomeInput): Outcome {
  const { status } = response;
  if (status !== null && status >= 200 && status < 300) {
    return { succeeded: true, errorCode: null, nextDelayMs: null, status: DeliveryStatus.succeeded, failureReason: null, disableEndpoint: false };
  }
  const errorCode = response.errorCode ?? (status !== null && status >= 300 && status < 400 ? AttemptErrorCode.redirect : null);
  if (status === 410) {
    return { succeeded: false, errorCode, nextDelayMs: null, status: DeliveryStatus.failed, failureReason: FailureReason.endpointDisabled, disableEndpoint: true };
  }
  const scheduled = retry ? retryDelayMs(delaysMs, retryIndex, jitter) : null;
  if (scheduled === null) {
    return { succeeded: false, errorCode, nextDelayMs: null, status: DeliveryStatus.failed, failureReason: retry ? FailureReason.exhausted : test ? FailureReason.testFailed : FailureReason.manualFailed, disableEndpoint: false };
  }
  const nextDelayMs = applyRetryAfter({ status, retryAfterMs: parseRetryAfter(response.retryAfter, now), scheduledDelayMs: scheduled });
  return { succeeded: false, errorCode, nextDelayMs, status: DeliveryStatus.pending, failureReason: null, disableEndpoint: false };
}
