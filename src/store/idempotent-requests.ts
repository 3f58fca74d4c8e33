/**
 * Idempotency-Key records for the API's POSTs other than events (events keep their key on the
 * event row, forever: PRODUCT.md §2). A record is claimed before the request runs and holds its
 * answer once it has run, so a client's retry gets the first answer instead of a second resource.
 *
 * What must stay true:
 * - A claim is one insert on the primary key (an expired record is taken over by its ON CONFLICT
 *   update): of two requests with one key, one runs.
 * - Only the claim's holder (its token) answers or releases it: a request that outlived its
 *   claim cannot overwrite or free the claim of the one that took the key over.
 * - Answers are sealed with the server's key here, on top of the caller's encryption under the
 *   client's own key (api/idempotent.ts): some carry a secret shown once.
 * - Times are the database's (`now()`), so API processes with skewed clocks agree on expiry.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from './db';
import type { SecretBox } from './secret-box';

/** How long a key is remembered, as Stripe does. */
export const IDEMPOTENCY_TTL_HOURS = 24;
/**
 * A claim with no answer after this long is taken for a request whose process died, and may be
 * claimed again. Longer than any request takes: each store statement and Temporal call the API
 * makes is bounded (10 s, 5 s, 15 s for signal-with-start).
 */
export const ABANDONED_CLAIM_S = 120;

export type Claim =
  | { kind: 'claimed'; token: string }
  | { kind: 'running'; fingerprint: string }
  | { kind: 'answered'; fingerprint: string; status: number; body: string | null };

export function createIdempotentRequestStore(db: Db, box: SecretBox) {
  // Qualified: in the claim's ON CONFLICT clause it must name the row already there.
  const expired = sql<boolean>`(idempotent_requests.created_at < now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS}) or (idempotent_requests.status is null and idempotent_requests.created_at < now() - make_interval(secs => ${ABANDONED_CLAIM_S})))`;
  return {
    /** Claims `key` in `scope` for a request, or reads what holds it. */
    async claim(scope: string, key: string, fingerprint: string): Promise<Claim> {
      // A record released between the insert and the read (its request failed) frees the key:
      // try again, a few times; past that the key is reported as in use, and the client retries.
      for (let tries = 0; ; tries++) {
        const token = randomUUID();
        // One statement: a new key is inserted, and an expired record is taken over in place.
        const claimed = await db
          .insertInto('idempotent_requests')
          .values({ scope, key, fingerprint, claim: token, created_at: sql<Date>`now()` })
          .onConflict((oc) =>
            oc
              .columns(['scope', 'key'])
              .doUpdateSet({ fingerprint, claim: token, created_at: sql<Date>`now()`, status: null, response: null })
              .where(expired),
          )
          .returning('key')
          .executeTakeFirst();
        if (claimed) return { kind: 'claimed', token };
        const row = await db.selectFrom('idempotent_requests').select(['fingerprint', 'status', 'response']).where('scope', '=', scope).where('key', '=', key).executeTakeFirst();
        if (!row) {
          if (tries < 3) continue;
          return { kind: 'running', fingerprint };
        }
        if (row.status === null) return { kind: 'running', fingerprint: row.fingerprint };
        return { kind: 'answered', fingerprint: row.fingerprint, status: row.status, body: row.response === null ? null : box.open(row.response) };
      }
    },

    /** Stores the answer of the request that holds the claim `token`; nothing if it lost the claim. */
    async answer(scope: string, key: string, token: string, status: number, body: string | null): Promise<void> {
      await db
        .updateTable('idempotent_requests')
        .set({ status, response: body === null ? null : box.seal(body) })
        .where('scope', '=', scope)
        .where('key', '=', key)
        .where('claim', '=', token)
        .execute();
    },

    /** Frees the key of a request that failed, if it still holds the claim: a retry runs it again. */
    async release(scope: string, key: string, token: string): Promise<void> {
      await db.deleteFrom('idempotent_requests').where('scope', '=', scope).where('key', '=', key).where('claim', '=', token).where('status', 'is', null).execute();
    },

    /** Deletes the records past their time; returns how many. */
    async prune(): Promise<number> {
      const result = await db.deleteFrom('idempotent_requests').where(expired).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
export type IdempotentRequestStore = ReturnType<typeof createIdempotentRequestStore>;
