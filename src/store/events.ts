import { sql, type Selectable } from 'kysely';
import { newId, IdPrefix } from '../domain/ids';
import type { Json, WebhookEvent } from '../domain/model';
import type { Db } from './db';
import type { EventsTable } from './schema';
import { toPage, type Page, type PageRequest } from './page';
import { subscribedEndpoints } from './subscriptions';

export interface NewEvent {
  type: string;
  data: Json;
  previousData: Json | null;
  channels: string[] | null;
  endpointIds: string[] | null;
  idempotencyKey: string | null;
}

function toEvent(row: Selectable<EventsTable>): WebhookEvent {
  return {
    id: row.id,
    appId: row.app_id,
    type: row.type,
    data: JSON.parse(row.payload) as Json,
    previousData: row.previous_payload === null ? null : (JSON.parse(row.previous_payload) as Json),
    channels: row.channels,
    endpointIds: row.endpoint_ids,
    idempotencyKey: row.idempotency_key,
    createdAt: row.created_at,
    dispatchedAt: row.dispatched_at,
  };
}

/** PostgreSQL's foreign_key_violation, from pg and PGlite alike. */
const FOREIGN_KEY_VIOLATION = '23503';

export function createEventStore(db: Db) {
  return {
    /**
     * Commits an event. With an idempotency key, a repeat returns the first event and
     * `created: false`; the unique index decides, so concurrent repeats are safe too.
     * An event no endpoint subscribes to is committed already dispatched: it needs no fan-out,
     * and the same statement decides it, so ingest costs one round trip. Undefined when the
     * application does not exist.
     */
    async insert(appId: string, input: NewEvent): Promise<{ event: WebhookEvent; created: boolean } | undefined> {
      const subscribed = subscribedEndpoints(db, { appId, eventType: input.type, channels: input.channels, endpointIds: input.endpointIds }).select(sql`1`.as('one'));
      let row;
      try {
        row = await db
          .insertInto('events')
          .values({
            id: newId(IdPrefix.event),
            app_id: appId,
            type: input.type,
            payload: JSON.stringify(input.data),
            previous_payload: input.previousData === null ? null : JSON.stringify(input.previousData),
            channels: input.channels && JSON.stringify(input.channels),
            endpoint_ids: input.endpointIds && JSON.stringify(input.endpointIds),
            idempotency_key: input.idempotencyKey,
            dispatched_at: sql<Date | null>`case when exists (${subscribed}) then null else now() end`,
          })
          .onConflict((oc) => oc.columns(['app_id', 'idempotency_key']).where('idempotency_key', 'is not', null).doNothing())
          .returningAll()
          .executeTakeFirst();
      } catch (err) {
        // The application does not exist (foreign key): callers that skip the lookup learn it here.
        if ((err as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) return undefined;
        throw err;
      }
      if (row) return { event: toEvent(row), created: true };
      const first = await db
        .selectFrom('events')
        .selectAll()
        .where('app_id', '=', appId)
        .where('idempotency_key', '=', input.idempotencyKey)
        .executeTakeFirstOrThrow();
      return { event: toEvent(first), created: false };
    },

    async get(appId: string, id: string): Promise<WebhookEvent | undefined> {
      const row = await db.selectFrom('events').selectAll().where('app_id', '=', appId).where('id', '=', id).executeTakeFirst();
      return row && toEvent(row);
    },

    async list(appId: string, page: PageRequest & { type?: string | undefined }): Promise<Page<WebhookEvent>> {
      let query = db.selectFrom('events').selectAll().where('app_id', '=', appId).orderBy('id', 'desc').limit(page.limit + 1);
      if (page.cursor) query = query.where('id', '<', page.cursor);
      if (page.type) query = query.where('type', '=', page.type);
      return toPage((await query.execute()).map(toEvent), page.limit);
    },

    async markDispatched(id: string): Promise<void> {
      await db.updateTable('events').set({ dispatched_at: new Date() }).where('id', '=', id).where('dispatched_at', 'is', null).execute();
    },

    /** Events committed before `before` whose fan-out was never confirmed started. */
    async undispatched(before: Date, limit: number): Promise<Pick<WebhookEvent, 'id' | 'appId' | 'type' | 'channels' | 'endpointIds'>[]> {
      const rows = await db
        .selectFrom('events')
        .select(['id', 'app_id', 'type', 'channels', 'endpoint_ids'])
        .where('dispatched_at', 'is', null)
        .where('created_at', '<', before)
        .orderBy('created_at', 'asc')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ id: r.id, appId: r.app_id, type: r.type, channels: r.channels, endpointIds: r.endpoint_ids }));
    },

    /** What the sending activity needs of an event: its stored JSON text, never re-serialized. */
    async payload(id: string) {
      return db
        .selectFrom('events')
        .select(['id', 'type', 'created_at', 'payload', 'previous_payload', 'channels', 'endpoint_ids', 'app_id'])
        .where('id', '=', id)
        .executeTakeFirst();
    },
  };
}
export type EventStore = ReturnType<typeof createEventStore>;
