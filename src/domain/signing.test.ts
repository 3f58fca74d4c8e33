import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  generateSecret,
  isStandardSecret,
  isValidSuppliedSecret,
  liveSecrets,
  type SignatureScheme,
  signatureHeaders,
  SignatureSchemes,
  standardHeaders,
  standardSignature,
} from './signing';

describe('standard (Standard Webhooks v1) signing', () => {
  it('matches the specification test vector', () => {
    expect(
      standardSignature({
        msgId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
        timestampS: 1614265330,
        body: '{"test": 2432232314}',
        secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
      }),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('is verified by the official standardwebhooks library', () => {
    const secret = generateSecret();
    const body = JSON.stringify({ id: 'evt_1', data: { amount: 1 } });
    const headers = standardHeaders({ msgId: 'evt_1', timestampS: Math.floor(Date.now() / 1000), body, secrets: [secret] });
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('signs with every live secret, space-separated, and each verifies alone', () => {
    const [oldSecret, newSecret] = [generateSecret(), generateSecret()];
    const body = '{"a":1}';
    const headers = standardHeaders({ msgId: 'evt_2', timestampS: Math.floor(Date.now() / 1000), body, secrets: [oldSecret, newSecret] });
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(newSecret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow();
  });

  it.each([
    [generateSecret(24), true],
    [generateSecret(64), true],
    [generateSecret(23), false],
    [generateSecret(65), false],
    ['whsec_not base64!', false],
    ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', false],
    ['whsec_', false],
  ])('secret %s is a standard secret: %s', (secret, ok) => {
    expect(isStandardSecret(secret)).toBe(ok);
  });
});

// Fixed vectors. The literal hex values were computed outside this code base with
// `printf '%s' "$T.$BODY" | openssl dgst -sha256 -hmac "$SECRET"` (and without "$T." for hex).
const OLD = 'sk_test_old_0123456789abcdef';
const NEW = 'sk_test_new_fedcba9876543210';
const T = 1700000000;
const BODY = '{"id":"evt_2Zfixed","type":"invoice.paid","data":{"amount":4200,"note":"café ☕"}}';
const OPENSSL = {
  stripe: {
    [OLD]: 'cc2520f4f885ede6f3aa439861e495091aae1c24a16d7d3789a8fe9849be4e6f',
    [NEW]: '6a65bbc11532b0de7d7ff6d1d983916ac545e563ea69528abf266168856bf91d',
  },
  hex: {
    [OLD]: '01cdff7571091ceaded4d935091bb1aea197fff1d40546b9905a15676a86fba7',
    [NEW]: 'c232111e91e4e14c87eb2a7eb76d8a278717712ec3983b2ee72528ad1a399e91',
  },
} as const;

/** A consumer following Stripe's docs: split on `,`, collect `t` and every `v1`, HMAC `${t}.${rawBody}`. */
function stripeConsumerAccepts(header: string, secret: string, rawBody: string): boolean {
  const pairs = header.split(',').map((item) => item.split('=') as [string, string]);
  const t = pairs.find(([k]) => k === 't')?.[1];
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${rawBody}`).digest('hex'));
  return pairs
    .filter(([k]) => k === 'v1')
    .some(([, v]) => v.length === expected.length && timingSafeEqual(Buffer.from(v), expected));
}

describe('signatureHeaders', () => {
  const base = { msgId: 'evt_2Zfixed', timestampS: T, body: BODY };

  it('standard: matches the spec vector and a second fixed vector computed with openssl', () => {
    const spec = signatureHeaders({
      scheme: 'standard',
      msgId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestampS: 1614265330,
      body: '{"test": 2432232314}',
      secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    });
    expect(spec).toEqual({
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
    const fixed = signatureHeaders({ ...base, scheme: 'standard', secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] });
    expect(fixed['webhook-signature']).toBe('v1,z65CRoMzZ9o/Wx9DSMip8DKhjJXqTl6MGpB6jy6jKRg=');
  });

  it('standard: two live secrets, oldest first, each verified by the official library', () => {
    const [a, b] = [generateSecret(), generateSecret()];
    const now = Math.floor(Date.now() / 1000);
    const headers = signatureHeaders({ ...base, timestampS: now, scheme: 'standard', signatureHeader: 'Ignored-Here', secrets: [a, b] });
    expect(Object.keys(headers).sort()).toEqual(['webhook-id', 'webhook-signature', 'webhook-timestamp']);
    const [first, second] = headers['webhook-signature']!.split(' ');
    expect(first).toBe(standardSignature({ ...base, timestampS: now, secrets: [a] }));
    expect(second).toBe(standardSignature({ ...base, timestampS: now, secrets: [b] }));
    for (const secret of [a, b]) expect(() => new Webhook(secret).verify(BODY, headers)).not.toThrow();
    expect(() => new Webhook(generateSecret()).verify(BODY, headers)).toThrow();
    expect(() => new Webhook(a).verify(`${BODY} `, headers)).toThrow();
  });

  it.each([
    ['one secret', [OLD], [OPENSSL.stripe[OLD]]],
    ['rotation, newest last', [OLD, NEW], [OPENSSL.stripe[OLD], OPENSSL.stripe[NEW]]],
  ])('stripe: %s', (_label, secrets, v1s) => {
    const headers = signatureHeaders({ ...base, scheme: 'stripe', signatureHeader: 'Acme-Signature', secrets });
    expect(headers).toEqual({ 'webhook-id': 'evt_2Zfixed', 'Acme-Signature': [`t=${T}`, ...v1s.map((v) => `v1=${v}`)].join(',') });
    const header = headers['Acme-Signature']!;
    for (const secret of secrets) expect(stripeConsumerAccepts(header, secret, BODY)).toBe(true);
    expect(stripeConsumerAccepts(header, 'sk_test_someone_else_000000', BODY)).toBe(false);
    expect(stripeConsumerAccepts(header, secrets[0]!, BODY.replace('4200', '4201'))).toBe(false);
    // Receivers that parse the header into a map keep only the last v1: that must be the newest secret.
    const asMap = Object.fromEntries(header.split(',').map((item) => item.split('=')));
    expect(asMap.v1).toBe(OPENSSL.stripe[secrets.at(-1) as typeof OLD]);
  });

  it.each([
    [OLD, 'X-Webhook-Signature'],
    [NEW, 'zippex-signature'],
  ] as const)('hex: secret %s under header %s', (secret, signatureHeader) => {
    const headers = signatureHeaders({ ...base, scheme: 'hex', signatureHeader, secrets: [secret] });
    expect(headers).toEqual({ 'webhook-id': 'evt_2Zfixed', [signatureHeader]: OPENSSL.hex[secret] });
    // A consumer's own computation: hex HMAC of the raw body with the secret string.
    expect(headers[signatureHeader]).toBe(createHmac('sha256', secret).update(BODY).digest('hex'));
  });

  it('hex: refuses anything but exactly one secret (rotation picks it, see liveSecrets)', () => {
    expect(() => signatureHeaders({ ...base, scheme: 'hex', signatureHeader: 'X-Sig', secrets: [OLD, NEW] })).toThrow(/exactly one/);
  });

  it.each([
    ['no secret', { scheme: 'standard', secrets: [] }, /no live secret/],
    ['stripe without a header name', { scheme: 'stripe', secrets: [OLD] }, /needs a signature_header/],
    ['hex with a null header name', { scheme: 'hex', signatureHeader: null, secrets: [OLD] }, /needs a signature_header/],
    ['a reserved header name', { scheme: 'stripe', signatureHeader: 'Webhook-Signature', secrets: [OLD] }, /reserved/],
    ['a header name with CRLF', { scheme: 'hex', signatureHeader: 'X-Sig\r\nX-Evil', secrets: [OLD] }, /not a valid HTTP header name/],
    ['an unknown scheme', { scheme: 'md5', signatureHeader: 'X-Sig', secrets: [OLD] }, /unknown signature scheme "md5"/],
  ])('throws on %s, without leaking the secret', (_label, input, message) => {
    const call = () => signatureHeaders({ ...base, ...input, scheme: input.scheme as SignatureScheme });
    expect(call).toThrow(message);
    try {
      call();
    } catch (error) {
      expect(String(error)).not.toContain(OLD);
    }
  });
});

describe('isValidSuppliedSecret', () => {
  const printable = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join('');
  it.each([
    ['standard', generateSecret(), true],
    ['standard', 'a'.repeat(32), false],
    ['stripe', 'x'.repeat(16), true],
    ['stripe', 'x'.repeat(15), false],
    ['stripe', 'x'.repeat(128), true],
    ['stripe', 'x'.repeat(129), false],
    ['stripe', generateSecret(), true],
    ['hex', printable.slice(0, 128), true],
    ['hex', printable.slice(-20), true],
    ['hex', 'with a space 1234567', true],
    ['stripe', 'my stripe secret ~!@#$%^&*()_+{}|:<>?', true],
    ['hex', 'caf\u00e9-1234567890123', true],
    ['hex', 'cafe\u0301-123456789012', true],
    ['hex', 'パスワード・シークレット・キー・ワン', true],
    ['hex', '\u{1F511}'.repeat(16), true],
    ['hex', '\u{1F511}'.repeat(15), false],
    ['hex', 'tab\tinside-1234567890', false],
    ['hex', 'newline\n-1234567890', false],
    ['hex', 'no-break\u00a0space-12345', false],
    ['hex', 'zero\u200bwidth-123456789', false],
    ['hex', 'lone \ud800 surrogate-1234', false],
    ['hex', ' '.repeat(16), false],
    ['hex', ' leading-space-1234567', false],
    ['hex', 'trailing-space-1234567 ', false],
    ['hex', 'a' + '\u0301'.repeat(15), false],
    ['hex', 'variation\ufe0f-selector-123', false],
    ['hex', '\u3164'.repeat(16), false],
    ['hex', '\u2800'.repeat(16), false],
    ['hex', 'abc def ghi jkl mn', false],
    ['hex', 'abcd efgh ijkl mnop', true],
    ['hex', '', false],
    ['md5', 'x'.repeat(32), false],
  ])('%s accepts %j: %s', (scheme, secret, ok) => {
    expect(isValidSuppliedSecret(scheme as SignatureScheme, secret)).toBe(ok);
  });
});

describe('liveSecrets (rotation, §4)', () => {
  const at = (iso: string) => new Date(iso);
  const old = { secret: 'old', createdAt: at('2024-01-01T00:00:00Z'), expiresAt: at('2024-06-02T00:00:00Z') };
  const current = { secret: 'new', createdAt: at('2024-06-01T00:00:00Z'), expiresAt: null };
  const gone = { secret: 'gone', createdAt: at('2023-01-01T00:00:00Z'), expiresAt: at('2024-01-01T00:00:00Z') };
  const inGrace = at('2024-06-01T12:00:00Z');
  const afterGrace = at('2024-06-02T00:00:01Z');

  it.each<[string, SignatureScheme, Date, string[]]>([
    ['standard in grace: both, oldest first', 'standard', inGrace, ['old', 'new']],
    ['stripe in grace: both, oldest first (newest last)', 'stripe', inGrace, ['old', 'new']],
    ['hex in grace: only the old one', 'hex', inGrace, ['old']],
    ['standard after grace: the new one', 'standard', afterGrace, ['new']],
    ['stripe after grace: the new one', 'stripe', afterGrace, ['new']],
    ['hex after grace: the new one', 'hex', afterGrace, ['new']],
  ])('%s', (_label, scheme, now, expected) => {
    // Input order must not matter: rows may come back in any order.
    expect(liveSecrets([current, gone, old], scheme, now)).toEqual(expected);
  });

  it('expiry is exclusive, so grace_period_s: 0 switches at once', () => {
    const rotatedAt = at('2024-06-01T00:00:00Z');
    const instant = { ...old, expiresAt: rotatedAt };
    expect(liveSecrets([instant, { ...current, createdAt: rotatedAt }], 'hex', rotatedAt)).toEqual(['new']);
  });

  it('hex walks a chain of rotations one secret at a time', () => {
    const a = { secret: 'a', createdAt: at('2024-01-01T00:00:00Z'), expiresAt: at('2024-01-03T00:00:00Z') };
    const b = { secret: 'b', createdAt: at('2024-01-02T00:00:00Z'), expiresAt: at('2024-01-04T00:00:00Z') };
    const c = { secret: 'c', createdAt: at('2024-01-02T12:00:00Z'), expiresAt: null };
    expect(liveSecrets([c, b, a], 'hex', at('2024-01-02T18:00:00Z'))).toEqual(['a']);
    expect(liveSecrets([c, b, a], 'hex', at('2024-01-03T18:00:00Z'))).toEqual(['b']);
    expect(liveSecrets([c, b, a], 'hex', at('2024-01-04T18:00:00Z'))).toEqual(['c']);
    expect(liveSecrets([c, b, a], 'stripe', at('2024-01-02T18:00:00Z'))).toEqual(['a', 'b', 'c']);
  });

  it('returns nothing when every secret has expired', () => {
    expect(liveSecrets([gone], 'standard', inGrace)).toEqual([]);
    expect(liveSecrets([], 'hex', inGrace)).toEqual([]);
  });

  it('exports the schemes as an as-const object', () => {
    expect(Object.values(SignatureSchemes).sort()).toEqual(['hex', 'standard', 'stripe']);
  });
});
