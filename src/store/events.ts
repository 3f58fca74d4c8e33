import type { EventRequest } from '../domain/idempotency';
import { sql, type Selectable } from 'kysely';
import { idTime, newId, IdPrefix } from '../domain/ids';
import type { EndpointStatus, Json, WebhookEvent } from '../domain/model';
import type { Db } from './db';
import type { EventsTable } from './schema';
import { createdIn, rowsWithin, type CreatedRange, type Page, type PageRequest } from './page';
import { subscriptionKeys } from '../domain/event-types';
import { groupCommit } from './group-commit';
import { endpointsMatching, matchSubscriptions } from './subscriptions';

/** A page of events stops early past this much event data (`data` and `previous_data` as stored). */
export const EVENT_PAGE_MAX_BYTES = 4 * 1024 * 1024;

/** An event to commit: the request's fields (`data` as JSON text, stored and delivered as it is) and its key. */
export interface NewEvent extends EventRequest {
  idempotencyKey: string | null;
}

function toEvent(row: Selectable<EventsTable>): WebhookEvent {
  return {
    id: row.id,
    appId: row.app_id,
    type: row.type,
    dataJson: row.payload,
    previousDataJson: row.previous_payload,
    channels: row.channels,
    endpointIds: row.endpoint_ids,
    idempotencyKey: row.idempotency_key,
    createdAt: row.created_at,
    dispatchedAt: row.dispatched_at,
    test: row.test,
  };
}

/** Most events one insert statement carries. */
const MAX_EVENTS_PER_STATEMENT = 200;

interface InsertItem {
  /** Chosen before the batch, so a batch retried after a failure inserts each event under the same id. */
  id: string;
  appId: string;
  input: NewEvent;
}

type EventRow = Selectable<EventsTable>;

