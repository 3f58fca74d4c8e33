/**
 * The one error shape of the API: `{"error":{"type","code","message","details?"}}`. Handlers throw
 * `ApiError`; the error middleware maps everything else to a 4xx where the cause is known, to a
 * 503 when a dependency is down (`store_unavailable`, `schema_checker_unavailable`), and to a 500
 * only for a bug.
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { z } from './zod';
import type { Logger } from '../logger';
import { storeUnavailable } from '../store/db';
import { SchemaCheckerUnavailable } from './schema-checker';
import { IdPrefix, namesId } from '../domain/ids';

export const ErrorType = {
  invalidRequest: 'invalid_request_error',
  authentication: 'authentication_error',
  /** A valid key that may not do this (403). */
  permission: 'permission_error',
  notFound: 'not_found_error',
  conflict: 'conflict_error',
  rateLimit: 'rate_limit_error',
  unavailable: 'service_unavailable_error',
  api: 'api_error',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  static validation(message: string, details?: unknown): ApiError {
    return new ApiError(400, ErrorType.invalidRequest, 'validation_failed', message, details);
  }

  /**
   * A body in which an object repeats a key (`path` names it). JSON.parse keeps the last value,
   * while receivers' and clients' parsers disagree (some keep the first, some refuse the document).
   */
  static repeatedKey(path: string): ApiError {
    return new ApiError(400, ErrorType.invalidRequest, 'duplicate_key', `The body repeats the key at ${path}; JSON parsers disagree on which value counts`, [{ path, message: 'repeated key' }]);
  }

  /** Seconds the answer tells the client to wait (`Retry-After`); every 503 says 1 unless it sets its own. */
  retryAfterS?: number;

  /** A repeat of an Idempotency-Key request that still runs (api/idempotent.ts); its answer comes soon. */
  static idempotencyKeyInUse(): ApiError {
    const err = new ApiError(409, ErrorType.conflict, 'idempotency_key_in_use', 'A request with this Idempotency-Key is still running; retry it in a moment');
    err.retryAfterS = 1;
    return err;
  }

  static unsupportedEncoding(): ApiError {
    return new ApiError(415, ErrorType.invalidRequest, 'unsupported_encoding', 'Send the body as UTF-8 JSON');
  }

  /** Thrown from the JSON parser's `verify` hooks, which pass an error's own 400 on. */
  static invalidUtf8(): ApiError {
    return new ApiError(400, ErrorType.invalidRequest, 'invalid_encoding', 'The body is not valid UTF-8');
  }

  /** `by` names what identified it: an id or uid (most resources), a name (event types). */
  static notFound(resource: string, id: string, by = 'id'): ApiError {
    return new ApiError(404, ErrorType.notFound, `${resource}_not_found`, `No ${resource.replaceAll('_', ' ')} with ${by} "${id}"`);
  }

  /** `{app}` in a path is an id when it reads as one (`app_…`), else a uid, as the store resolves it. */
  static applicationNotFound(segment: string): ApiError {
    return ApiError.notFound('application', segment, namesId(IdPrefix.app, segment) ? 'id' : 'uid');
  }

  /** `{endpoint}` in a path, read as `{app}` is (`ep_…` an id, anything else a uid). */
  static endpointNotFound(segment: string): ApiError {
    return ApiError.notFound('endpoint', segment, namesId(IdPrefix.endpoint, segment) ? 'id' : 'uid');
  }
}

