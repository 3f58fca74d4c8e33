import { displayPrefix, hashKey } from '../domain/keys';
import { IdPrefix, newId } from '../domain/ids';
import type { Db } from './db';
import { toPage, type Page, type PageRequest } from './page';

export interface ApiKey {
  id: string;
  appId: string;
  name: string;
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface KeyPrincipal {
  keyId: string;
  appId: string;
  appUid: string | null;
}

const columns = ['id', 'app_id', 'name', 'prefix', 'created_at', 'revoked_at'] as const;
const toKey = (r: { id: string; app_id: string; name: string; prefix: string; created_at: Date; revoked_at: Date | null }): ApiKey => ({
  id: r.id,
  appId: r.app_id,
  name: r.name,
  prefix: r.prefix,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

export function createKeyStore(db: Db) {
  return {
    /**
     * Stores the hash of `key`; the key itself is returned to the caller once and not stored here.
     * (A create under an Idempotency-Key keeps its answer, the key in it, for 24 h, encrypted under
     * that Idempotency-Key: api/idempotent.ts.)
     */
    async create(appId: string, key: string, name: string): Promise<ApiKey> {
      const row = await db
        .insertInto('api_keys')
        .values({ id: newId(IdPrefix.key), app_id: appId, name, prefix: displayPrefix(key), key_hash: hashKey(key) })
        .returning(columns)
        .executeTakeFirstOrThrow();
      return toKey(row);
    },

    async list(appId: string, page: PageRequest): Promise<Page<ApiKey>> {
      let query = db.selectFrom('api_keys').select(columns).where('app_id', '=', appId).orderBy('id', 'desc').limit(page.limit + 1);
      if (page.cursor) query = query.where('id', '<', page.cursor);
      return toPage((await query.execute()).map(toKey), page.limit);
    },

    async revoke(appId: string, id: string): Promise<ApiKey | undefined> {
      const row = await db
        .updateTable('api_keys')
        .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(new Date())) }))
        .where('app_id', '=', appId)
        .where('id', '=', id)
        .returning(columns)
        .executeTakeFirst();
      return row && toKey(row);
    },

    /** The application a live key belongs to, by the key's hash; undefined for unknown or revoked keys. */
    async authenticate(key: string): Promise<KeyPrincipal | undefined> {
      const row = await db
        .selectFrom('api_keys as k')
        .innerJoin('applications as a', 'a.id', 'k.app_id')
        .select(['k.id', 'k.app_id', 'a.uid'])
        .where('k.key_hash', '=', hashKey(key))
        .where('k.revoked_at', 'is', null)
        .executeTakeFirst();
      return row && { keyId: row.id, appId: row.app_id, appUid: row.uid };
    },
  };
}
export type KeyStore = ReturnType<typeof createKeyStore>;
