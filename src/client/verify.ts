/**
 * Verifying a Hookline delivery on the consumer's side (PRODUCT.md §4). Self-contained on purpose
 * (node:crypto only, nothing from the service) so it can ship in a client package.
 *
 * Style: like Svix's and Stripe's libraries, `verifyWebhook` THROWS. It returns nothing when the
 * delivery is authentic and throws `WebhookVerificationError` with the reason otherwise, so a
 * forgotten check fails closed. Wrong options (unknown scheme, no secret) are programming errors
 * and throw `TypeError` instead, so a handler that maps
 * `WebhookVerificationError` to 400 does not hide its own misconfiguration.
 *
 * Always pass the RAW request body: re-serialised JSON does not have the same bytes.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const WebhookSchemes = { standard: 'standard', stripe: 'stripe', hex: 'hex' } as const;
export type WebhookScheme = (typeof WebhookSchemes)[keyof typeof WebhookSchemes];

export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
}

/** Node's `req.headers`, a plain object, or a WHATWG `Headers` (fetch, undici, Next.js). */
export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>> | { get(name: string): string | null };

export interface VerifyWebhookOptions {
  scheme: WebhookScheme;
  /** The endpoint secret. During a rotation you may pass both; any one that matches is enough. */
  secret: string | readonly string[];
  headers: WebhookHeaders;
  body: string | Uint8Array;
  /** Replay window for `standard` and `stripe`, both ways (clock skew). `hex` has no timestamp. */
  toleranceS?: number;
  /**
   * The header carrying the signature for `stripe` and `hex`, e.g. `Acme-Signature`: the endpoint's
   * `signature_header`. Unset means Hookline's default for the scheme (`DEFAULT_SIGNATURE_HEADERS`).
   */
  signatureHeader?: string;
  now?: Date;
}

const WHSEC_PREFIX = 'whsec_';

/** The header Hookline signs in when an endpoint names none (the API's defaults; a test keeps them equal). */
export const DEFAULT_SIGNATURE_HEADERS = { stripe: 'Hookline-Signature', hex: 'X-Hookline-Signature' } as const;

/** Throws `WebhookVerificationError` unless the delivery is signed by `secret` and, where timestamped, fresh. */
export function verifyWebhook(options: VerifyWebhookOptions): void {
  const { scheme, headers, body, toleranceS = 300, now = new Date() } = options;
  const secrets = typeof options.secret === 'string' ? [options.secret] : [...options.secret];
  if (secrets.length === 0 || secrets.some((s) => s.length === 0)) throw new TypeError('verifyWebhook: secret is empty');
  if (!Number.isFinite(toleranceS) || toleranceS < 0) throw new TypeError('verifyWebhook: toleranceS must be a number ≥ 0');
  const bodyBytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const nowS = Math.floor(now.getTime() / 1000);

  switch (scheme) {
    case WebhookSchemes.standard:
      // Keys first, so a malformed secret is reported as the TypeError it is, whatever the request.
      return verifyStandard(secrets.map(standardKey), headers, bodyBytes, toleranceS, nowS);
    case WebhookSchemes.stripe:
      return verifyStripe(secrets, options.signatureHeader || DEFAULT_SIGNATURE_HEADERS.stripe, headers, bodyBytes, toleranceS, nowS);
    case WebhookSchemes.hex:
      return verifyHex(secrets, options.signatureHeader || DEFAULT_SIGNATURE_HEADERS.hex, headers, bodyBytes);
    default:
      throw new TypeError(`verifyWebhook: unknown scheme ${JSON.stringify(scheme)}`);
  }
}

function verifyStandard(keys: Buffer[], headers: WebhookHeaders, body: Buffer, toleranceS: number, nowS: number): void {
  const id = requiredHeader(headers, 'webhook-id');
  const timestamp = requiredHeader(headers, 'webhook-timestamp');
  const signature = requiredHeader(headers, 'webhook-signature');
  checkTimestamp(timestamp, toleranceS, nowS);
  // Entries are `v1,<base64>`, space-separated; other versions are skipped, as the spec asks.
  const candidates = signature
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => entry.slice(3));
  if (candidates.length === 0) throw new WebhookVerificationError('webhook-signature has no v1 signature');
  const expected = keys.map((key) => hmac(key, `${id}.${timestamp}.`, body).toString('base64'));
  if (!anyMatch(candidates, expected)) throw new WebhookVerificationError('no signature matches the secret');
}

