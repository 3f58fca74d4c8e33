/**
 * Bearer-key authentication and tenancy (PRODUCT.md §6). The admin key manages everything; an
 * application key sees only its own application, and any other application is a 404, exactly as
 * if it did not exist. The admin key is compared as a SHA-256 digest in constant time; application
 * keys are looked up by their hash.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { IdPrefix, namesId } from '../domain/ids';
import { isAppKeyShape } from '../domain/keys';
import { take, type Bucket, type BucketRule } from '../domain/token-bucket';
import type { Store } from '../store';
import { ApiError, ErrorType, sendError } from './errors';

export type Principal = { kind: 'admin' } | { kind: 'app'; keyId: string; appId: string; appUid: string | null };

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Compares two secrets in constant time (over their digests, so lengths leak nothing either). */
export const sameSecret = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));

export function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

/**
 * A header the API reads, sent more than once, is refused: Node joins most copies with ", " (an
 * Idempotency-Key of "a, b" is neither of the ones sent) and keeps only the first Authorization.
 */
export function refuseRepeatedHeaders(req: Request, names: ReadonlySet<string>): void {
  const seen = new Set<string>();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    if (!names.has(name)) continue;
    if (seen.has(name)) throw ApiError.validation('The request headers are not valid', [{ path: name, message: 'sent more than once; send it once' }]);
    seen.add(name);
  }
}
const AUTHORIZATION: ReadonlySet<string> = new Set(['authorization']);

export function authenticate(adminKey: string, store: Store): RequestHandler {
  const expected = digest(adminKey);
  return async (req, res, next) => {
    // Node keeps the first of two Authorization headers: which key counts must not depend on that.
    refuseRepeatedHeaders(req, AUTHORIZATION);
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!match) {
      return sendError(res, new ApiError(401, ErrorType.authentication, 'missing_api_key', 'Send "Authorization: Bearer <key>"'));
    }
    const key = match[1]!;
    if (timingSafeEqual(digest(key), expected)) {
      res.locals.principal = { kind: 'admin' } satisfies Principal;
      return next();
    }
    const app = isAppKeyShape(key) ? await store.keys.authenticate(key) : undefined;
    if (!app) return sendError(res, new ApiError(401, ErrorType.authentication, 'invalid_api_key', 'The API key is not valid'));
    res.locals.principal = { kind: 'app', ...app } satisfies Principal;
    next();
  };
}

/** An application key reaches only `/v1/apps/{its id or uid}/…`; anything else is not found. */
export const scopeToApplication: RequestHandler = (req, res, next) => {
  const principal = principalOf(res);
  const app = String(req.params.app);
  // Decided the way the store resolves the segment: an `app_…` segment is an id, anything else a uid.
  if (principal.kind === 'app' && app !== (namesId(IdPrefix.app, app) ? principal.appId : principal.appUid)) {
    return sendError(res, ApiError.applicationNotFound(app));
  }
  next();
};

export function requireAdmin(res: Response): void {
  if (principalOf(res).kind !== 'admin') {
    throw new ApiError(403, ErrorType.permission, 'admin_key_required', 'This route needs the admin key');
  }
}

/**
 * A token bucket per key, in this process's memory. Each API process limits on its own, so N
 * processes allow up to N times the rate; that is the usual trade for not touching the store.
 */
export interface KeyLimits {
  /** How often a key may start requests (a token bucket per key, in this process). */
  rate: BucketRule;
  /**
   * Requests one application key may have open at once in this process, bodies still arriving
   * included. The rate alone bounds how often a key starts requests, not how long it holds them:
   * a tenant trickling slow bodies would otherwise fill the whole API's in-flight budget. The
   * admin key (the operator's own backend) has only that global budget.
   */
  maxInFlightPerAppKey: number;
}

export function rateLimitPerKey(limits: KeyLimits, maxKeys = 100_000): RequestHandler {
  const buckets = new Map<string, Bucket>();
  const open = new Map<string, number>();
  return (_req, res, next) => {
    const principal = principalOf(res);
    const id = principal.kind === 'admin' ? 'admin' : principal.keyId;
    if (principal.kind === 'app' && (open.get(id) ?? 0) >= limits.maxInFlightPerAppKey) {
      res.set('retry-after', '1');
      return sendError(res, new ApiError(429, ErrorType.rateLimit, 'too_many_in_flight', `This key has ${limits.maxInFlightPerAppKey} requests open already; retry after one ends`));
    }
    const result = take(buckets.get(id), limits.rate, Date.now());
    if (buckets.size >= maxKeys && !buckets.has(id)) buckets.clear();
    buckets.set(id, result.bucket);
    if (!result.ok) {
      res.set('retry-after', String(Math.max(1, Math.ceil(result.retryAfterMs / 1000))));
      return sendError(res, new ApiError(429, ErrorType.rateLimit, 'rate_limited', 'Too many requests for this key; retry after the Retry-After delay'));
    }
    // A client that left while its key was looked up has had its 'close' already: not counted.
    if (principal.kind === 'app' && !res.closed) {
      open.set(id, (open.get(id) ?? 0) + 1);
      // 'close' comes once per response, answered or cut off.
      res.once('close', () => {
        const left = (open.get(id) ?? 1) - 1;
        if (left > 0) open.set(id, left);
        else open.delete(id);
      });
    }
    next();
  };
}
