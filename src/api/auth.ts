/** Bearer-key authentication. Keys are compared as SHA-256 digests in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ApiError, ErrorType, sendError } from './errors';

const digest = (value: string) => createHash('sha256').update(value).digest();

export function requireAdminKey(adminKey: string): RequestHandler {
  const expected = digest(adminKey);
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      return sendError(res, new ApiError(401, ErrorType.authentication, 'missing_api_key', 'Send "Authorization: Bearer <key>"'));
    }
    if (!timingSafeEqual(digest(match[1]!), expected)) {
      return sendError(res, new ApiError(401, ErrorType.authentication, 'invalid_api_key', 'The API key is not valid'));
    }
    next();
  };
}