export function createEventStore(db: Db) {
  /**
   * One statement for a whole batch of events (see `groupCommit`), and nothing else: the rows
   * travel as one JSON parameter. Per row it decides "anyone subscribed?" with the fan-out's own
   * rule and skips rows whose application does not exist (no foreign-key error to fail the
   * batch). Each item gets its inserted row, or null: an idempotency repeat, a missing
   * application or an id already inserted (any unique conflict is skipped), which `insert` tells
   * apart on its own.
   */
  async function insertBatch(items: readonly InsertItem[]): Promise<(EventRow | null)[]> {
    const rows = items.map(({ id, appId, input }) => ({
      id,
      created_at: idTime(id),
      app_id: appId,
      type: input.type,
      payload: input.dataJson,
      previous_payload: input.previousDataJson,
      channels: input.channels,
      endpoint_ids: input.endpointIds,
      idempotency_key: input.idempotencyKey,
      keys: subscriptionKeys(input.type),
    }));
    const v = <T>(column: string) => sql<T>`${sql.ref(`v.${column}`)}`;
    const subscribed = endpointsMatching(db, { appId: v<string>('app_id'), keys: v<string[]>('keys'), channels: v<string[] | null>('channels'), endpointIds: v<string[] | null>('endpoint_ids') }).select(sql`1`.as('one'));
    const inserted = await sql<EventRow>`
      insert into events (id, created_at, app_id, type, payload, previous_payload, channels, endpoint_ids, idempotency_key, dispatched_at, payload_format)
      select v.id, v.created_at, v.app_id, v.type, v.payload, v.previous_payload, to_jsonb(v.channels), to_jsonb(v.endpoint_ids), v.idempotency_key,
        case when exists (${subscribed}) then null else now() end, a.payload_format
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(id text, created_at timestamptz, app_id text, type text, payload text, previous_payload text, channels text[], endpoint_ids text[], idempotency_key text, keys text[])
      join applications a on a.id = v.app_id
      on conflict do nothing
      returning *`.execute(db);
    const byId = new Map(inserted.rows.map((row) => [row.id, row]));
    return items.map((item) => byId.get(item.id) ?? null);
  }
  const insertGrouped = groupCommit(insertBatch, { maxBatch: MAX_EVENTS_PER_STATEMENT });

  /** An event by id alone (the reconciler knows an event only from its fan-out's workflow id). */
  async function byId(id: string): Promise<WebhookEvent | undefined> {
    const row = await db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toEvent(row);
  }

  /** The event an Idempotency-Key first created in the application. */
  async function byIdempotencyKey(appId: string, key: string): Promise<WebhookEvent | undefined> {
    const row = await db.selectFrom('events').selectAll().where('app_id', '=', appId).where('idempotency_key', '=', key).executeTakeFirst();
    return row && toEvent(row);
  }

  return {
    /**
     * Commits an event. With an idempotency key, a repeat returns the first event and
     * `created: false`; the unique index decides, so concurrent repeats are safe too.
     * An event no endpoint subscribes to is committed already dispatched: it needs no fan-out,
     * and the same statement decides it. Concurrent inserts share one statement. Undefined when
     * the application does not exist.
     */
    async insert(appId: string, input: NewEvent): Promise<{ event: WebhookEvent; created: boolean } | undefined> {
      const id = newId(IdPrefix.event);
      const row = await insertGrouped({ id, appId, input });
      if (row) return { event: toEvent(row), created: true };
      // Its id taken: a batch that committed but whose answer was lost (a dropped connection) is
      // retried item by item, and each item then finds its own row. It was created all the same.
      const mine = await byId(id);
      if (mine) return { event: mine, created: true };
      if (input.idempotencyKey === null) return undefined;
      const first = await byIdempotencyKey(appId, input.idempotencyKey);
      return first && { event: first, created: false };
    },

    byIdempotencyKey,

    byId,

    async get(appId: string, id: string): Promise<WebhookEvent | undefined> {
      const row = await db.selectFrom('events').selectAll().where('app_id', '=', appId).where('id', '=', id).executeTakeFirst();
      return row && toEvent(row);
    },

    /**
     * A page of events, newest first: `limit` of them, or fewer when their data passes
     * `EVENT_PAGE_MAX_BYTES` (a page of 250 events at the payload cap would be 64 MB in one
     * response). The page's ids and sizes are read first, then only the events that fit.
     */
    async list(appId: string, page: PageRequest & CreatedRange & { type?: string | undefined }): Promise<Page<WebhookEvent>> {
      let query = db
        .selectFrom('events')
        .select(['id', sql<number>`octet_length(payload) + coalesce(octet_length(previous_payload), 0)`.as('size')])
        .where('app_id', '=', appId)
        .orderBy('id', 'desc')
        .limit(page.limit + 1);
      if (page.cursor) query = query.where('id', '<', page.cursor);
      if (page.type) query = query.where('type', '=', page.type);
      query = createdIn(query, IdPrefix.event, page);
      const sized = await query.execute();
      const n = rowsWithin(sized.map((r) => Number(r.size)), page.limit, EVENT_PAGE_MAX_BYTES);
      if (n === 0) return { data: [], nextCursor: null };
      const ids = sized.slice(0, n).map((r) => r.id);
      const rows = await db.selectFrom('events').selectAll().where('id', 'in', ids).orderBy('id', 'desc').execute();
      return { data: rows.map(toEvent), nextCursor: sized.length > n ? ids[n - 1]! : null };
    },

    /** The event of a test send: marked `test`, and committed dispatched, since the route starts its one delivery itself. */
    async insertTest(appId: string, e: { type: string; data: Json; endpointIds: string[] }): Promise<WebhookEvent> {
      const id = newId(IdPrefix.event);
      const row = await db
        .insertInto('events')
        .values({
          id,
          created_at: idTime(id),
          app_id: appId,
          type: e.type,
          payload: JSON.stringify(e.data),
          previous_payload: null,
          channels: null,
          endpoint_ids: JSON.stringify(e.endpointIds),
          idempotency_key: null,
          dispatched_at: new Date(),
          payload_format: sql<string>`(select payload_format from applications where id = ${appId})`,
          test: true,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toEvent(row);
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

    /**
     * One fan-out window in one statement: the event's subscribed endpoints after `after` (by id,
     * disabled ones included), and the event marked dispatched, since its fan-out is running. A
     * fan-out that runs late (a sweep after an outage, a restart by the reconciler) also reaches
     * endpoints created since the event: the rows' times come from process clocks (`idTime`), and
     * leaving out an endpoint by a comparison across clocks could lose the event for it.
     * `type` is the event's own type (the fan-out carries it), from which the matching keys come.
     */
    async fanOutWindow(q: { eventId: string; type: string; after: string | null; limit: number }): Promise<{ appId: string; endpoints: { id: string; status: EndpointStatus }[] }> {
      // Stored as JSON arrays; the subscription rule takes text[] (null: the event has none).
      const textArray = (column: 'channels' | 'endpoint_ids') => sql<string[] | null>`case when ${sql.ref(`ev.${column}`)} is null then null else array(select jsonb_array_elements_text(${sql.ref(`ev.${column}`)})) end`;
      const from = db
        .with('mark', (w) => w.updateTable('events').set({ dispatched_at: sql`now()` }).where('id', '=', q.eventId).where('dispatched_at', 'is', null))
        .with('ev', (w) => w.selectFrom('events').select(['app_id', 'channels', 'endpoint_ids']).where('id', '=', q.eventId))
        .selectFrom(['endpoints', 'ev']);
      const rows = await matchSubscriptions(from, { appId: sql<string>`ev.app_id`, keys: sql.val(subscriptionKeys(q.type)), channels: textArray('channels'), endpointIds: textArray('endpoint_ids') })
        .select(['endpoints.id', 'endpoints.status', 'ev.app_id'])
        .where('endpoints.id', '>', q.after ?? '')
        .orderBy('endpoints.id', 'asc')
        .limit(q.limit)
        .execute();
      return { appId: rows[0]?.app_id ?? '', endpoints: rows.map((r) => ({ id: r.id, status: r.status as EndpointStatus })) };
    },
  };
}
export type EventStore = ReturnType<typeof createEventStore>;
