/**
 * The `sendWebhook` activity: one signed POST and its record. The retry decision stays with the
 * delivery workflow; this only computes the next delay from the stored schedule and the
 * workflow's jitter, so `next_attempt_at` in the store is the exact time the timer fires.
 */
import { renderBody } from '../domain/envelope';
import { AttemptErrorCode, type AttemptTrigger, DeliveryStatus } from '../domain/model';
import { retryDelayMs, scheduleDelaysMs } from '../domain/schedule';
import { signatureHeaders } from '../domain/signing';
import { checkEndpointUrl, type UrlPolicy } from '../domain/url-rules';
import type { Store } from '../store';
import type { HttpSender, PostResponse } from './http-sender';

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
}

/** What goes back into the workflow history: ids and an outcome summary, never payloads. */
export interface SendResult {
  outcome: 'succeeded' | 'failed' | 'gone';
  statusCode: number | null;
  errorCode: string | null;
  /** Delay before the next attempt, or null when the delivery is finished. */
  nextDelayMs: number | null;
  scheduleLength: number;
}

export interface SendDeps {
  store: Store;
  http: HttpSender;
  urlPolicy: UrlPolicy;
  userAgent: string;
  now?: () => Date;
}

function blocked(errorCode: AttemptErrorCode, errorMessage: string): PostResponse {
  return { durationMs: 0, statusCode: null, headers: {}, body: '', bodyTruncated: false, errorCode, errorMessage };
}

export function createSendWebhook(deps: SendDeps) {
  const now = deps.now ?? (() => new Date());
  return async function sendWebhook(input: SendInput): Promise<SendResult> {
    const ctx = await deps.store.loadSendContext(input.deliveryId, now());
    // The delivery, its event or its endpoint was deleted: nothing left to send or record.
    if (!ctx) return { outcome: 'gone', statusCode: null, errorCode: null, nextDelayMs: null, scheduleLength: 0 };

    const startedAt = now();
    const verdict = checkEndpointUrl(ctx.endpoint.url, deps.urlPolicy);
    let response: PostResponse;
    if (!verdict.ok) {
      response = blocked(AttemptErrorCode.invalidUrl, verdict.reason);
    } else {
      const body = renderBody(ctx.event, ctx.payloadFormat);
      const signature = signatureHeaders({
        scheme: ctx.endpoint.signatureScheme,
        signatureHeader: ctx.endpoint.signatureHeader,
        msgId: ctx.event.id,
        timestampS: Math.floor(startedAt.getTime() / 1000),
        body,
        secrets: ctx.endpoint.secrets,
      });
      response = await deps.http.post({
        url: verdict.url.href,
        // Custom headers first: reserved names were refused when they were set, and the
        // signature and content headers must win regardless.
        headers: { ...ctx.endpoint.headers, 'content-type': 'application/json', 'user-agent': deps.userAgent, ...signature },
        body,
        timeoutMs: ctx.endpoint.timeoutMs,
      });
    }

    const status = response.statusCode;
    const succeeded = status !== null && status >= 200 && status < 300;
    const errorCode = succeeded ? null : (response.errorCode ?? (status !== null && status >= 300 && status < 400 ? AttemptErrorCode.redirect : null));
    const delaysMs = scheduleDelaysMs(ctx.retrySchedule);
    const nextDelayMs = succeeded || !input.retry ? null : retryDelayMs(delaysMs, input.retryIndex, input.jitter);
    const nextAttemptAt = nextDelayMs === null ? null : new Date(startedAt.getTime() + response.durationMs + nextDelayMs);

    await deps.store.deliveries.recordAttempt(
      {
        deliveryId: ctx.deliveryId,
        attemptNumber: input.attemptNumber,
        trigger: input.trigger,
        url: ctx.endpoint.url,
        startedAt,
        durationMs: response.durationMs,
        responseStatus: status,
        responseHeaders: response.headers,
        responseBody: response.body,
        responseBodyTruncated: response.bodyTruncated,
        errorCode,
        errorMessage: response.errorMessage,
        nextAttemptAt,
      },
      {
        status: succeeded ? DeliveryStatus.succeeded : nextDelayMs === null ? DeliveryStatus.failed : DeliveryStatus.pending,
        nextAttemptAt,
        failureReason: succeeded || nextDelayMs !== null ? null : input.retry ? 'schedule_exhausted' : 'manual_attempt_failed',
      },
    );
    return { outcome: succeeded ? 'succeeded' : 'failed', statusCode: status, errorCode, nextDelayMs, scheduleLength: delaysMs.length };
  };
}
