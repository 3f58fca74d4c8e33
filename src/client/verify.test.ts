import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateSecret, liveSecrets, signatureHeaders } from '../domain/signing';
import { DEFAULT_SIGNATURE_HEADER } from '../api/endpoint-schemas';
import { DEFAULT_SIGNATURE_HEADERS, verifyWebhook, type VerifyWebhookOptions, WebhookVerificationError } from './index';

// Same fixed vectors as src/domain/signing.test.ts; the hex values come from openssl, not from this code base.
const OLD = 'sk_test_old_0123456789abcdef';
const NEW = 'sk_test_new_fedcba9876543210';
const T = 1700000000;
const BODY = '{"id":"evt_2Zfixed","type":"invoice.paid","data":{"amount":4200,"note":"café ☕"}}';
const STRIPE_OLD = 'cc2520f4f885ede6f3aa439861e495091aae1c24a16d7d3789a8fe9849be4e6f';
const STRIPE_NEW = '6a65bbc11532b0de7d7ff6d1d983916ac545e563ea69528abf266168856bf91d';
const HEX_OLD = '01cdff7571091ceaded4d935091bb1aea197fff1d40546b9905a15676a86fba7';
const HEX_NEW = 'c232111e91e4e14c87eb2a7eb76d8a278717712ec3983b2ee72528ad1a399e91';

const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  headers: {
    'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    'webhook-timestamp': '1614265330',
    'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  },
  body: '{"test": 2432232314}',
  now: new Date(1614265330 * 1000),
};

const atT = (offsetS: number) => new Date((T + offsetS) * 1000);

/** Runs verifyWebhook and reports 'ok' or the WebhookVerificationError message. */
function outcome(options: VerifyWebhookOptions): string {
  try {
    verifyWebhook(options);
    return 'ok';
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error.message;
    throw error;
  }
}

