/**
 * `Idempotency-Key` on the API's POSTs that create or send something (an application, an
 * endpoint, a key, a secret rotation, a test send, a resend, a recovery), as Stripe and Svix
 * honour it: a retry of a request whose answer was lost gets that answer again, marked
 * `idempotent-replayed: true`, instead of making a second resource or a second send. Events have
 * their own rule (routes/events.ts), which compares the event's fields and never expires.
 *
 * - A key is remembered for 24 hours, per application (its keys share it) or for the admin key.
 * - A repeat must be the same request: the same method, path and body (as JSON values: key order
 *   aside). The key with another request is a `422 idempotency_key_reused`.
 * - While the first request runs, a repeat is a `409 idempotency_key_in_use` (retry shortly).
 * - Only answers are remembered: a request that fails (a 4xx, or the store or Temporal down)
 *   frees its key, so the retry runs it again.
 */
import { createHash, hkdfSync } from 'node:crypto';
import type { Logger } from '../logger';
import type { IdempotentRequestStore } from '../store/idempotent-requests';
import { createSecretBox, type SecretBox } from '../store/secret-box';
import type { Principal } from './auth';
import { ApiError, ErrorType } from './errors';

export interface IdempotentRequest {
  /** Who may repeat it: `admin`, or `app:<id>` for the application's keys. */
  scope: string;
  /** The `Idempotency-Key` as sent. Stored only as its digest. */
  key: string;
  /** `requestFingerprint` of the request. */
  fingerprint: string;
}

export interface IdempotentAnswer {
  status: number;
  /** The JSON text sent, or null for no body. */
  body: string | null;
  replayed: boolean;
}

export const scopeOf = (principal: Principal): string => (principal.kind === 'admin' ? 'admin' : `app:${principal.appId}`);

/**
 * What a repeat must equal: method, path and the body as a JSON value (object key order aside).
 * Salted with the key: a body may hold a secret or a header value, and its plain digest in the
 * table would let a weak one be guessed offline.
 */
export function requestFingerprint(key: string, method: string, path: string, body: unknown): string {
  return createHash('sha256').update(`${key}\n${method.toUpperCase()} ${path}\n${canonicalJson(body)}`).digest('base64url');
}

/** The key as stored: its digest, so the table does not hold what opens the answers. */
export const storedKey = (key: string): string => createHash('sha256').update(key).digest('base64url');

/**
 * Answers are encrypted under a key derived from the client's Idempotency-Key, as well as sealed
 * with the server's key by the store: an answer may carry an application key or a signing secret
 * shown once, and the database and the server's key alone must not open it.
 */
const answerBox = (key: string, scope: string): SecretBox => createSecretBox(Buffer.from(hkdfSync('sha256', key, scope, 'hookline idempotent answer', 32)));

export const encryptAnswer = (key: string, scope: string, text: string): string => answerBox(key, scope).seal(text);
export const decryptAnswer = (key: string, scope: string, sealed: string): string => answerBox(key, scope).open(sealed);

/** JSON text with every object's keys sorted. For bodies the API has validated: their nesting is bounded. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  ) ?? 'null';
}

/** How often a process deletes expired records, at most. */
const PRUNE_INTERVAL_MS = 10 * 60_000;

export function createIdempotency(store: IdempotentRequestStore, logger: Pick<Logger, 'warn'>) {
  let prunedAt = 0;
  const prune = () => {
    if (Date.now() - prunedAt < PRUNE_INTERVAL_MS) return;
    prunedAt = Date.now();
    store.prune().catch((err: unknown) => logger.warn({ err }, 'could not delete expired idempotency keys'));
  };

  return {
    /**
     * Runs `run` once per key: the first request runs it and its answer is stored; a repeat gets
     * that answer. `run` gives the JSON text to send, or null for no body; undefined when it
     * answered by itself, which is not remembered.
     */
    async once(request: IdempotentRequest, status: number, run: () => Promise<string | null | undefined>): Promise<IdempotentAnswer | undefined> {
      const { scope } = request;
      const key = storedKey(request.key);
      const claim = await store.claim(scope, key, request.fingerprint);
      if (claim.kind !== 'claimed') {
        if (claim.fingerprint !== request.fingerprint) {
          throw new ApiError(422, ErrorType.invalidRequest, 'idempotency_key_reused', 'This Idempotency-Key was used for another request (another method, path or body); use a new key for a new request');
        }
        if (claim.kind === 'running') throw ApiError.idempotencyKeyInUse();
        return { status: claim.status, body: claim.body === null ? null : decryptAnswer(request.key, scope, claim.body), replayed: true };
      }
      prune();
      let body: string | null | undefined;
      try {
        body = await run();
      } catch (err) {
        await store.release(scope, key, claim.token).catch(() => undefined); // unreleased, it is taken for abandoned later
        throw err;
      }
      if (body === undefined) {
        await store.release(scope, key, claim.token).catch(() => undefined);
        return undefined;
      }
      // The request has run: its answer goes out even if it cannot be stored. A repeat then
      // waits for the claim to be taken for abandoned, and runs again.
      await store
        .answer(scope, key, claim.token, status, body === null ? null : encryptAnswer(request.key, scope, body))
        .catch((err: unknown) => logger.warn({ err, scope }, 'could not store the answer to an Idempotency-Key request'));
      return { status, body, replayed: false };
    },
  };
}
export type Idempotency = ReturnType<typeof createIdempotency>;
