/**
 * Bearer-key authentication and tenancy (PRODUCT.md §6). The admin key manages everything; an
 * application key sees only its own application, and any other application is a 404, exactly as
 * if it did not exist. The admin key is compared as a SHA-256 digest in constant time; application
 * keys are looked up by their hash.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { IdPrefix, namesId } from '../domain/ids';
import { take, type Bucket, type BucketRule } from '../domain/token-bucket';
import type { Store } from '../store';
import { ApiError, ErrorType, sendError } from './errors';

export type Principal = { kind: 'admin' } | { kind: 'app'; keyId: string; appId: string; appUid: string | null };

const digest = (value: string) => createHash('sha256').update(value).digest();

export function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

export function authenticate(adminKey: string, store: Store): RequestHandler {
  const expected = digest(adminKey);
  return async (req, res, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!match) {
      return sendError(res, new ApiError(401, ErrorType.authentication, 'missing_api_key', 'Send "Authorization: Bearer <key>"'));
    }
    const key = match[1]!;
    if (timingSafeEqual(digest(key), expected)) {
      res.locals.principal = { kind: 'admin' } satisfies Principal;
      return next();
    }
    const app = await store.keys.authenticate(key);
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
    return sendError(res, ApiError.notFound('application', app));
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
export function rateLimitPerKey(rule: BucketRule, maxKeys = 100_000): RequestHandler {
  const buckets = new Map<string, Bucket>();
  return (_req, res, next) => {
    const principal = principalOf(res);
    const id = principal.kind === 'admin' ? 'admin' : principal.keyId;
    const result = take(buckets.get(id), rule, Date.now());
    if (buckets.size >= maxKeys && !buckets.has(id)) buckets.clear();
    buckets.set(id, result.bucket);
    if (result.ok) return next();
    res.set('retry-after', String(Math.max(1, Math.ceil(result.retryAfterMs / 1000))));
    sendError(res, new ApiError(429, ErrorType.rateLimit, 'rate_limited', 'Too many requests for this key; retry after the Retry-After delay'));
  };
}
