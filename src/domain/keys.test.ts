import { describe, expect, it } from 'vitest';
import { displayPrefix, generateAppKey, hashKey, isAppKeyShape } from './keys';

describe('application keys', () => {
  it('generates keys of the shape it accepts, each different', () => {
    const keys = Array.from({ length: 50 }, generateAppKey);
    expect(new Set(keys).size).toBe(50);
    for (const key of keys) expect(isAppKeyShape(key), key).toBe(true);
  });

  it.each([
    ['hk_' + 'a'.repeat(43), true],
    ['hk_' + 'A-_z09'.repeat(7) + 'x', true],
    ['hk_' + 'a'.repeat(42), false],
    ['hk_' + 'a'.repeat(44), false],
    ['HK_' + 'a'.repeat(43), false],
    ['sk_' + 'a'.repeat(43), false],
    ['hk_' + 'a'.repeat(42) + '=', false],
    ['hk_' + 'a'.repeat(42) + '+', false],
    ['', false],
  ])('%j has the shape of a key: %s', (key, ok) => {
    expect(isAppKeyShape(key)).toBe(ok);
  });

  it('stores a hash and shows a prefix', () => {
    const key = generateAppKey();
    expect(hashKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashKey(key)).toBe(hashKey(key));
    expect(displayPrefix(key)).toBe(key.slice(0, 10));
  });
});
