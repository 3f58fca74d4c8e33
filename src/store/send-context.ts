/**
 * Everything one attempt needs, in one round trip: the delivery, its event's stored JSON text,
 * the endpoint with its decrypted secrets, and the application's settings.
 */
import type { PayloadFormat, StoredEventPayload } from '../domain/envelope';
import type { DeliveryStatus, EndpointStatus } from '../domain/model';
import { liveSecrets, type SignatureScheme } from '../domain/signing';
import { sql } from 'kysely';
import { DEFAULT_SCHEDULE, type RetrySchedule } from '../domain/schedule';
import type { Db } from './db';
import type { SecretBox } from './secret-box';

export interface SendContext {
  deliveryId: string;
  /** The delivery as the store has it: disabling its endpoint may have ended it. */
  /** `test`: a test send's delivery, whose every attempt (a resend's too) is a probe. */
  delivery: { status: DeliveryStatus; failureReason: string | null; attemptCount: number; test: boolean };
  appId: string;
  event: StoredEventPayload;
  endpoint: {
    id: string;
    url: string;
    status: EndpointStatus;
    timeoutMs: number;
    rateLimitPerS: number | null;
    signatureScheme: SignatureScheme;
    signatureHeader: string | null;
    /** The secrets that sign now, by the scheme's rotation rule (oldest first). */
    secrets: string[];
    /** Custom headers, decrypted. */
    headers: Record<string, string>;
    /** Goes up on every disable and re-enable (see delivery.ts, endpointDisabledSignal). */
    statusVersion: number;
  };
  payloadFormat: PayloadFormat;
  retrySchedule: RetrySchedule;
}

interface SecretRow {
  c: string;
  created: string;
  expires: string | null;
}

export function createSendContextLoader(db: Db, box: SecretBox) {
  return async function loadSendContext(deliveryId: string, now = new Date()): Promise<SendContext | undefined> {
    const row = await db
      .selectFrom('deliveries as d')
      .innerJoin('events as e', 'e.id', 'd.event_id')
      .innerJoin('endpoints as ep', 'ep.id', 'd.endpoint_id')
      .innerJoin('applications as a', 'a.id', 'd.app_id')
      .select([
        'd.id as delivery_id',
        'd.status as delivery_status',
        'd.failure_reason',
        'd.attempt_count',
        'd.test',
        'd.app_id',
        'e.id as event_id',
        'e.type as event_type',
        'e.created_at as event_created_at',
        'e.payload',
        'e.previous_payload',
        'ep.id as endpoint_id',
        'ep.url',
        'ep.status',
        'ep.timeout_ms',
        'ep.rate_limit_per_s',
        'ep.signature_scheme',
        'ep.signature_header',
        'ep.headers_ciphertext',
        'ep.status_version',
        // Unexpired secrets ride along as one JSON array, so an attempt stays one round trip.
        sql<SecretRow[]>`(select coalesce(jsonb_agg(jsonb_build_object('c', s.secret_ciphertext, 'created', s.created_at, 'expires', s.expires_at) order by s.created_at, s.id), '[]'::jsonb)
          from endpoint_secrets s where s.endpoint_id = ep.id and (s.expires_at is null or s.expires_at > ${now}))`.as('secrets'),
        'ep.retry_schedule as endpoint_schedule',
        'a.retry_schedule as app_schedule',
        // Fixed when the event was committed (invariant 3); older rows read the application's.
        sql<string>`coalesce(e.payload_format, a.payload_format)`.as('payload_format'),
      ])
      .where('d.id', '=', deliveryId)
      .executeTakeFirst();
    if (!row) return undefined;
    const scheme = row.signature_scheme as SignatureScheme;
    const stored = row.secrets.map((r) => ({ secret: r.c, createdAt: new Date(r.created), expiresAt: r.expires === null ? null : new Date(r.expires) }));
    // Decrypt only the secrets that sign: for `hex` that is one of them.
    const live = liveSecrets(stored, scheme, now).map((sealed) => box.open(sealed));
    return {
      deliveryId: row.delivery_id,
      delivery: { status: row.delivery_status as DeliveryStatus, failureReason: row.failure_reason, attemptCount: row.attempt_count, test: row.test },
      appId: row.app_id,
      event: {
        id: row.event_id,
        type: row.event_type,
        createdAt: row.event_created_at,
        payload: row.payload,
        previousPayload: row.previous_payload,
      },
      endpoint: {
        id: row.endpoint_id,
        url: row.url,
        status: row.status as EndpointStatus,
        timeoutMs: row.timeout_ms,
        rateLimitPerS: row.rate_limit_per_s,
        signatureScheme: scheme,
        signatureHeader: row.signature_header,
        secrets: live,
        headers: row.headers_ciphertext ? (JSON.parse(box.open(row.headers_ciphertext)) as Record<string, string>) : {},
        statusVersion: row.status_version,
      },
      payloadFormat: row.payload_format as PayloadFormat,
      retrySchedule: ((row.endpoint_schedule ?? row.app_schedule) as RetrySchedule | null) ?? DEFAULT_SCHEDULE,
    };
  };
}
