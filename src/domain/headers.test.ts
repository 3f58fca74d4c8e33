import { describe, expect, it } from 'vitest';
import {
  customHeadersProblem,
  headerNameProblem,
  headerValueProblem,
  isHttpToken,
  MAX_CUSTOM_HEADERS,
  RESERVED_HEADER_NAMES,
  signatureHeaderProblem,
} from './headers';

describe('isHttpToken (RFC 9110 tchar)', () => {
  it.each(['Authorization', 'X-Api-Key', "!#$%&'*+-.^_`|~", 'a', '0'])('%j is a token', (name) => {
    expect(isHttpToken(name)).toBe(true);
  });
  it.each(['', 'X Api', 'X:Api', 'X(Api)', 'X"Api', 'X/Api', 'X@Api', 'X,Api', 'X;Api', 'X=Api', 'X[Api]', 'X{Api}', 'X\\Api', 'X?Api', 'Ünicode', 'X\tApi', 'X\r\nApi', 'X\0'])(
    '%j is not a token',
    (name) => {
      expect(isHttpToken(name)).toBe(false);
    },
  );
});

describe('headerNameProblem', () => {
  it.each(['Authorization', 'X-Tenant', 'x-request-source', 'Acme-Trace-Id', 'a'.repeat(256)])('accepts %j', (name) => {
    expect(headerNameProblem(name, 'Acme-Signature')).toBeUndefined();
  });

  it.each([
    // reserved names, any case
    ['host', /"host" is reserved/],
    ['Host', /"Host" is reserved/],
    ['Content-Length', /reserved/],
    ['content-type', /reserved/],
    ['CONTENT-TYPE', /reserved/],
    ['Content-Encoding', /reserved/],
    ['Transfer-Encoding', /reserved/],
    ['Connection', /reserved/],
    ['Keep-Alive', /reserved/],
    ['Upgrade', /reserved/],
    ['TE', /reserved/],
    ['Trailer', /reserved/],
    ['Expect', /reserved/],
    ['Proxy-Connection', /reserved/],
    ['User-Agent', /reserved/],
    // the webhook-* prefix
    ['webhook-id', /webhook-\* headers/],
    ['Webhook-Signature', /webhook-\* headers/],
    ['WEBHOOK-TIMESTAMP', /webhook-\* headers/],
    ['webhook-anything-new', /webhook-\* headers/],
    // the endpoint's own signature header, case-insensitive
    ['Acme-Signature', /"Acme-Signature" is reserved: it is this endpoint's signature header/],
    ['acme-signature', /signature header/],
    // not tokens
    ['', /empty/],
    ['X Api', /"X Api" is not a valid HTTP header name/],
    ['X-Evil\r\nHost', /"X-Evil\\r\\nHost" is not a valid HTTP header name/],
    ['X-Evil\nA', /not a valid HTTP header name/],
    ['X-Evil\0', /"X-Evil\\u0000" is not a valid/],
    ['X:Colon', /not a valid/],
    ['Ünicode', /not a valid/],
    ['a'.repeat(257), /longer than 256 characters/],
  ])('refuses %j', (name, message) => {
    expect(headerNameProblem(name, 'Acme-Signature')).toMatch(message);
  });

  it('every reserved name is refused in lower and upper case', () => {
    for (const name of RESERVED_HEADER_NAMES) {
      expect(headerNameProblem(name)).toMatch(/reserved/);
      expect(headerNameProblem(name.toUpperCase())).toMatch(/reserved/);
    }
    expect(RESERVED_HEADER_NAMES).toEqual(
      expect.arrayContaining(['host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'user-agent']),
    );
  });

  it('without a signature header (standard scheme) any unreserved token is fine', () => {
    expect(headerNameProblem('Acme-Signature')).toBeUndefined();
    expect(headerNameProblem('Acme-Signature', null)).toBeUndefined();
  });

  it('cuts very long names in its message', () => {
    expect(headerNameProblem('a'.repeat(1000))!.length).toBeLessThan(200);
  });
});

describe('headerValueProblem', () => {
  it.each(['Bearer abc.def', '', 'tab\tand space', '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~', 'caf\u00e9', 'v'.repeat(4096)])(
    'accepts %j',
    (value) => {
      expect(headerValueProblem(value)).toBeUndefined();
    },
  );

  it.each([
    ['a\rb', /carriage return \(CR\)/],
    ['a\nb', /line feed \(LF\)/],
    ['a\r\nX-Injected: 1', /carriage return/],
    ['a\0b', /NUL/],
    ['v'.repeat(4097), /longer than 4096 characters/],
    ['bell\u0007', /control or non-Latin-1/],
    ['del\u007f', /control or non-Latin-1/],
    ['emoji \u2615', /control or non-Latin-1/],
  ])('refuses %j', (value, message) => {
    expect(headerValueProblem(value)).toMatch(message);
  });

  it('names the header but never echoes the value', () => {
    const secret = 'Bearer sk_live_very_secret\r\nX-Evil: 1';
    const problem = headerValueProblem(secret, 'Authorization');
    expect(problem).toBe('value of header "Authorization" contains a carriage return (CR)');
    expect(problem).not.toContain('sk_live');
  });
});

describe('signatureHeaderProblem', () => {
  it.each(['Acme-Signature', 'X-Webhook-Signature', 'Zippex-Signature', 'Stripe-Signature'])('accepts %j', (name) => {
    expect(signatureHeaderProblem(name)).toBeUndefined();
  });

  it.each([
    ['', /signature_header name is empty/],
    ['Webhook-Signature', /signature_header "Webhook-Signature" is reserved: webhook-\*/],
    ['webhook-id', /reserved/],
    ['Content-Type', /reserved/],
    ['Host', /reserved/],
    ['User-Agent', /reserved/],
    ['X Sig', /not a valid HTTP header name/],
    ['X-Sig\r\n', /not a valid HTTP header name/],
    ['X-Sig\0', /not a valid HTTP header name/],
    ['s'.repeat(257), /longer than 256/],
  ])('refuses %j', (name, message) => {
    expect(signatureHeaderProblem(name)).toMatch(message);
  });
});

describe('customHeadersProblem', () => {
  it('accepts a valid set', () => {
    expect(customHeadersProblem({ Authorization: 'Bearer x', 'X-Tenant': 't_1' }, 'Acme-Signature')).toBeUndefined();
  });

  it.each([
    [{ Host: 'evil.example' }, /"Host" is reserved/],
    [{ 'X-Ok': 'fine', 'X-Bad': 'a\nb' }, /value of header "X-Bad" contains a line feed/],
    [{ 'acme-signature': 'forged' }, /signature header/],
    [{ 'X-Tenant': 'a', 'x-tenant': 'b' }, /"x-tenant" is given more than once/],
    [Object.fromEntries(Array.from({ length: MAX_CUSTOM_HEADERS + 1 }, (_, i) => [`X-H${i}`, 'v'])), /at most 32/],
  ])('refuses %j', (headers, message) => {
    expect(customHeadersProblem(headers, 'Acme-Signature')).toMatch(message);
  });
});
