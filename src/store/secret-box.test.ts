import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox, parseEncryptionKey } from './secret-box';

describe('secret box', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);

  it('seals with a fresh IV each time and opens what it sealed', () => {
    const box = createSecretBox(newKey);
    const a = box.seal('whsec_secret');
    expect(a).not.toBe(box.seal('whsec_secret'));
    expect(a).not.toContain('whsec_secret');
    expect(box.open(a)).toBe('whsec_secret');
  });

  it('rotates keys: values sealed under the previous key still open, new ones use the new key', () => {
    const sealedOld = createSecretBox(oldKey).seal('old value');
    const rotated = createSecretBox(newKey, [oldKey]);
    expect(rotated.open(sealedOld)).toBe('old value');
    expect(() => createSecretBox(oldKey).open(rotated.seal('new value'))).toThrow(/key id/);
  });

  it('says whether it holds the key a sealed value names', () => {
    const sealedOld = createSecretBox(oldKey).seal('old value');
    expect(createSecretBox(newKey, [oldKey]).hasKeyFor(sealedOld)).toBe(true);
    expect(createSecretBox(newKey).hasKeyFor(sealedOld)).toBe(false);
    expect(createSecretBox(newKey).hasKeyFor('not sealed')).toBe(false);
  });

  it('refuses a tampered ciphertext and an unknown key', () => {
    const box = createSecretBox(newKey);
    const parts = box.seal('value').split('.');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => box.open(parts.join('.'))).toThrow();
    expect(() => createSecretBox(randomBytes(32)).open(box.seal('value'))).toThrow(/key id/);
  });

  it.each([
    [randomBytes(32).toString('base64'), true],
    [randomBytes(32).toString('hex'), true],
    [randomBytes(16).toString('base64'), false],
    ['not a key', false],
  ])('parses %s as a key: %s', (text, ok) => {
    if (ok) expect(parseEncryptionKey(text)).toHaveLength(32);
    else expect(() => parseEncryptionKey(text)).toThrow();
  });
});
