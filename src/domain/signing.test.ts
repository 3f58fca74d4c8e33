import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateSecret, isStandardSecret, standardHeaders, standardSignature } from './signing';

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
