import { createHmac, randomBytes } from 'node:crypto';
import { signatureHeaderProblem } from './headers';

/**
 * Delivery signatures (PRODUCT.md §4). Three schemes:
 * - `standard`: Standard Webhooks v1. The key is the base64 after `whsec_`; the signed content is
 *   `{id}.{timestamp}.{body}`; every live secret adds one `v1,<base64>` entry.
 * - `stripe`: `<Header>: t=<unix>,v1=<hex>[,v1=<hex>…]`, key = the whole secret string as UTF-8,
 *   signed content `{t}.{body}`.
 * - `hex`: `<Header>: <hex HMAC(secret, body)>`, key = the whole secret string as UTF-8.
 * Nothing here puts a secret into an error message: messages may end up in logs (§4, last point).
 */
export const SECRET_PREFIX = 'whsec_';

export const SignatureSchemes = { standard: 'standard', stripe: 'stripe', hex: 'hex' } as const;
export type SignatureScheme = (typeof SignatureSchemes)[keyof typeof SignatureSchemes];

const SCHEME_VALUES: readonly string[] = Object.values(SignatureSchemes);

export function isSignatureScheme(value: unknown): value is SignatureScheme {
  return typeof value === 'string' && SCHEME_VALUES.includes(value);
}

export function generateSecret(bytes = 32): string {
  return SECRET_PREFIX + randomBytes(bytes).toString('base64');
}

/** True when `secret` is `whsec_` + base64 of 24–64 bytes, the form the `standard` scheme needs. */
export function isStandardSecret(secret: string): boolean {
  if (!secret.startsWith(SECRET_PREFIX)) return false;
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return false;
  const length = Buffer.from(b64, 'base64').length;
  return length >= 24 && length <= 64;
}

/**
 * `stripe` and `hex` use the secret verbatim, as its UTF-8 bytes, as the HMAC key (PRODUCT.md §4),
 * so a producer may supply one its customers already hold: 16–128 printable characters of any
 * script (letters, marks, digits, punctuation, symbols) and the ASCII space, of which at least 16
 * are visible: not a space, not a combining mark. Control characters, other spaces, invisible
 * (default-ignorable) and blank-looking characters are refused, and so is a space at either end,
 * which configuration tools commonly trim: a secret nobody can read back or type is one a
 * customer cannot verify with.
 */
const SUPPLIED_SECRET = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]{16,128}$/u;
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\u2800]/u;
const VISIBLE = /[\p{L}\p{N}\p{P}\p{S}]/gu;

function isPrintableSecret(secret: string): boolean {
  return (
    SUPPLIED_SECRET.test(secret) &&
    !INVISIBLE.test(secret) &&
    !secret.startsWith(' ') &&
    !secret.endsWith(' ') &&
    (secret.match(VISIBLE)?.length ?? 0) >= 16
  );
}

/** Whether a producer-supplied secret (create or rotate) is acceptable for `scheme`. */
export function isValidSuppliedSecret(scheme: SignatureScheme, secret: string): boolean {
  switch (scheme) {
    case SignatureSchemes.standard:
      return isStandardSecret(secret);
    case SignatureSchemes.stripe:
    case SignatureSchemes.hex:
      return isPrintableSecret(secret);
    default:
      // Reachable from untyped input (JSON, database rows): an unknown scheme accepts nothing.
      return false;
  }
}

export interface SignInput {
  msgId: string;
  timestampS: number;
  body: string;
  /** Live secrets, oldest first. */
  secrets: readonly string[];
}

export function standardSignature({ msgId, timestampS, body, secrets }: SignInput): string {
  return secrets
    .map((secret) => {
      const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
      const mac = createHmac('sha256', key).update(`${msgId}.${timestampS}.${body}`).digest('base64');
      return `v1,${mac}`;
    })
    .join(' ');
}

/** The headers that sign one attempt; only `webhook-timestamp` and the signature change between attempts. */
export function standardHeaders(input: SignInput): Record<string, string> {
  return {
    'webhook-id': input.msgId,
    'webhook-timestamp': String(input.timestampS),
    'webhook-signature': standardSignature(input),
  };
}

/** `t=<unix>,v1=<hex>…`: one `v1=` per secret in the order given, so the newest (last) wins in map-style parsers. */
export function stripeSignature({ timestampS, body, secrets }: Omit<SignInput, 'msgId'>): string {
  const t = String(timestampS);
  const v1 = secrets.map((secret) => `v1=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${t}.${body}`).digest('hex')}`);
  return [`t=${t}`, ...v1].join(',');
}

/** Hex HMAC-SHA256 of the body alone: no timestamp, so no replay protection beyond deduplication on `webhook-id`. */
export function hexSignature(secret: string, body: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex');
}

export interface SignatureHeadersInput extends SignInput {
  scheme: SignatureScheme;
  /** The endpoint's `signature_header`; required for `stripe` and `hex`, ignored for `standard`. */
  signatureHeader?: string | null;
}

/**
 * The signing headers for one attempt. `secrets` are the live ones, oldest first (see
 * `liveSecrets`); `hex` takes exactly one. Throws on a programming or data error (no secret,
 * missing or invalid header name, unknown scheme): sending unsigned is never the right fallback.
 */
export function signatureHeaders(input: SignatureHeadersInput): Record<string, string> {
  const { scheme, secrets } = input;
  if (secrets.length === 0) throw new Error('no live secret to sign with');
  if (scheme === SignatureSchemes.standard) return standardHeaders(input);
  if (scheme !== SignatureSchemes.stripe && scheme !== SignatureSchemes.hex) {
    throw new Error(`unknown signature scheme ${JSON.stringify(scheme)}`);
  }

  const header = input.signatureHeader;
  if (!header) throw new Error(`the ${scheme} scheme needs a signature_header`);
  const problem = signatureHeaderProblem(header);
  if (problem) throw new Error(problem);

  // `webhook-id` (the event id) goes out with every scheme: it is how consumers deduplicate
  // retries (§3), and `hex` has no timestamp at all, so it is their only replay defence.
  if (scheme === SignatureSchemes.stripe) {
    return { 'webhook-id': input.msgId, [header]: stripeSignature(input) };
  }
  // `hex` has room for one signature; choosing which secret is `liveSecrets`' job, not ours.
  const [secret] = secrets;
  if (secret === undefined || secrets.length !== 1) {
    throw new Error(`the hex scheme signs with exactly one secret, got ${secrets.length}`);
  }
  return { 'webhook-id': input.msgId, [header]: hexSignature(secret, input.body) };
}

export interface StoredSecret {
  secret: string;
  /** When the grace period of a rotated-out secret ends; null for the current secret. */
  expiresAt: Date | null;
  createdAt: Date;
}

/**
 * The rotation rule (§4). A secret is live until its `expiresAt` (exclusive: `grace_period_s: 0`
 * sets `expiresAt = now`, which must switch at once). `standard` and `stripe` sign with every
 * live secret, oldest first. `hex` has room for one signature, so it signs with the OLDEST live
 * secret only: the old one keeps signing until its grace period ends, then the new one takes
 * over, at a moment the producer can announce to its customers.
 */
export function liveSecrets(secrets: readonly StoredSecret[], scheme: SignatureScheme, now: Date): string[] {
  const at = now.getTime();
  const live = secrets
    .filter((s) => s.expiresAt === null || s.expiresAt.getTime() > at)
    // Array.prototype.sort is stable, so equal creation times keep the caller's order.
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
    .map((s) => s.secret);
  return scheme === SignatureSchemes.hex ? live.slice(0, 1) : live;
}
