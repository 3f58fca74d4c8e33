/** Resource shapes and states shared by the store, the activities and the API. */
import type { PayloadFormat } from './envelope';
import type { DisablePolicy } from './health-policy';
import type { RetrySchedule } from './schedule';
import type { SignatureScheme } from './signing';

export const EndpointStatus = { active: 'active', disabled: 'disabled' } as const;
export type EndpointStatus = (typeof EndpointStatus)[keyof typeof EndpointStatus];

export const DeliveryStatus = { pending: 'pending', succeeded: 'succeeded', failed: 'failed', skipped: 'skipped' } as const;
export type DeliveryStatus = (typeof DeliveryStatus)[keyof typeof DeliveryStatus];

export const AttemptTrigger = { scheduled: 'scheduled', manual: 'manual', test: 'test' } as const;
export type AttemptTrigger = (typeof AttemptTrigger)[keyof typeof AttemptTrigger];

export const AttemptErrorCode = {
  timeout: 'timeout',
  connectionRefused: 'connection_refused',
  dns: 'dns',
  tls: 'tls',
  ssrfBlocked: 'ssrf_blocked',
  redirect: 'redirect',
  reset: 'reset',
  invalidUrl: 'invalid_url',
  network: 'network',
} as const;
export type AttemptErrorCode = (typeof AttemptErrorCode)[keyof typeof AttemptErrorCode];

export { SignatureSchemes, type SignatureScheme } from './signing';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface Application {
  id: string;
  uid: string | null;
  name: string;
  retrySchedule: RetrySchedule;
  payloadFormat: PayloadFormat;
  disablePolicy: DisablePolicy;
  metadata: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

export interface Endpoint {
  id: string;
  appId: string;
  uid: string | null;
  url: string;
  description: string;
  eventTypes: string[];
  channels: string[] | null;
  signatureScheme: SignatureScheme;
  /** The header that carries `stripe` and `hex` signatures; null for `standard`. */
  signatureHeader: string | null;
  /** Names of the custom headers; their values are write-only. */
  headerNames: string[];
  timeoutMs: number;
  rateLimitPerS: number | null;
  retrySchedule: RetrySchedule | null;
  status: EndpointStatus;
  disabledReason: string | null;
  disabledAt: Date | null;
  metadata: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

export interface WebhookEvent {
  id: string;
  appId: string;
  type: string;
  /** `data` as JSON text, as the producer wrote it (whitespace aside): receivers get these bytes. */
  dataJson: string;
  /** `previous_data` as JSON text, when the event has one. */
  previousDataJson: string | null;
  channels: string[] | null;
  endpointIds: string[] | null;
  idempotencyKey: string | null;
  createdAt: Date;
  dispatchedAt: Date | null;
  /** Made by a test send. */
  test: boolean;
}

export interface Delivery {
  id: string;
  appId: string;
  eventId: string;
  endpointId: string;
  eventType: string;
  status: DeliveryStatus;
  attemptCount: number;
  lastAttemptAt: Date | null;
  nextAttemptAt: Date | null;
  failureReason: string | null;
  /** A test send's delivery: one `test` attempt, no retries. */
  test: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface Attempt {
  id: string;
  deliveryId: string;
  attemptNumber: number;
  trigger: AttemptTrigger;
  url: string;
  startedAt: Date;
  durationMs: number;
  responseStatus: number | null;
  responseHeaders: Record<string, string>;
  responseBody: string;
  responseBodyTruncated: boolean;
  errorCode: AttemptErrorCode | null;
  errorMessage: string | null;
  nextAttemptAt: Date | null;
}
