import { describe, expect, it } from 'vitest';
import { checkEndpointUrl } from './url-rules';

describe('endpoint URL rules', () => {
  it.each([
    ['https://example.com/hook', false, true],
    ['http://example.com/hook', false, false],
    ['http://example.com/hook', true, true],
    ['ftp://example.com/', true, false],
    ['not a url', true, false],
    ['https://user:pass@example.com/', false, false],
    ['https://example.com/#frag', false, false],
    ['https://localhost/hook', false, false],
    ['https://api.localhost/hook', false, false],
    ['http://127.0.0.1:9000/hook', true, true],
    [`https://example.com/${'a'.repeat(2048)}`, false, false],
  ])('%s (insecure allowed: %s) → %s', (url, allowInsecure, ok) => {
    expect(checkEndpointUrl(url, { allowInsecure }).ok).toBe(ok);
  });
});
