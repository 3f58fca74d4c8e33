/** Kysely table types; they mirror migrations/*.sql and are the only place that knows column names. */
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** jsonb columns: written as JSON text, read back parsed. */
type Jsonb<T> = ColumnType<T, string, string>;
type NullableJsonb<T> = ColumnType<T | null, string | null | undefined, string | null>;

export interface ApplicationsTable {
  id: string;
  uid: string | null;
  name: string;
  retry_schedule: Jsonb<unknown>;
  payload_format: string;
  disable_policy: NullableJsonb<unknown>;
  metadata: Jsonb<Record<string, string>>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface EndpointsTable {
  id: string;
  app_id: string;
  uid: string | null;
  url: string;
  description: string;
  event_types: Jsonb<string[]>;
  channels: NullableJsonb<string[]>;
  signature_scheme: string;
  signature_header: string | null;
  headers_ciphertext: string | null;
  header_names: Jsonb<string[]>;
  timeout_ms: number;
  rate_limit_per_s: number | null;
  retry_schedule: NullableJsonb<unknown>;
  status: Generated<string>;
  disabled_reason: string | null;
  disabled_at: NullableTimestamp;
  health_reset_at: NullableTimestamp;
  /** Goes up by one on every disable and every re-enable. */
  status_version: Generated<number>;
  metadata: Jsonb<Record<string, string>>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface EndpointSecretsTable {
  id: Generated<string>;
  endpoint_id: string;
  secret_ciphertext: string;
  created_at: Timestamp;
  expires_at: NullableTimestamp;
}

export interface EventsTable {
  id: string;
  app_id: string;
  type: string;
  payload: string;
  previous_payload: string | null;
  channels: NullableJsonb<string[]>;
  endpoint_ids: NullableJsonb<string[]>;
  idempotency_key: string | null;
  created_at: Timestamp;
  dispatched_at: NullableTimestamp;
  /** The application's format when the event was committed; null on rows from before 0008. */
  payload_format: string | null;
  /** Made by a test send (`POST …/endpoints/{id}/test`). */
  test: Generated<boolean>;
}

export interface DeliveriesTable {
  id: string;
  app_id: string;
  event_id: string;
  endpoint_id: string;
  event_type: string;
  status: string;
  attempt_count: Generated<number>;
  last_attempt_at: NullableTimestamp;
  next_attempt_at: NullableTimestamp;
  failure_reason: string | null;
  test: Generated<boolean>;
  awaiting_start: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AttemptsTable {
  id: string;
  delivery_id: string;
  attempt_number: number;
  trigger: string;
  url: string;
  started_at: Timestamp;
  duration_ms: number;
  response_status: number | null;
  response_headers: Jsonb<Record<string, string>>;
  response_body: string;
  response_body_truncated: boolean;
  error_code: string | null;
  error_message: string | null;
  next_attempt_at: NullableTimestamp;
  endpoint_id: string | null;
  succeeded: Generated<boolean>;
}

export interface EndpointThrottleTable {
  endpoint_id: string;
  next_slot_at: Timestamp;
  last_sent_at: NullableTimestamp;
}

export interface ApiKeysTable {
  id: string;
  app_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  created_at: Timestamp;
  revoked_at: NullableTimestamp;
}

export interface EventTypesTable {
  name: string;
  description: Generated<string>;
  example: Jsonb<unknown>;
  schema: NullableJsonb<unknown>;
  archived: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface IdempotentRequestsTable {
  scope: string;
  key: string;
  fingerprint: string;
  /** The token of the request that holds the key. */
  claim: string | null;
  /** Null while the first request runs. */
  status: number | null;
  /** Sealed JSON text; null for an answer without a body. */
  response: string | null;
  created_at: Timestamp;
}

export interface Database {
  api_keys: ApiKeysTable;
  applications: ApplicationsTable;
  endpoints: EndpointsTable;
  endpoint_secrets: EndpointSecretsTable;
  events: EventsTable;
  deliveries: DeliveriesTable;
  attempts: AttemptsTable;
  endpoint_throttle: EndpointThrottleTable;
  event_types: EventTypesTable;
  idempotent_requests: IdempotentRequestsTable;
}