export const ErrorBody = z
  .object({
    error: z.object({
      type: z.string(),
      code: z.string(),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');

export function zodDetails(error: z.ZodError): { path: string; message: string }[] {
  // zod 4 still runs a field's length and size checks on a value of the wrong type that has a
  // length (an array for a string): `name: []` got "expected string" and "expected array to have
  // >=1 items", which reads as if an array would do. A wrong type is the one thing to say there.
  const all = error.issues.flatMap(unwrapUnion);
  const wrongType = new Set(all.filter((i) => i.code === 'invalid_type').map((i) => JSON.stringify(i.path)));
  const issues = all.filter((i) => i.code === 'invalid_type' || !wrongType.has(JSON.stringify(i.path)));
  return issues.flatMap((i) => {
    const path = i.path.map((s) => (typeof s === 'number' ? s : String(s)));
    // One detail per unknown key, at its own path, so a client sees which field or parameter to drop.
    if (i.code === 'unrecognized_keys') return i.keys.map((key) => ({ path: detailPath('', [...path, key]), message: 'not a known field or parameter' }));
    return [{ path: detailPath('', path), message: i.message }];
  });
}

/**
 * A union that failed, as the reason of the one branch whose type the value had: `retry_schedule:
 * "8d"` on an endpoint (a schedule or null) failed the schedule's rule, which is what to say, not
 * zod's "Invalid input". A value no branch takes keeps the union's own message.
 */
function unwrapUnion(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union') return [issue];
  const typed = issue.errors.filter((branch) => !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0));
  if (typed.length !== 1) return [issue];
  return typed[0]!.flatMap((i) => unwrapUnion({ ...i, path: [...issue.path, ...i.path] }));
}

/**
 * JSON Schema issues as `details`, in zodDetails' form: `data.items.0` for the pointer `/items/0`
 * under `data`. A key that is not a plain name (a dot, a space, a slash…) is written in brackets,
 * `data["x.y"]`, so it cannot be read as a nested path.
 */
export function schemaIssueDetails(root: string, issues: { path: string; message: string }[]): { path: string; message: string }[] {
  const segments = (pointer: string) => (pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')));
  return issues.map((i) => ({ path: detailPath(root, segments(i.path)), message: i.message }));
}

/**
 * `root` followed by keys and indexes: `.name` for a plain name or an index, `["x.y"]` otherwise,
 * so a key holding a dot cannot be read as nesting. Request fields (zod) and event data (schema
 * issues, repeated keys) are written the same way; an empty root starts with the first key.
 */
export function detailPath(root: string, segments: readonly (string | number)[]): string {
  const step = (s: string | number) => (typeof s === 'number' || /^[A-Za-z0-9_$-]+$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`);
  const path = root + segments.map(step).join('');
  return root === '' && path.startsWith('.') ? path.slice(1) : path;
}

/** Errors that express's own middleware (body parser) raises carry a `type` and a `status`. */
interface HttpishError {
  status?: number;
  type?: string;
  code?: string;
  constraint?: string;
}

function toApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (err instanceof z.ZodError) return ApiError.validation('The request is not valid', zodDetails(err));
  const e = err as HttpishError;
  if (e?.type === 'entity.parse.failed') return new ApiError(400, ErrorType.invalidRequest, 'invalid_json', 'The body is not valid JSON');
  if (e?.type === 'entity.too.large') return new ApiError(413, ErrorType.invalidRequest, 'payload_too_large', 'The request body is too large');
  if (e?.type === 'charset.unsupported') return ApiError.unsupportedEncoding();
  // Content-Encoding, not the charset: the body parser inflates gzip, deflate and br only.
  if (e?.type === 'encoding.unsupported') return new ApiError(415, ErrorType.invalidRequest, 'unsupported_encoding', 'Content-Encoding must be identity, gzip, deflate or br');
  // PostgreSQL unique violation, from pg or PGlite alike.
  if (e?.code === '23505') {
    const what = e.constraint?.startsWith('event_types') ? 'An event type with that name' : 'A resource with that uid';
    return new ApiError(409, ErrorType.conflict, 'already_exists', `${what} already exists`);
  }
  // A value the database cannot hold: a NUL in text (22021) or in JSON (22P05), an unpaired
  // surrogate in JSON (22P02). Only these: other data exceptions would be the server's bugs.
  if (e?.code === '22021' || e?.code === '22P05' || e?.code === '22P02') {
    return new ApiError(400, ErrorType.invalidRequest, 'invalid_value', 'A value in the request cannot be stored or looked up (text must not contain NUL characters or unpaired surrogates)');
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return new ApiError(e.status, ErrorType.invalidRequest, 'bad_request', 'The request could not be read');
  }
  if (storeUnavailable(err)) return new ApiError(503, ErrorType.unavailable, 'store_unavailable', 'The store is not answering; try again');
  if (err instanceof SchemaCheckerUnavailable) return new ApiError(503, ErrorType.unavailable, 'schema_checker_unavailable', 'Data cannot be checked against event-type schemas right now; try again');
  return undefined;
}

export function sendError(res: Parameters<RequestHandler>[1], err: ApiError): void {
  const body = { error: { type: err.type, code: err.code, message: err.message, ...(err.details !== undefined && { details: err.details }) } };
  res.status(err.status).json(body);
}

/** While the store is down every request fails alike: one warning per this interval says so. */
const STORE_WARNING_INTERVAL_MS = 10_000;

export function errorHandler(logger: Logger): ErrorRequestHandler {
  let quietUntil = 0;
  let unlogged = 0;
  return (err: unknown, req, res, _next) => {
    const known = toApiError(err);
    if (known?.code === 'store_unavailable') {
      if (Date.now() >= quietUntil) {
        logger.warn({ err, method: req.method, path: req.path }, 'the store did not answer; answered 503 (any more in the next 10 s are counted, not logged)');
        quietUntil = Date.now() + STORE_WARNING_INTERVAL_MS;
        unlogged = 0;
        // The count goes out when its window ends, so it is never read as the next outage's.
        setTimeout(() => {
          if (unlogged > 0) logger.warn({ unlogged }, `the store did not answer ${unlogged} more requests in the 10 s after that warning; answered 503`);
          unlogged = 0;
        }, STORE_WARNING_INTERVAL_MS).unref();
      } else unlogged++;
    }
    const retryAfterS = known?.retryAfterS ?? (known?.status === 503 ? 1 : undefined);
    if (retryAfterS !== undefined && !res.headersSent && res.get('retry-after') === undefined) res.set('retry-after', String(retryAfterS));
    if (known) return sendError(res, known);
    logger.error({ err, method: req.method, path: req.route ? String((req.route as { path: unknown }).path) : req.path }, 'unhandled API error');
    sendError(res, new ApiError(500, ErrorType.api, 'internal', 'An internal error occurred'));
  };
}

/**
 * OPTIONS on any known path, before authentication: 204 with `Allow`, the same list a 405 gives.
 * Express answered it only inside its sub-routers (200, text), so `/healthz` did and `/metrics`
 * did not. Route existence is no secret (`/openapi.json` lists it); unknown paths stay 404.
 */
export function answerOptions(methodsAt: (path: string) => string[]): RequestHandler {
  return (req, res, next) => {
    if (req.method !== 'OPTIONS') return next();
    withAllowed(req, res, methodsAt, () => res.status(204).end());
  };
}

/** A path no route has is a 404; a path asked with a method its routes lack is a 405 that lists theirs in `Allow`. */
export function routeNotFound(methodsAt: (path: string) => string[]): RequestHandler {
  return (req, res) =>
    withAllowed(req, res, methodsAt, (allowed) =>
      sendError(res, new ApiError(405, ErrorType.invalidRequest, 'method_not_allowed', `${req.path} does not take ${req.method}; it takes ${allowed.join(', ')}`)),
    );
}

/** Answers 404 for a path no route has; otherwise sets `Allow` to the methods it takes and hands them on. */
function withAllowed(req: Request, res: Response, methodsAt: (path: string) => string[], then: (allowed: string[]) => void): void {
  const allowed = methodsAt(req.path);
  if (allowed.length === 0) return sendError(res, new ApiError(404, ErrorType.notFound, 'route_not_found', `No route ${req.method} ${req.path}`));
  res.setHeader('allow', allowed.join(', '));
  then(allowed);
}
