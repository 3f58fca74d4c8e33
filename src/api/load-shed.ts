/**
 * Load shedding: past `maxInFlight` concurrent requests the API answers 503 with Retry-After at
 * once, instead of queueing work without bound in memory and in the database pool.
 */
import type { RequestHandler } from 'express';
import { ApiError, ErrorType, sendError } from './errors';

export function limitInFlight(maxInFlight: number, retryAfterS = 1): RequestHandler {
  let inFlight = 0;
  return (_req, res, next) => {
    if (inFlight >= maxInFlight) {
      res.set('retry-after', String(retryAfterS));
      return sendError(res, new ApiError(503, ErrorType.unavailable, 'overloaded', 'Hookline is at capacity; retry after the Retry-After delay'));
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
    next();
  };
}
