import { sql, type Selectable } from 'kysely';
import { subscriptionKeys } from '../domain/event-types';
import { newId, IdPrefix } from '../domain/ids';
import type { Endpoint, EndpointStatus, SignatureScheme } from '../domain/model';
import type { RetrySchedule } from '../domain/schedule';
import type { Db } from './db';
import type { EndpointsTable } from './schema';
import type { SecretBox } from './secret-box';
import { toPage, type Page, type PageRequest } from './page';

export interface NewEndpoint {
  uid: string | null;
  url: string;
  description: string;
  eventTypes: string[];
  channels: string[] | null;
  signatureScheme: SignatureScheme;
  secret: string;
  timeoutMs: number;
  rateLimitPerS: number | null;
  retrySchedule: RetrySchedule | null;
  metadata: Record<string, string>;
}

export type EndpointPatch = Partial<Omit<NewEndpoint, 'secret'>> & { status?: EndpointStatus };

function toEndpoint(row: Selectable<EndpointsTable>): Endpoint {
  return {
    id: row.id,
    appId: row.app_id,
    uid: row.uid,
    url: row.url,
    description: row.description,
    eventTypes: row.event_types,
    channels: row.channels,
    signatureScheme: row.signature_scheme as SignatureScheme,
    timeoutMs: row.timeout_ms,
    rateLimitPerS: row.rate_limit_per_s,
    retrySchedule: row.retry_schedule as RetrySchedule | null,
    status: row.status as EndpointStatus,
    disabledReason: row.disabled_reason,
    disabledAt: row.disabled_at,
    metadata: row.metadata,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

export interface ResolveQuery {
  appId: string;
  eventType: string;
  channels: string[] | null;
  endpointIds: string[] | null;
  /** Endpoint id after which to continue, ascending. */
  after: string | null;
  limit: number;
}

export function createEndpointStore(db: Db, box: SecretBox) {
  return {
    async create(appId: string, input: NewEndpoint): Promise<Endpoint> {
      const row = await db
        .insertInto('endpoints')
        .values({
          id: newId(IdPrefix.endpoint),
          app_id: appId,
          uid: input.uid,
          url: input.url,
          description: input.description,
          event_types: JSON.stringify(input.eventTypes),
          channels: json(input.channels),
          signature_scheme: input.signatureScheme,
          secret_ciphertext: box.seal(input.secret),
          timeout_ms: input.timeoutMs,
          rate_limit_per_s: input.rateLimitPerS,
          retry_schedule: json(input.retrySchedule),
          metadata: JSON.stringify(input.metadata),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toEndpoint(row);
    },

    async get(appId: string, id: string): Promise<Endpoint | undefined> {
      const row = await db.selectFrom('endpoints').selectAll().where('app_id', '=', appId).where('id', '=', id).executeTakeFirst();
      return row && toEndpoint(row);
    },

    async list(appId: string, page: PageRequest): Promise<Page<Endpoint>> {
      let query = db.selectFrom('endpoints').selectAll().where('app_id', '=', appId).orderBy('id', 'desc').limit(page.limit + 1);
      if (page.cursor) query = query.where('id', '<', page.cursor);
      return toPage((await query.execute()).map(toEndpoint), page.limit);
    },

    async update(appId: string, id: string, patch: EndpointPatch): Promise<Endpoint | undefined> {
      const row = await db
        .updateTable('endpoints')
        .set({
          ...(patch.uid !== undefined && { uid: patch.uid }),
          ...(patch.url !== undefined && { url: patch.url }),
          ...(patch.description !== undefined && { description: patch.description }),
          ...(patch.eventTypes !== undefined && { event_types: JSON.stringify(patch.eventTypes) }),
          ...(patch.channels !== undefined && { channels: json(patch.channels) }),
          ...(patch.signatureScheme !== undefined && { signature_scheme: patch.signatureScheme }),
          ...(patch.timeoutMs !== undefined && { timeout_ms: patch.timeoutMs }),
          ...(patch.rateLimitPerS !== undefined && { rate_limit_per_s: patch.rateLimitPerS }),
          ...(patch.retrySchedule !== undefined && { retry_schedule: json(patch.retrySchedule) }),
          ...(patch.metadata !== undefined && { metadata: JSON.stringify(patch.metadata) }),
          updated_at: new Date(),
        })
        .where('app_id', '=', appId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row && toEndpoint(row);
    },

    async delete(appId: string, id: string): Promise<boolean> {
      const result = await db.deleteFrom('endpoints').where('app_id', '=', appId).where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    /** The subset of `ids` that are endpoints of the application. */
    async existingIds(appId: string, ids: string[]): Promise<string[]> {
      if (ids.length === 0) return [];
      const rows = await db.selectFrom('endpoints').select('id').where('app_id', '=', appId).where('id', 'in', ids).execute();
      return rows.map((r) => r.id);
    },

    /** The live secrets of an endpoint, decrypted, oldest first. Only the sending activity calls this. */
    async secrets(id: string): Promise<string[]> {
      const row = await db.selectFrom('endpoints').select('secret_ciphertext').where('id', '=', id).executeTakeFirst();
      return row ? [box.open(row.secret_ciphertext)] : [];
    },

    /**
     * One page of the active endpoints subscribed to an event, ascending by id. The type filter is
     * an overlap with `subscriptionKeys(type)`, the same rule `matchesEventType` applies in code.
     */
    async resolveForEvent(q: ResolveQuery): Promise<string[]> {
      let query = db
        .selectFrom('endpoints')
        .select('id')
        .where('app_id', '=', q.appId)
        .where('status', '=', 'active')
        .where(sql<boolean>`event_types ?| ${sql.val(subscriptionKeys(q.eventType))}::text[]`)
        .orderBy('id', 'asc')
        .limit(q.limit);
      query = q.channels
        ? query.where(sql<boolean>`(channels is null or jsonb_array_length(channels) = 0 or channels ?| ${sql.val(q.channels)}::text[])`)
        : query.where(sql<boolean>`(channels is null or jsonb_array_length(channels) = 0)`);
      if (q.endpointIds) query = query.where('id', 'in', q.endpointIds.length ? q.endpointIds : ['']);
      if (q.after) query = query.where('id', '>', q.after);
      return (await query.execute()).map((r) => r.id);
    },
  };
}
export type EndpointStore = ReturnType<typeof createEndpointStore>;
