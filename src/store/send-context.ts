/**
 * Everything one attempt needs, in one round trip: the delivery, its event's stored JSON text,
 * the endpoint with its decrypted secrets, and the application's settings.
 */
import type { PayloadFormat, StoredEventPayload } from '../domain/envelope';
import type { EndpointStatus, SignatureScheme } from '../domain/model';
import { DEFAULT_SCHEDULE, type RetrySchedule } from '../domain/schedule';
import type { Db } from './db';
import type { SecretBox } from './secret-box';

export interface SendContext {
  deliveryId: string;
  event: StoredEventPayload;
  endpoint: {
    id: string;
    url: string;
    status: EndpointStatus;
    timeoutMs: number;
    signatureScheme: SignatureScheme;
    secrets: string[];
  };
  payloadFormat: PayloadFormat;
  retrySchedule: RetrySchedule;
}

export function createSendContextLoader(db: Db, box: SecretBox) {
  return async function loadSendContext(deliveryId: string): Promise<SendContext | undefined> {
    const row = await db
      .selectFrom('deliveries as d')
      .innerJoin('events as e', 'e.id', 'd.event_id')
      .innerJoin('endpoints as ep', 'ep.id', 'd.endpoint_id')
      .innerJoin('applications as a', 'a.id', 'd.app_id')
      .select([
        'd.id as delivery_id',
        'e.id as event_id',
        'e.type as event_type',
        'e.created_at as event_created_at',
        'e.payload',
        'e.previous_payload',
        'ep.id as endpoint_id',
        'ep.url',
        'ep.status',
        'ep.timeout_ms',
        'ep.signature_scheme',
        'ep.secret_ciphertext',
        'ep.retry_schedule as endpoint_schedule',
        'a.retry_schedule as app_schedule',
        'a.payload_format',
      ])
      .where('d.id', '=', deliveryId)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      deliveryId: row.delivery_id,
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
        signatureScheme: row.signature_scheme as SignatureScheme,
        secrets: [box.open(row.secret_ciphertext)],
      },
      payloadFormat: row.payload_format as PayloadFormat,
      retrySchedule: ((row.endpoint_schedule ?? row.app_schedule) as RetrySchedule | null) ?? DEFAULT_SCHEDULE,
    };
  };
}
