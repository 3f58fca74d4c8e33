import { describe, expect, it } from 'vitest';
import { applyRetryAfter, parseRetryAfter, RETRY_AFTER_STATUSES } from './retry-after';

const s = 1000;
const m = 60 * s;
// A Sunday, on a whole second so that date arithmetic is exact.
const now = new Date('2025-06-01T12:00:00.000Z');

describe('Retry-After as delta-seconds', () => {
  it.each([
    ['120', 120 * s],
    ['0', 0],
    [' 120 ', 120 * s],
    ['\t30\r\n', 30 * s],
    ['007', 7 * s],
    ['86400', 86_400 * s],
    ['99999999999', 99_999_999_999 * s],
    ['9'.repeat(400), Number.MAX_SAFE_INTEGER],
    ['-5', undefined],
    ['+5', undefined],
    ['1.5', undefined],
    ['1e3', undefined],
    ['0x10', undefined],
    ['120, 120', undefined],
    ['5 minutes', undefined],
    ['soon', undefined],
    ['', undefined],
    ['   ', undefined],
    [undefined, undefined],
  ])('%j → %j', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe('Retry-After as an HTTP-date', () => {
  it.each([
    // IMF-fixdate, the form servers must send.
    ['Sun, 01 Jun 2025 12:02:00 GMT', 2 * m],
    ['Sun, 01 Jun 2025 12:00:00 GMT', 0],
    ['Mon, 02 Jun 2025 12:00:00 GMT', 24 * 60 * m],
    [' Sun, 01 Jun 2025 12:02:00 GMT ', 2 * m],
    ['sun, 01 jun 2025 12:02:00 gmt', 2 * m],
    ['Sun, 01 Jun 2025 12:01:60 GMT', 2 * m], // leap second
    ['Sun, 06 Nov 1994 08:49:37 GMT', 0], // past → now
    ['Sun, 01 Jun 2025 11:59:59 GMT', 0],
    // RFC 850 (obsolete), two-digit years read per RFC 9110 §5.6.7.
    ['Sunday, 01-Jun-25 12:02:00 GMT', 2 * m],
    ['Sunday, 06-Nov-94 08:49:37 GMT', 0],
    ['Monday, 01-Jun-76 12:00:00 GMT', 0], // 2076 is more than 50 years ahead → 1976
    ['Thursday, 01-Jun-75 12:00:00 GMT', Date.UTC(2075, 5, 1, 12) - now.getTime()],
    // asctime (obsolete): no zone, and it is UTC, whatever the machine's TZ.
    ['Sun Jun  1 12:02:00 2025', 2 * m],
    ['Sun Jun 01 12:02:00 2025', 2 * m],
    ['Sun Nov  6 08:49:37 1994', 0],
  ])('%j → %j', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it.each([
    'Sun, 01 Jun 2025 12:02:00 UTC',
    'Sun, 01 Jun 2025 12:02:00 +0000',
    'Sun, 1 Jun 2025 12:02:00 GMT',
    'Sun, 31 Feb 2025 12:00:00 GMT',
    'Sun, 01 Jun 2025 24:00:00 GMT',
    'Sun, 01 Jun 2025 12:60:00 GMT',
    'Sun, 01 Jun 2025 12:00:61 GMT',
    'Sun, 01 Jux 2025 12:00:00 GMT',
    '01 Jun 2025 12:02:00 GMT',
    '2025-06-01T12:02:00Z',
    'Sunday, 01-Jun-2025 12:02:00 GMT',
    'Sun Jun  1 12:02:00 2025 GMT',
    'June 1, 2025',
    'Sun, 01 Jun 2025',
  ])('%j is not a Retry-After value', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });

  it('counts from the exact instant, milliseconds included', () => {
    expect(parseRetryAfter('Sun, 01 Jun 2025 12:02:00 GMT', new Date('2025-06-01T12:00:00.250Z'))).toBe(2 * m - 250);
  });
});

describe('applying the hint (PRODUCT.md §3)', () => {
  const scheduledDelayMs = 5 * m;

  it('applies to 429, 502, 503 and 504 only', () => {
    expect([...RETRY_AFTER_STATUSES]).toEqual([429, 502, 503, 504]);
  });

  it.each(RETRY_AFTER_STATUSES.flatMap((status) => [
    [status, 0, scheduledDelayMs], // earlier than scheduled → scheduled
    [status, 1 * m, scheduledDelayMs],
    [status, 5 * m, 5 * m],
    [status, 7 * m, 7 * m], // inside the range → the hint
    [status, 10 * m, 10 * m],
    [status, 11 * m, 10 * m], // later than double → double
    [status, Number.MAX_SAFE_INTEGER, 10 * m],
    [status, undefined, scheduledDelayMs], // no hint
  ]))('status %d with hint %j → %d', (status, retryAfterMs, expected) => {
    expect(applyRetryAfter({ status, retryAfterMs, scheduledDelayMs })).toBe(expected);
  });

  it.each([500, 501, 410, 400, 404, 301, 200, null, undefined])('status %j ignores the hint', (status) => {
    expect(applyRetryAfter({ status, retryAfterMs: 7 * m, scheduledDelayMs })).toBe(scheduledDelayMs);
    expect(applyRetryAfter({ status, retryAfterMs: 60 * m, scheduledDelayMs })).toBe(scheduledDelayMs);
    expect(applyRetryAfter({ status, retryAfterMs: 0, scheduledDelayMs })).toBe(scheduledDelayMs);
  });

  it('keeps a zero delay at zero and ignores a non-finite hint', () => {
    expect(applyRetryAfter({ status: 503, retryAfterMs: 60 * s, scheduledDelayMs: 0 })).toBe(0);
    expect(applyRetryAfter({ status: 503, retryAfterMs: Number.NaN, scheduledDelayMs })).toBe(scheduledDelayMs);
  });

  it('works end to end from the header text', () => {
    const hint = (value: string) => applyRetryAfter({ status: 429, retryAfterMs: parseRetryAfter(value, now), scheduledDelayMs });
    expect(hint('420')).toBe(7 * m);
    expect(hint('Sun, 01 Jun 2025 12:08:00 GMT')).toBe(8 * m);
    expect(hint('9'.repeat(400))).toBe(10 * m);
    expect(hint('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(scheduledDelayMs);
    expect(hint('later')).toBe(scheduledDelayMs);
  });
});
