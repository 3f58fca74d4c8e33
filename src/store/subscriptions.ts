/**
 * Which endpoints of an application an event reaches: its type (exact, `prefix.*` or `*`), its
 * channels (an endpoint with none gets every event) and its optional `endpoint_ids`. One query
 * builder, so the fan-out's resolution and the insert's "anyone subscribed?" check agree.
 */
import { sql, type Expression, type SelectQueryBuilder } from 'kysely';
import { subscriptionKeys } from '../domain/event-types';
import type { Db } from './db';

export interface SubscriptionQuery {
  appId: string;
  eventType: string;
  channels: string[] | null;
  endpointIds: string[] | null;
}

/**
 * The same question with SQL expressions for the event's side, so a statement can ask it for
 * each row it inserts. `keys` is `subscriptionKeys(type)`; a null `channels` or `endpointIds`
 * means the event has none.
 */
export interface SubscriptionMatch {
  appId: Expression<string>;
  keys: Expression<string[]>;
  channels: Expression<string[] | null>;
  endpointIds: Expression<string[] | null>;
}

/** Endpoints subscribed to the event, disabled ones included (they record `skipped` deliveries). */
export function subscribedEndpoints(db: Db, q: SubscriptionQuery) {
  return endpointsMatching(db, {
    appId: sql.val(q.appId),
    keys: sql.val(subscriptionKeys(q.eventType)),
    channels: sql.val(q.channels),
    endpointIds: sql.val(q.endpointIds),
  });
}

export function endpointsMatching(db: Db, m: SubscriptionMatch) {
  return matchSubscriptions(db.selectFrom('endpoints'), m);
}

/** Applies the subscription rule to any query that has `endpoints` in its FROM. */
export function matchSubscriptions<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>, m: SubscriptionMatch): SelectQueryBuilder<DB, TB, O> {
  // `?|` matches an overlap with `subscriptionKeys(type)`, the same rule `matchesEventType` applies
  // in code. With a null array `?|` and `= any` are null, and a null in these `or`s counts as
  // false: an event without channels reaches only endpoints without channels, as `matchesChannels`.
  return query
    .where(sql<boolean>`endpoints.app_id = ${m.appId}`)
    .where(sql<boolean>`endpoints.event_types ?| ${m.keys}::text[]`)
    .where(sql<boolean>`(endpoints.channels is null or jsonb_array_length(endpoints.channels) = 0 or endpoints.channels ?| ${m.channels}::text[])`)
    .where(sql<boolean>`(${m.endpointIds}::text[] is null or endpoints.id = any(${m.endpointIds}::text[]))`);
}