/** Like the official library: the `whsec_` prefix is optional and the rest is base64. */
function standardKey(secret: string): Buffer {
  const b64 = secret.startsWith(WHSEC_PREFIX) ? secret.slice(WHSEC_PREFIX.length) : secret;
  const key = Buffer.from(b64, 'base64');
  if (key.length === 0) throw new TypeError('verifyWebhook: a standard secret must be whsec_ followed by base64');
  return key;
}

function verifyStripe(
  secrets: string[],
  signatureHeader: string,
  headers: WebhookHeaders,
  body: Buffer,
  toleranceS: number,
  nowS: number,
): void {
  const value = requiredHeader(headers, signatureHeader);
  let timestamp: string | undefined;
  const candidates: string[] = [];
  for (const item of value.split(',')) {
    const eq = item.indexOf('=');
    if (eq < 0) continue;
    const key = item.slice(0, eq).trim();
    const v = item.slice(eq + 1).trim();
    if (key === 't') {
      // Two timestamps would make "which one was signed" ambiguous: refuse rather than guess.
      if (timestamp !== undefined) throw new WebhookVerificationError(`${signatureHeader} has more than one t=`);
      timestamp = v;
    } else if (key === 'v1') {
      candidates.push(v.toLowerCase());
    }
  }
  if (timestamp === undefined) throw new WebhookVerificationError(`${signatureHeader} has no t= timestamp`);
  if (candidates.length === 0) throw new WebhookVerificationError(`${signatureHeader} has no v1= signature`);
  checkTimestamp(timestamp, toleranceS, nowS);
  const expected = secrets.map((secret) => hmac(Buffer.from(secret, 'utf8'), `${timestamp}.`, body).toString('hex'));
  if (!anyMatch(candidates, expected)) throw new WebhookVerificationError('no signature matches the secret');
}

/** No timestamp in this scheme, so no replay window: deduplicate on `webhook-id` instead. */
function verifyHex(secrets: string[], signatureHeader: string, headers: WebhookHeaders, body: Buffer): void {
  const candidate = requiredHeader(headers, signatureHeader).trim().toLowerCase();
  const expected = secrets.map((secret) => hmac(Buffer.from(secret, 'utf8'), '', body).toString('hex'));
  if (!anyMatch([candidate], expected)) throw new WebhookVerificationError('the signature does not match the secret');
}

function hmac(key: Buffer, prefix: string, body: Buffer): Buffer {
  return createHmac('sha256', key).update(prefix, 'utf8').update(body).digest();
}

/** Constant-time per comparison; lengths are public (fixed by the algorithm), so a length mismatch may return early. */
function anyMatch(candidates: readonly string[], expected: readonly string[]): boolean {
  let matched = false;
  for (const e of expected) {
    const eb = Buffer.from(e, 'utf8');
    for (const c of candidates) {
      const cb = Buffer.from(c, 'utf8');
      // No early exit on a match either: the time taken does not say which entry matched.
      if (cb.length === eb.length && timingSafeEqual(cb, eb)) matched = true;
    }
  }
  return matched;
}

function checkTimestamp(raw: string, toleranceS: number, nowS: number): void {
  if (!/^\d{1,15}$/.test(raw)) throw new WebhookVerificationError('the timestamp is not Unix seconds');
  const ts = Number(raw);
  if (ts < nowS - toleranceS) throw new WebhookVerificationError('the timestamp is too old (possible replay)');
  if (ts > nowS + toleranceS) throw new WebhookVerificationError('the timestamp is too far in the future');
}

function requiredHeader(headers: WebhookHeaders, name: string): string {
  const value = getHeader(headers, name);
  if (value === undefined || value === '') throw new WebhookVerificationError(`missing header ${name}`);
  return value;
}

function isHeadersObject(headers: WebhookHeaders): headers is { get(name: string): string | null } {
  return typeof headers.get === 'function';
}

/** Case-insensitive, whatever the container. A header given twice is refused rather than guessed at. */
function getHeader(headers: WebhookHeaders, name: string): string | undefined {
  if (isHeadersObject(headers)) return headers.get(name) ?? undefined;
  const lower = name.toLowerCase();
  const found: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== lower || value === undefined) continue;
    if (typeof value === 'string') found.push(value);
    else found.push(...value);
  }
  if (found.length > 1) throw new WebhookVerificationError(`header ${name} appears more than once`);
  return found[0];
}
