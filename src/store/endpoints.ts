import { sql, type Selectable } from 'kysely';
import { idTime, namesId, newId, IdPrefix } from '../domain/ids';
import type { Endpoint, EndpointStatus, SignatureScheme } from '../domain/model';
import type { RetrySchedule } from '../domain/schedule';
import type { Db } from './db';
import type { EndpointsTable } from './schema';
import type { SecretBox } from './secret-box';
import { toPage, type Page, type PageRequest } from './page';
import { subscribedEndpoints } from './subscriptions';

export interface NewEndpoint {
  uid: string | null;
  url: string;
  description: string;
  eventTypes: string[];
  channels: string[] | null;
  signatureScheme: SignatureScheme;
  signatureHeader: string | null;
  secret: string;
  /** Custom headers; sealed at rest and never returned. */
  headers: Record<string, string> | null;
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
    signatureHeader: row.signature_header,
    headerNames: row.header_names,
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

/** Rotated-out secrets are deleted this long after their grace ends; they sign nothing by then. */
const EXPIRED_SECRET_RETENTION_MS = 7 * 24 * 3600 * 1000;

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
  /** The endpoint's secrets that have not expired at `now`, decrypted; `q` may be a transaction. */
  async function liveSecrets(q: Db, endpointId: string, now: Date): Promise<string[]> {
    const rows = await q
      .selectFrom('endpoint_secrets')
      .select('secret_ciphertext')
      .where('endpoint_id', '=', endpointId)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .execute();
    return rows.map((r) => box.open(r.secret_ciphertext));
  }

  function sealHeaders(headers: Record<string, string> | null): { ciphertext: string | null; names: string[] } {
    if (!headers || Object.keys(headers).length === 0) return { ciphertext: null, names: [] };
    return { ciphertext: box.seal(JSON.stringify(headers)), names: Object.keys(headers).sort() };
  }
  function sealedColumns(headers: Record<string, string> | null) {
    const sealed = sealHeaders(headers);
    return { headers_ciphertext: sealed.ciphertext, header_names: JSON.stringify(sealed.names) };
  }

