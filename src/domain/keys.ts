/** API keys: high-entropy bearer tokens, stored only as a hash. */
import { createHash, randomBytes } from 'node:crypto';

export const APP_KEY_PREFIX = 'hk_';
/** Characters of a key kept in clear to tell keys apart in lists. */
export const DISPLAY_PREFIX_LENGTH = 10;

export function generateAppKey(): string {
  return APP_KEY_PREFIX + randomBytes(32).toString('base64url');
}

const APP_KEY_SHAPE = /^hk_[A-Za-z0-9_-]{43}$/;

/**
 * Whether `key` could be an application key (`generateAppKey`'s shape). A bearer token of any
 * other shape is refused without a store lookup, so garbage keys cost the store nothing.
 */
export function isAppKeyShape(key: string): boolean {
  return APP_KEY_SHAPE.test(key);
}

/** SHA-256 is enough here: a 256-bit random key cannot be guessed, so no slow hash is needed. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function displayPrefix(key: string): string {
  return key.slice(0, DISPLAY_PREFIX_LENGTH);
}
