import { describe, expect, it } from 'vitest';
import { decideOutcome, type OutcomeInput } from './attempt-outcome';

const now = new Date('2026-01-01T00:00:00Z');
const base: OutcomeInput = { response: { status: 500, errorCode: null, retryAfter: undefined }, delaysMs: [10_000, 60_000], retryIndex: 0, jitter: 0, retry: true, now };
const run = (response: Partial<OutcomeInput['response']>, extra: Partial<OutcomeInput> = {}) => decideOutcome({ ...base, ...extra, response: { ...base.response, ...response } });

describe('decideOutcome', () => {
  it.each([
    [{ status: 200 }, 'succeeded', null, null],
    [{ status: 204 }, 'succeeded', null, null],
    [{ status: 500 }, 'pending', 10_000, null],
    [{ status: 404 }, 'pending', 10_000, null],
    [{ status: 301 }, 'pending', 10_000, 'redirect'],
    [{ status: null, errorCode: 'timeout' as const }, 'pending', 10_000, 'timeout'],
    [{ status: 410 }, 'failed', null, null],
  ])('%j → %s, next in %s ms, error %s', (response, status, next, errorCode) => {
    const o = run(response);
    expect([o.status, o.nextDelayMs, o.errorCode]).toEqual([status, next, errorCode]);
  });

  it('disables the endpoint on 410 only, on every kind of attempt (PRODUCT.md §5: under every policy)', () => {
    expect(run({ status: 410 })).toMatchObject({ disableEndpoint: true, failureReason: 'endpoint_disabled' });
    expect(run({ status: 410 }, { retry: false })).toMatchObject({ disableEndpoint: true, failureReason: 'endpoint_disabled' });
    expect(run({ status: 410 }, { retry: false, test: true })).toMatchObject({ disableEndpoint: true, failureReason: 'endpoint_disabled' });
    expect(run({ status: 404 }).disableEndpoint).toBe(false);
  });

  it('ends when the schedule is spent, after a revived manual attempt, and after a test send\'s attempt', () => {
    expect(run({}, { retryIndex: 2 })).toMatchObject({ status: 'failed', failureReason: 'schedule_exhausted', nextDelayMs: null });
    expect(run({}, { retry: false })).toMatchObject({ status: 'failed', failureReason: 'manual_attempt_failed' });
    expect(run({}, { retry: false, test: true })).toMatchObject({ status: 'failed', failureReason: 'test_attempt_failed' });
  });

  it.each([
    [503, '15', 15_000],
    [503, '5', 10_000],
    [503, '3600', 20_000],
    [429, 'Thu, 01 Jan 2026 00:00:12 GMT', 12_000],
    [500, '15', 10_000],
  ])('status %d with Retry-After %s waits %d ms', (status, retryAfter, wait) => {
    expect(run({ status, retryAfter }).nextDelayMs).toBe(wait);
  });
});
