/**
 * Encryption at rest for endpoint secrets and custom header values: AES-256-GCM with a
 * fresh IV per value. The key id is stored beside each ciphertext so keys can be rotated:
 * `v1.<keyId>.<iv>.<tag>.<ciphertext>`, each part base64url.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export interface SecretBox {
  seal(plaintext: string): string;
  open(sealed: string): string;
  /** Whether `sealed` names a key this box holds (it may still fail to open if tampered with). */
  hasKeyFor(sealed: string): boolean;
}

/** The id of the key a sealed value names (`v1.<keyId>.…`); undefined for anything else. */
export function sealedKeyId(sealed: string): string | undefined {
  const [version, id] = sealed.split('.');
  return version === 'v1' ? id : undefined;
}

/** `key` is 32 bytes; its id is derived from it, so the same key always has the same id. */
export function createSecretBox(key: Buffer, oldKeys: Buffer[] = []): SecretBox {
  if (key.length !== 32) throw new Error('encryption key must be 32 bytes');
  const keyId = (k: Buffer) => createHash('sha256').update(k).digest('base64url').slice(0, 8);
  const keys = new Map([key, ...oldKeys].map((k) => [keyId(k), k] as const));
  const currentId = keyId(key);
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', currentId, iv, cipher.getAuthTag(), ciphertext]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    hasKeyFor(sealed) {
      const id = sealedKeyId(sealed);
      return id !== undefined && keys.has(id);
    },
    open(sealed) {
      const [version, id, iv, tag, ciphertext] = sealed.split('.');
      const k = id === undefined ? undefined : keys.get(id);
      if (version !== 'v1' || !k || !iv || !tag || ciphertext === undefined) {
        throw new Error('sealed value has an unknown format or key id');
      }
      const decipher = createDecipheriv('aes-256-gcm', k, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}

/** Parses an encryption key (`name` says which setting held it): 32 bytes as base64 or 64 hex characters. */
export function parseEncryptionKey(value: string, name = 'HOOKLINE_ENCRYPTION_KEY'): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  if (key.length !== 32) throw new Error(`${name} must be 32 bytes, base64 or hex`);
  return key;
}