  return {
    /**
     * Creates an endpoint, or returns undefined when the application already has `maxEndpoints`.
     * The application row is locked first, so concurrent creates cannot pass the limit together.
     */
    async create(appId: string, maxEndpoints: number, input: NewEndpoint): Promise<Endpoint | undefined> {
      const sealed = sealHeaders(input.headers);
      return db.transaction().execute(async (tx) => {
        await tx.selectFrom('applications').select('id').where('id', '=', appId).forUpdate().execute();
        const { n } = await tx.selectFrom('endpoints').select((eb) => eb.fn.countAll<number>().as('n')).where('app_id', '=', appId).executeTakeFirstOrThrow();
        if (Number(n) >= maxEndpoints) return undefined;
        const id = newId(IdPrefix.endpoint);
        const row = await tx
          .insertInto('endpoints')
          .values({
            id,
            // The id's time, as for events and deliveries (the list filters read it); updated_at starts equal.
            created_at: idTime(id),
            updated_at: idTime(id),
            app_id: appId,
            uid: input.uid,
            url: input.url,
            description: input.description,
            event_types: JSON.stringify(input.eventTypes),
            channels: json(input.channels),
            signature_scheme: input.signatureScheme,
            signature_header: input.signatureHeader,
            headers_ciphertext: sealed.ciphertext,
            header_names: JSON.stringify(sealed.names),
            timeout_ms: input.timeoutMs,
            rate_limit_per_s: input.rateLimitPerS,
            retry_schedule: json(input.retrySchedule),
            metadata: JSON.stringify(input.metadata),
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await tx.insertInto('endpoint_secrets').values({ endpoint_id: row.id, secret_ciphertext: box.seal(input.secret) }).execute();
        return toEndpoint(row);
      });
    },

    /**
     * Adds a new current secret. Every secret still live gets `expiresAt = now + grace` (or keeps
     * an earlier expiry), so old ones keep signing until their grace ends (PRODUCT.md §4).
     * `check` sees the live secrets first, under the endpoint's row lock, and may refuse by throwing.
     */
    async rotateSecret(endpointId: string, secret: string, graceMs: number, now = new Date(), check?: (live: string[]) => void): Promise<{ previousExpiresAt: Date }> {
      const expiresAt = new Date(now.getTime() + graceMs);
      await db.transaction().execute(async (tx) => {
        // Rotations of one endpoint take turns, so `check` sees the secrets the rotation changes.
        await tx.selectFrom('endpoints').select('id').where('id', '=', endpointId).forUpdate().execute();
        if (check) check(await liveSecrets(tx, endpointId, now));
        await tx
          .updateTable('endpoint_secrets')
          .set({ expires_at: expiresAt })
          .where('endpoint_id', '=', endpointId)
          .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', expiresAt)]))
          .execute();
        await tx
          .deleteFrom('endpoint_secrets')
          .where('endpoint_id', '=', endpointId)
          .where('expires_at', '<', new Date(now.getTime() - EXPIRED_SECRET_RETENTION_MS))
          .execute();
        // created_at is the database's clock, as for the endpoint's first secret: the signing
        // order (oldest first) must not depend on how far this process's clock is from it.
        await tx.insertInto('endpoint_secrets').values({ endpoint_id: endpointId, secret_ciphertext: box.seal(secret) }).execute();
        await tx.updateTable('endpoints').set({ updated_at: now }).where('id', '=', endpointId).execute();
      });
      return { previousExpiresAt: expiresAt };
    },

    /** By id, or by uid for anything not shaped like an endpoint id (a uid never is: `uidProblem`). */
    async get(appId: string, idOrUid: string): Promise<Endpoint | undefined> {
      const column = namesId(IdPrefix.endpoint, idOrUid) ? 'id' : 'uid';
      const row = await db.selectFrom('endpoints').selectAll().where('app_id', '=', appId).where(column, '=', idOrUid).executeTakeFirst();
      return row && toEndpoint(row);
    },

    /** The producer's own key, unique within the application. */
    async getByUid(appId: string, uid: string): Promise<Endpoint | undefined> {
      const row = await db.selectFrom('endpoints').selectAll().where('app_id', '=', appId).where('uid', '=', uid).executeTakeFirst();
      return row && toEndpoint(row);
    },

    async list(appId: string, page: PageRequest & { status?: EndpointStatus | undefined }): Promise<Page<Endpoint>> {
      let query = db.selectFrom('endpoints').selectAll().where('app_id', '=', appId).orderBy('id', 'desc').limit(page.limit + 1);
      if (page.cursor) query = query.where('id', '<', page.cursor);
      if (page.status) query = query.where('status', '=', page.status);
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
          ...(patch.signatureHeader !== undefined && { signature_header: patch.signatureHeader }),
          ...(patch.headers !== undefined && sealedColumns(patch.headers)),
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

    /** The endpoint's unexpired secrets, decrypted: for checks that need them, never for responses. */
    async unexpiredSecrets(endpointId: string, now = new Date()): Promise<string[]> {
      return liveSecrets(db, endpointId, now);
    },

    /**
     * One stored secret sealed with a key `box` does not hold, if any: the process was started
     * with another HOOKLINE_ENCRYPTION_KEY than the one that sealed them, and without that one in
     * HOOKLINE_PREVIOUS_ENCRYPTION_KEYS. Reads each key id in use once (an index-free scan of a
     * table of a few rows per endpoint, at start only).
     */
    async sealedWithUnknownKey(): Promise<string | undefined> {
      const { rows } = await sql<{ sealed: string }>`select min(secret_ciphertext) as sealed from endpoint_secrets group by split_part(secret_ciphertext, '.', 2)`.execute(db);
      return rows.map((r) => r.sealed).find((sealed) => !box.hasKeyFor(sealed));
    },

    /** The subset of `ids` that are endpoints of the application. */
    async existingIds(appId: string, ids: string[]): Promise<string[]> {
      if (ids.length === 0) return [];
      const rows = await db.selectFrom('endpoints').select('id').where('app_id', '=', appId).where('id', 'in', ids).execute();
      return rows.map((r) => r.id);
    },

    /** One page of the endpoints subscribed to an event (see `subscriptions.ts`), ascending by id. */
    async resolveForEvent(q: ResolveQuery): Promise<{ id: string; status: EndpointStatus }[]> {
      let query = subscribedEndpoints(db, q).select(['id', 'status']).orderBy('id', 'asc').limit(q.limit);
      if (q.after) query = query.where('id', '>', q.after);
      return (await query.execute()).map((r) => ({ id: r.id, status: r.status as EndpointStatus }));
    },
  };
}
export type EndpointStore = ReturnType<typeof createEndpointStore>;
