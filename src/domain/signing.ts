import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks v1 signing (PRODUCT.md §4). The key is the base64 after `whsec_`; the
 * signed content is `{id}.{timestamp}.{body}`; every live secret adds one `v1,<base64>` entry.
 */
export const SECRET_PREFIX = 'whsec_';

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
