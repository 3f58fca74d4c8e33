import { describe, expect, it } from 'vitest';
import { take, type Bucket } from './token-bucket';

describe('token bucket', () => {
  const rule = { perS: 2, burst: 3 };

  it('allows a burst, then refuses with the wait until the next token', () => {
    let bucket: Bucket | undefined;
    const results: (number | true)[] = [];
    for (let i = 0; i < 5; i++) {
      const r = take(bucket, rule, 1_000);
      bucket = r.bucket;
      results.push(r.ok ? true : r.retryAfterMs);
    }
    expect(results).toEqual([true, true, true, 500, 500]);
  });

  it.each([
    [0, false],
    [499, false],
    [500, true],
    [10_000, true],
  ])('after %d ms an empty bucket has a token: %s', (elapsed, ok) => {
    expect(take({ tokens: 0, updatedMs: 0 }, rule, elapsed).ok).toBe(ok);
  });

  it('never holds more than the burst', () => {
    const r = take({ tokens: 0, updatedMs: 0 }, rule, 3_600_000);
    expect(r.ok && r.bucket.tokens).toBe(2);
  });
});
