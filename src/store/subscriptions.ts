/**
 * Which endpoints of an application an event reaches: its type (exact, `prefix.*` or `*`), its
 * channels (an endpoint with none gets every event) and its optional `endpoint_ids`. One query
 * builder, so the fan-out's resolution and the insert's "anyone subscribed?" check agree.
 */
import { sql } from 'kysely';
import { subscriptionKeys } from '../domain/event-types';
import type { Db } from './db';

export interface SubscriptionQuery {
  appId: string;
  eventType: string;
  channels: string[] | null;
  endpointIds: string[] | null;
}

/** Endpoints subscribed to the event, disabled ones included (they record `skipped` deliveries). */
export function subscribedEndpoints(db: Db, q: SubscriptionQuery) {
  // `?|` matches an overlap with `subscriptionKeys(type)`, the same rule `matchesEventType` applies in code.
  let query = db
    .selectFrom('endpoints')
    .where('app_id', '=', q.appId)
    .where(sql<boolean>`event_types ?| ${sql.val(subscriptionKeys(q.eventType))}::text[]`);
  query = q.channels
    ? query.where(sql<boolean>`(channels is null or jsonb_array_length(channels) = 0 or channels ?| ${sql.val(q.channels)}::text[])`)
    : query.where(sql<boolean>`(channels is null or jsonb_array_length(channels) = 0)`);
  if (q.endpointIds) query = query.where('id', 'in', q.endpointIds.length ? q.endpointIds : ['']);
  return query;
}