describe('verifyWebhook: standard', () => {
  it('accepts the Standard Webhooks specification vector', () => {
    expect(outcome({ scheme: 'standard', ...SPEC })).toBe('ok');
  });

  it('accepts what the official library signs, with either rotated secret', () => {
    const [a, b] = [generateSecret(), generateSecret()];
    const now = new Date();
    const signature = `${new Webhook(a).sign('evt_1', now, BODY)} ${new Webhook(b).sign('evt_1', now, BODY)}`;
    const headers = { 'webhook-id': 'evt_1', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signature };
    expect(outcome({ scheme: 'standard', secret: a, headers, body: BODY })).toBe('ok');
    expect(outcome({ scheme: 'standard', secret: b, headers, body: Buffer.from(BODY) })).toBe('ok');
    expect(outcome({ scheme: 'standard', secret: generateSecret(), headers, body: BODY })).toBe('no signature matches the secret');
  });

  it.each([
    ['within the window (now)', SPEC.headers, SPEC.body, SPEC.now, 'ok'],
    ['within the window (299 s old)', SPEC.headers, SPEC.body, new Date(SPEC.now.getTime() + 299_000), 'ok'],
    ['too old (301 s)', SPEC.headers, SPEC.body, new Date(SPEC.now.getTime() + 301_000), 'the timestamp is too old (possible replay)'],
    ['too new (301 s ahead)', SPEC.headers, SPEC.body, new Date(SPEC.now.getTime() - 301_000), 'the timestamp is too far in the future'],
    ['tampered body', SPEC.headers, '{"test": 2432232315}', SPEC.now, 'no signature matches the secret'],
    ['tampered id', { ...SPEC.headers, 'webhook-id': 'msg_other' }, SPEC.body, SPEC.now, 'no signature matches the secret'],
    ['non-numeric timestamp', { ...SPEC.headers, 'webhook-timestamp': '16e8' }, SPEC.body, SPEC.now, 'the timestamp is not Unix seconds'],
    ['missing signature', { ...SPEC.headers, 'webhook-signature': '' }, SPEC.body, SPEC.now, 'missing header webhook-signature'],
    ['only an unknown version', { ...SPEC.headers, 'webhook-signature': 'v2,abc' }, SPEC.body, SPEC.now, 'webhook-signature has no v1 signature'],
    ['missing id', { 'webhook-timestamp': '1614265330', 'webhook-signature': 'v1,x' }, SPEC.body, SPEC.now, 'missing header webhook-id'],
  ])('%s', (_label, headers, body, now, expected) => {
    expect(outcome({ scheme: 'standard', secret: SPEC.secret, headers, body, now })).toBe(expected);
  });

  it('rejects a wrong secret', () => {
    expect(outcome({ scheme: 'standard', ...SPEC, secret: generateSecret() })).toBe('no signature matches the secret');
  });

  it('looks headers up case-insensitively, in plain objects and WHATWG Headers', () => {
    const upper = Object.fromEntries(Object.entries(SPEC.headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(outcome({ scheme: 'standard', ...SPEC, headers: upper })).toBe('ok');
    expect(outcome({ scheme: 'standard', ...SPEC, headers: new Headers(upper) })).toBe('ok');
    expect(outcome({ scheme: 'standard', ...SPEC, headers: { ...SPEC.headers, 'Webhook-Id': ['a', 'b'] } })).toBe(
      'header webhook-id appears more than once',
    );
  });

  it('honours a custom tolerance', () => {
    const now = new Date(SPEC.now.getTime() + 60_000);
    expect(outcome({ scheme: 'standard', ...SPEC, now, toleranceS: 30 })).toBe('the timestamp is too old (possible replay)');
  });
});

describe('verifyWebhook: stripe', () => {
  const header = (...v1: string[]) => ({ 'Acme-Signature': [`t=${T}`, ...v1.map((v) => `v1=${v}`)].join(',') });
  const base = { scheme: 'stripe', signatureHeader: 'acme-signature', body: BODY } as const;

  it.each([
    ['one secret', OLD, header(STRIPE_OLD), atT(0), 'ok'],
    ['rotation: old secret', OLD, header(STRIPE_OLD, STRIPE_NEW), atT(0), 'ok'],
    ['rotation: new secret', NEW, header(STRIPE_OLD, STRIPE_NEW), atT(0), 'ok'],
    ['spaces after commas', OLD, { 'acme-signature': `t=${T}, v1=${STRIPE_OLD}` }, atT(0), 'ok'],
    ['within the window', OLD, header(STRIPE_OLD), atT(300), 'ok'],
    ['too old', OLD, header(STRIPE_OLD), atT(301), 'the timestamp is too old (possible replay)'],
    ['too new', OLD, header(STRIPE_OLD), atT(-301), 'the timestamp is too far in the future'],
    ['wrong secret', 'sk_test_someone_else_000000', header(STRIPE_OLD, STRIPE_NEW), atT(0), 'no signature matches the secret'],
    ['another timestamp', OLD, { 'Acme-Signature': `t=${T + 1},v1=${STRIPE_OLD}` }, atT(0), 'no signature matches the secret'],
    ['truncated signature', OLD, header(STRIPE_OLD.slice(0, 63)), atT(0), 'no signature matches the secret'],
    ['no timestamp', OLD, { 'Acme-Signature': `v1=${STRIPE_OLD}` }, atT(0), 'acme-signature has no t= timestamp'],
    ['two timestamps', OLD, { 'Acme-Signature': `t=${T},t=${T},v1=${STRIPE_OLD}` }, atT(0), 'acme-signature has more than one t='],
    ['no v1', OLD, { 'Acme-Signature': `t=${T},v0=${STRIPE_OLD}` }, atT(0), 'acme-signature has no v1= signature'],
    ['missing header', OLD, { 'Other-Signature': `t=${T},v1=${STRIPE_OLD}` }, atT(0), 'missing header acme-signature'],
  ])('%s', (_label, secret, headers, now, expected) => {
    expect(outcome({ ...base, secret, headers, now })).toBe(expected);
  });

  it('rejects a tampered body', () => {
    expect(outcome({ ...base, body: BODY.replace('4200', '4201'), secret: OLD, headers: header(STRIPE_OLD), now: atT(0) })).toBe(
      'no signature matches the secret',
    );
  });

  it('accepts a header a consumer-side script builds from the docs', () => {
    const t = Math.floor(Date.now() / 1000);
    const v1 = createHmac('sha256', OLD).update(`${t}.${BODY}`).digest('hex');
    expect(outcome({ ...base, secret: OLD, headers: { 'acme-signature': `t=${t},v1=${v1}` } })).toBe('ok');
  });
});

describe('verifyWebhook: hex', () => {
  const base = { scheme: 'hex', signatureHeader: 'X-Webhook-Signature', body: BODY } as const;
  it.each([
    ['old secret', OLD, HEX_OLD, 'ok'],
    ['new secret', NEW, HEX_NEW, 'ok'],
    ['upper-case hex', OLD, HEX_OLD.toUpperCase(), 'ok'],
    ['wrong secret', NEW, HEX_OLD, 'the signature does not match the secret'],
    ['truncated', OLD, HEX_OLD.slice(0, 40), 'the signature does not match the secret'],
    ['not hex', OLD, 'not-a-signature', 'the signature does not match the secret'],
  ])('%s', (_label, secret, signature, expected) => {
    expect(outcome({ ...base, secret, headers: { 'x-webhook-signature': signature } })).toBe(expected);
  });

  it('rotation: a consumer passing both secrets accepts either signature, and a tampered body fails', () => {
    for (const signature of [HEX_OLD, HEX_NEW]) {
      expect(outcome({ ...base, secret: [OLD, NEW], headers: { 'X-WEBHOOK-SIGNATURE': signature } })).toBe('ok');
    }
    expect(outcome({ ...base, body: `${BODY}\n`, secret: [OLD, NEW], headers: { 'x-webhook-signature': HEX_OLD } })).toBe(
      'the signature does not match the secret',
    );
  });

  it('has no replay window: a signature stays valid (consumers dedupe on webhook-id)', () => {
    expect(outcome({ ...base, secret: OLD, headers: { 'x-webhook-signature': HEX_OLD }, now: new Date(0) })).toBe('ok');
  });
});

describe('verifyWebhook: options', () => {
  it.each<[string, Partial<VerifyWebhookOptions>, RegExp]>([
    ['an unknown scheme', { scheme: 'md5' as VerifyWebhookOptions['scheme'] }, /unknown scheme "md5"/],
    ['an empty secret', { secret: '' }, /secret is empty/],
    ['no secrets', { secret: [] }, /secret is empty/],
    ['a negative tolerance', { toleranceS: -1 }, /toleranceS/],
    ['a standard secret that is not base64', { scheme: 'standard', secret: 'whsec_' }, /whsec_ followed by base64/],
  ])('throws TypeError on %s', (_label, override, message) => {
    const options: VerifyWebhookOptions = { scheme: 'hex', signatureHeader: 'X-Sig', secret: OLD, headers: { 'x-sig': HEX_OLD }, body: BODY };
    expect(() => verifyWebhook({ ...options, ...override })).toThrow(TypeError);
    expect(() => verifyWebhook({ ...options, ...override })).toThrow(message);
  });
});

describe('verifyWebhook: the default signature header', () => {
  it('is the one the API gives an endpoint that names none', () => {
    expect(DEFAULT_SIGNATURE_HEADERS).toEqual({ stripe: DEFAULT_SIGNATURE_HEADER.stripe, hex: DEFAULT_SIGNATURE_HEADER.hex });
  });

  it.each(['stripe', 'hex'] as const)('%s: is read when signatureHeader is unset or empty', (scheme) => {
    const now = new Date();
    const headers = signatureHeaders({ scheme, signatureHeader: DEFAULT_SIGNATURE_HEADERS[scheme], msgId: 'evt_1', timestampS: Math.floor(now.getTime() / 1000), body: BODY, secrets: [OLD] });
    for (const signatureHeader of [undefined, '']) expect(outcome({ scheme, signatureHeader, secret: OLD, headers, body: BODY, now })).toBe('ok');
    expect(outcome({ scheme, signatureHeader: 'Acme-Signature', secret: OLD, headers, body: BODY, now })).toBe('missing header Acme-Signature');
  });
});

describe('round trip with the service-side signer', () => {
  const stored = [
    { secret: OLD, createdAt: new Date('2024-01-01T00:00:00Z'), expiresAt: new Date('2099-01-01T00:00:00Z') },
    { secret: NEW, createdAt: new Date('2024-06-01T00:00:00Z'), expiresAt: null },
  ];
  it.each(['stripe', 'hex'] as const)('%s: during a rotation the consumer verifies with the secret it holds', (scheme) => {
    const now = new Date();
    const secrets = liveSecrets(stored, scheme, now);
    const headers = signatureHeaders({ scheme, signatureHeader: 'Acme-Signature', msgId: 'evt_1', timestampS: Math.floor(now.getTime() / 1000), body: BODY, secrets });
    expect(headers['webhook-id']).toBe('evt_1');
    expect(outcome({ scheme, signatureHeader: 'Acme-Signature', secret: OLD, headers, body: BODY, now })).toBe('ok');
    // hex signs with the oldest live secret only, so the new one verifies once the grace period ends.
    expect(outcome({ scheme, signatureHeader: 'Acme-Signature', secret: NEW, headers, body: BODY, now })).toBe(
      scheme === 'stripe' ? 'ok' : 'the signature does not match the secret',
    );
  });

  it('standard: every live secret verifies', () => {
    const [a, b] = [generateSecret(), generateSecret()];
    const now = new Date();
    const headers = signatureHeaders({ scheme: 'standard', msgId: 'evt_1', timestampS: Math.floor(now.getTime() / 1000), body: BODY, secrets: [a, b] });
    for (const secret of [a, b]) expect(outcome({ scheme: 'standard', secret, headers, body: BODY, now })).toBe('ok');
  });
});
