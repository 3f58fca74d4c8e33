import { randomBytes } from 'node:crypto';

/** Resource id prefixes. Every id is `<prefix>_<26 chars>`: time-ordered, so ids sort newest-last. */
export const IdPrefix = {
  app: 'app',
  endpoint: 'ep',
  event: 'evt',
  delivery: 'dlv',
  attempt: 'atmpt',
  key: 'key',
  recovery: 'rcv',
} as const;
export type IdPrefix = (typeof IdPrefix)[keyof typeof IdPrefix];

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ID_BODY = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** The first 10 characters of an id body: the millisecond time, Crockford base32. */
function encodeTime(ms: number): string {
  let time = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  return time;
}

/** A ULID-style body: 48-bit millisecond time then 80 random bits, Crockford base32. */
export function ulid(now = Date.now()): string {
  const time = encodeTime(now);
  const bytes = randomBytes(16);
  let rand = '';
  for (let i = 0; i < 16; i++) rand += CROCKFORD[bytes[i]! % 32]!;
  return time + rand;
}

export function newId(prefix: IdPrefix, now?: number): string {
  return `${prefix}_${ulid(now)}`;
}

/**
 * The time inside an id (its millisecond, see `ulid`). Rows that the API lists by time store it
 * as their `created_at`, so the `created_at` a client reads and the `since`/`until` filters,
 * which read the time inside the ids, agree.
 */
export function idTime(id: string): Date {
  const body = id.slice(id.indexOf('_') + 1);
  let ms = 0;
  for (let i = 0; i < 10; i++) ms = ms * 32 + CROCKFORD.indexOf(body[i]!);
  return new Date(ms);
}

/**
 * The lowest id created at `at`: every id made at or after that millisecond sorts at or above it,
 * every earlier one below. So "created in [since, until)" is an id range on the (app_id, id) index.
 */
export function idFloor(prefix: IdPrefix, at: Date): string {
  return `${prefix}_${encodeTime(Math.max(0, at.getTime()))}${'0'.repeat(16)}`;
}

/**
 * Whether a path segment that takes "an id or a uid" names an id: it starts with the id prefix.
 * The store, the auth scope and the routes all decide with this one rule, and uids may not start
 * with an id prefix (`uidProblem`), so a uid can never be read as another resource's id.
 */
export function namesId(prefix: IdPrefix, idOrUid: string): boolean {
  return idOrUid.startsWith(`${prefix}_`);
}

/** The uid of the application that carries operational events (src/store/operator.ts); no producer's application may take it. */
export const OPERATOR_APP_UID = 'hookline-operator';

/** Why a producer's uid is refused, or null: it must not look like any Hookline id. */
export function uidProblem(uid: string): string | null {
  // URL clients resolve these path segments away (`/v1/apps/..` is `/v1`): the uid could not be addressed.
  if (uid === '.' || uid === '..') return 'must not be "." or ".."';
  const prefix = Object.values(IdPrefix).find((p) => namesId(p, uid));
  return prefix ? `must not start with "${prefix}_", which Hookline's ids use` : null;
}

export function isId(prefix: IdPrefix, value: string): boolean {
  return namesId(prefix, value) && ID_BODY.test(value.slice(prefix.length + 1));
}

/**
 * Attempt ids are derived, not random: an activity that re-runs after a worker crash
 * writes the same row again instead of a second one (docs/architecture.md, invariant 2).
 */
export function attemptId(deliveryId: string, attemptNumber: number): string {
  return `${IdPrefix.attempt}_${deliveryId.slice(IdPrefix.delivery.length + 1)}_${attemptNumber}`;
}
