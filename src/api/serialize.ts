/** Domain objects to their JSON form: snake_case, ISO timestamps, never a secret. */
import { withPolicyDefaults } from '../domain/health-policy';
import type { Application, Attempt, Delivery, Endpoint, WebhookEvent } from '../domain/model';
import type { Page } from '../store/page';
import { RawJson } from './raw-json';
import type { z } from './zod';
import type { AppResponse, AttemptResponse, DeliveryResponse, EndpointResponse, EventResponse } from './schemas';

const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

export function page<T, R>(p: Page<T>, map: (item: T) => R) {
  return { data: p.data.map(map), has_more: p.nextCursor !== null, next_cursor: p.nextCursor };
}

export function appJson(a: Application): z.input<typeof AppResponse> {
  return {
    id: a.id,
    uid: a.uid,
    name: a.name,
    retry_schedule: a.retrySchedule,
    payload_format: a.payloadFormat,
    disable_policy: withPolicyDefaults(a.disablePolicy),
    metadata: a.metadata,
    created_at: iso(a.createdAt),
    updated_at: iso(a.updatedAt),
  };
}

export function endpointJson(e: Endpoint): z.input<typeof EndpointResponse> {
  return {
    id: e.id,
    app_id: e.appId,
    uid: e.uid,
    url: e.url,
    description: e.description,
    event_types: e.eventTypes,
    channels: e.channels,
    signature_scheme: e.signatureScheme,
    signature_header: e.signatureHeader,
    header_names: e.headerNames,
    timeout_ms: e.timeoutMs,
    rate_limit_per_s: e.rateLimitPerS,
    retry_schedule: e.retrySchedule,
    status: e.status,
    disabled_reason: e.disabledReason,
    disabled_at: isoOrNull(e.disabledAt),
    metadata: e.metadata,
    created_at: iso(e.createdAt),
    updated_at: iso(e.updatedAt),
  };
}

export function eventJson(e: WebhookEvent): z.input<typeof EventResponse> {
  return {
    id: e.id,
    app_id: e.appId,
    type: e.type,
    data: new RawJson(e.dataJson),
    previous_data: e.previousDataJson === null ? null : new RawJson(e.previousDataJson),
    channels: e.channels,
    endpoint_ids: e.endpointIds,
    test: e.test,
    created_at: iso(e.createdAt),
  };
}

export function attemptJson(a: Attempt): z.input<typeof AttemptResponse> {
  return {
    id: a.id,
    attempt_number: a.attemptNumber,
    trigger: a.trigger,
    url: a.url,
    started_at: iso(a.startedAt),
    duration_ms: a.durationMs,
    response_status: a.responseStatus,
    response_headers: a.responseHeaders,
    response_body: a.responseBody,
    response_body_truncated: a.responseBodyTruncated,
    error_code: a.errorCode,
    error_message: a.errorMessage,
    next_attempt_at: isoOrNull(a.nextAttemptAt),
  };
}

export function deliveryJson(d: Delivery, attempts?: Attempt[]): z.input<typeof DeliveryResponse> {
  return {
    id: d.id,
    app_id: d.appId,
    event_id: d.eventId,
    endpoint_id: d.endpointId,
    event_type: d.eventType,
    status: d.status,
    attempt_count: d.attemptCount,
    last_attempt_at: isoOrNull(d.lastAttemptAt),
    next_attempt_at: isoOrNull(d.nextAttemptAt),
    failure_reason: d.failureReason,
    test: d.test,
    created_at: iso(d.createdAt),
    updated_at: iso(d.updatedAt),
    ...(attempts && { attempts: attempts.map(attemptJson) }),
  };
}
