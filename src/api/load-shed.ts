/**
 * Load shedding: past `maxInFlight` concurrent `/v1` requests, or while `late()` says the event
 * loop is behind (see loop-delay.ts), the API answers 503 with Retry-After at once, instead of
 * queueing work without bound in memory, in the database pool and in socket buffers.
 *
 * It wraps the raw `http` request listener, ahead of Express: past capacity most requests are
 * shed, and a shed request that walked Express's router and `res.json` cost several times what
 * this costs, CPU that the admitted requests need (P6 in docs/performance.md). Health probes and
 * the docs are never counted or shed.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { ErrorType } from './errors';

export const ShedReason = { inFlight: 'in_flight', eventLoopDelay: 'event_loop_delay' } as const;
export type ShedReason = (typeof ShedReason)[keyof typeof ShedReason];

export interface ShedOptions {
  maxInFlight: number;
  /** While true, every limited request is shed; unset: only the in-flight limit applies. */
  late?: () => boolean;
  retryAfterS?: number;
  onShed?: (reason: ShedReason) => void;
}

const OVERLOADED_BODY = JSON.stringify({
  error: { type: ErrorType.unavailable, code: 'overloaded', message: 'Hookline is at capacity; retry after the Retry-After delay' },
});

/** True for the paths that count against the limit: the API proper, not probes or docs. */
function isLimited(url: string | undefined): boolean {
  if (url === undefined) return false;
  // Express routes case-insensitively and accepts absolute-form targets: count what it would route.
  const path = (url.startsWith('/') ? url : new URL(url, 'http://h').pathname).toLowerCase();
  return path === '/v1' || path.startsWith('/v1/') || path.startsWith('/v1?');
}

export function limitInFlight(handler: RequestListener, options: ShedOptions): RequestListener {
  const retryAfter = String(options.retryAfterS ?? 1);
  let inFlight = 0;
  return (req: IncomingMessage, res: ServerResponse) => {
    if (!isLimited(req.url)) return handler(req, res);
    const reason = inFlight >= options.maxInFlight ? ShedReason.inFlight : options.late?.() ? ShedReason.eventLoopDelay : undefined;
    if (reason) {
      options.onShed?.(reason);
      // The unread body is discarded by Node once the response ends; the connection stays usable.
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(OVERLOADED_BODY), 'retry-after': retryAfter });
      res.end(OVERLOADED_BODY);
      return;
    }
    inFlight++;
    let done = false;
    const release = () => {
      if (!done) {
        done = true;
        inFlight--;
      }
    };
    res.once('finish', release);
    res.once('close', release);
    handler(req, res);
  };
}
