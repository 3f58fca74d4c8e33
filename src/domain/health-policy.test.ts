import { describe, expect, it } from 'vitest';
import {
  type AttemptStats,
  CONSECUTIVE_CHECK_MS,
  DEFAULT_DISABLE_POLICY,
  type DisablePolicy,
  disablePolicyProblem,
  evaluatePolicy,
  isDisablePolicy,
  MAX_CHECK_MS,
  MIN_CHECK_MS,
  nextCheckDelayMs,
  type RecentAttempts,
  statsWindowMs,
  verdictFromRecent,
  withPolicyDefaults,
} from './health-policy';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const now = new Date('2025-06-01T12:00:00.000Z');

type Outcome = 'ok' | 'fail';
/** One attempt: how long before `now` it started, and how it went. */
type Attempt = readonly [ago: number, outcome: Outcome];

/** `count` attempts with the same outcome, evenly spaced from `fromAgo` down to `toAgo`. */
function run(count: number, outcome: Outcome, fromAgo: number, toAgo: number): Attempt[] {
  const step = count > 1 ? (fromAgo - toAgo) / (count - 1) : 0;
  return Array.from({ length: count }, (_, i) => [fromAgo - i * step, outcome] as const);
}

/** What the store would compute: counts and timestamps inside the window, the streak without it. */
function statsOf(attempts: readonly Attempt[], policy: DisablePolicy = DEFAULT_DISABLE_POLICY): AttemptStats {
  const sorted = [...attempts].sort((a, b) => b[0] - a[0]); // oldest first
  const inWindow = sorted.filter(([ago]) => ago < statsWindowMs(policy));
  const at = (ago: number | undefined) => (ago === undefined ? null : new Date(now.getTime() - ago));
  const failed = inWindow.filter(([, outcome]) => outcome === 'fail');
  const succeeded = inWindow.filter(([, outcome]) => outcome === 'ok');
  let consecutiveFailures = 0;
  for (let i = sorted.length - 1; i >= 0 && sorted[i]![1] === 'fail'; i--) consecutiveFailures++;
  return {
    attempts: inWindow.length,
    failures: failed.length,
    firstFailureAt: at(failed[0]?.[0]),
    lastFailureAt: at(failed.at(-1)?.[0]),
    lastSuccessAt: at(succeeded.at(-1)?.[0]),
    consecutiveFailures,
  };
}

function verdict(attempts: readonly Attempt[], policy: DisablePolicy = DEFAULT_DISABLE_POLICY) {
  return evaluatePolicy(policy, statsOf(attempts, policy), now);
}

describe('failure_rate, the default (PRODUCT.md §5)', () => {
  it.each<[string, Attempt[], 'disable' | 'healthy' | 'watching', RegExp]>([
    ['24 h of 100% failures with ≥10 attempts', run(48, 'fail', 23.5 * h, 0), 'disable', /48 of 48 attempts failed \(100%\) in the last 1d/],
    ['exactly 10 attempts, all failed, across 24 h', run(10, 'fail', 23.9 * h, 1 * m), 'disable', /no success since/],
    ['9 attempts all failed (min attempts)', run(9, 'fail', 23.9 * h, 1 * m), 'watching', /needs at least 10 attempts/],
    ['95% failures but all in the last hour (success 23 h ago)', [[23 * h, 'ok'], ...run(19, 'fail', 59 * m, 1 * m)], 'watching', /failing only for 59m/],
    ['95% failures but all in the last hour (success just before)', [[60 * m, 'ok'], ...run(19, 'fail', 59 * m, 1 * m)], 'watching', /failing only for 59m/],
    [
      'an old blip, a success, then a burst in the last hour',
      [[23 * h, 'fail'], [22 * h, 'ok'], ...run(38, 'fail', 59 * m, 1 * m)],
      'watching',
      /an attempt succeeded after the first failure/,
    ],
    ['successes before a 23 h outage, 96% failed', [...run(2, 'ok', 23.9 * h, 23.8 * h), ...run(46, 'fail', 23 * h, 0)], 'disable', /46 of 48/],
    ['89% failures', [...run(11, 'ok', 23.99 * h, 23.9 * h), ...run(89, 'fail', 23 * h, 1 * m)], 'watching', /89 of 100 attempts failed \(89%\) in the last 1d; disables above 90%/],
    ['exactly 90% failures', [...run(10, 'ok', 23.99 * h, 23.9 * h), ...run(90, 'fail', 23 * h, 1 * m)], 'watching', /disables above 90%/],
    ['91% failures', [...run(9, 'ok', 23.99 * h, 23.9 * h), ...run(91, 'fail', 23 * h, 1 * m)], 'disable', /91 of 100 attempts failed \(91%\)/],
    ['failing for 21 h 30 m, under 90% of the window', run(30, 'fail', 21.5 * h, 1 * m), 'watching', /failing only for 21h30m; needs 21h36m/],
    ['failing for exactly 90% of the window', run(30, 'fail', 21.6 * h, 1 * m), 'disable', /no success since 2025-05-31T14:24:00.000Z/],
    ['failures older than the window do not count', [...run(40, 'fail', 47 * h, 25 * h), ...run(5, 'fail', 2 * h, 1 * m)], 'watching', /5 of 5 attempts .*needs at least 10/],
    ['the latest attempt succeeded after 23 h of failures', [...run(40, 'fail', 23 * h, 2 * m), [1 * m, 'ok']], 'healthy', /latest attempt succeeded/],
    ['no failures', run(50, 'ok', 23 * h, 1 * m), 'healthy', /no failed attempts/],
    ['no attempts at all', [], 'healthy', /no failed attempts/],
  ])('%s → %s', (_name, attempts, expected, reason) => {
    const result = verdict(attempts);
    expect(result.verdict).toBe(expected);
    expect(result.reason).toMatch(reason);
  });

  it('applies custom threshold, window and minimum', () => {
    const policy: DisablePolicy = { type: 'failure_rate', threshold: 0.5, window_s: 3600, min_attempts: 3 };
    expect(verdict([...run(2, 'ok', 59 * m, 58 * m), ...run(3, 'fail', 54 * m, 1 * m)], policy).verdict).toBe('disable');
    expect(verdict([...run(3, 'ok', 59 * m, 58 * m), ...run(3, 'fail', 54 * m, 1 * m)], policy).verdict).toBe('watching');
    expect(verdict(run(2, 'fail', 59 * m, 1 * m), policy).verdict).toBe('watching');
    expect(verdict(run(3, 'fail', 53 * m, 1 * m), policy).reason).toMatch(/failing only for 53m; needs 54m/);
  });

  it('reads a threshold of 1 as "every attempt failed"', () => {
    const policy: DisablePolicy = { type: 'failure_rate', threshold: 1 };
    expect(verdict(run(20, 'fail', 23 * h, 1 * m), policy).verdict).toBe('disable');
    expect(verdict([[23.9 * h, 'ok'], ...run(20, 'fail', 23 * h, 1 * m)], policy).verdict).toBe('watching');
  });
});

describe('consecutive', () => {
  const policy: DisablePolicy = { type: 'consecutive', threshold: 5 };
  it.each<[string, Attempt[], 'disable' | 'healthy' | 'watching']>([
    ['N − 1 failures', run(4, 'fail', 40 * m, 1 * m), 'watching'],
    ['N failures', run(5, 'fail', 40 * m, 1 * m), 'disable'],
    ['N + 1 failures', run(6, 'fail', 40 * m, 1 * m), 'disable'],
    ['N failures within minutes: no spread needed', run(5, 'fail', 4 * m, 0), 'disable'],
    ['N failures reset by a success, then 2 more', [...run(5, 'fail', 50 * m, 30 * m), [20 * m, 'ok'], ...run(2, 'fail', 10 * m, 1 * m)], 'watching'],
    ['failures then a success', [...run(7, 'fail', 50 * m, 30 * m), [1 * m, 'ok']], 'healthy'],
    ['a streak longer than the window still counts', run(5, 'fail', 4 * 24 * h, 1 * m), 'disable'],
  ])('%s → %s', (_name, attempts, expected) => {
    expect(verdict(attempts, policy).verdict).toBe(expected);
  });

  it('explains the streak', () => {
    expect(verdict(run(4, 'fail', 40 * m, 1 * m), policy).reason).toBe('4 consecutive failed attempts; disables at 5');
    expect(verdict(run(5, 'fail', 40 * m, 1 * m), policy).reason).toBe('5 consecutive failed attempts (policy: disable at 5)');
  });

  it('with threshold 1 disables on the first failure', () => {
    expect(verdict([[1 * m, 'fail']], { type: 'consecutive', threshold: 1 }).verdict).toBe('disable');
  });
});

describe('when to look again', () => {
  const delay = (attempts: readonly Attempt[], policy: DisablePolicy = DEFAULT_DISABLE_POLICY) =>
    nextCheckDelayMs(policy, statsOf(attempts, policy), now);

  it.each<[string, Attempt[], number]>([
    ['failing for 30 m: capped at an hour', run(5, 'fail', 30 * m, 1 * m), MAX_CHECK_MS],
    ['failing for 21 h 18 m: when 90% of the window is reached', run(20, 'fail', 21.3 * h, 1 * m), 18 * m],
    ['spread reached in 36 s: at least a minute', run(20, 'fail', 21.59 * h, 1 * m), MIN_CHECK_MS],
    ['spread met but too few attempts: soon', run(5, 'fail', 23 * h, 1 * m), MIN_CHECK_MS],
    ['a success after the first failure restarts the clock', [[23 * h, 'fail'], [21 * h, 'ok'], ...run(10, 'fail', 20.9 * h, 1 * m)], 36 * m],
    ['no failure in the window', run(5, 'ok', 3 * h, 1 * m), MAX_CHECK_MS],
  ])('%s', (_name, attempts, expected) => {
    expect(delay(attempts)).toBe(expected);
  });

  it('is a fixed 10 minutes for consecutive: each failure wakes the workflow anyway', () => {
    expect(delay(run(2, 'fail', 5 * m, 1 * m), { type: 'consecutive', threshold: 5 })).toBe(CONSECUTIVE_CHECK_MS);
  });

  it('follows a custom window', () => {
    expect(delay(run(3, 'fail', 10 * m, 1 * m), { type: 'failure_rate', window_s: 3600 })).toBe(44 * m);
  });
});

/** What the store's `recent` would read for the activity: the newest attempt and success in the window, the streak up to the threshold. */
function recentOf(attempts: readonly Attempt[], policy: DisablePolicy): RecentAttempts {
  const inWindow = [...attempts].filter(([ago]) => ago < statsWindowMs(policy)).sort((a, b) => a[0] - b[0]); // newest first
  const at = (ago: number) => new Date(now.getTime() - ago);
  const success = inWindow.find(([, outcome]) => outcome === 'ok');
  const streak = statsOf(attempts, policy).consecutiveFailures;
  return {
    latest: inWindow[0] ? { at: at(inWindow[0][0]), succeeded: inWindow[0][1] === 'ok' } : null,
    lastSuccessAt: policy.type === 'failure_rate' && success ? at(success[0]) : null,
    consecutiveFailures: policy.type === 'consecutive' ? Math.min(streak, policy.threshold) : 0,
  };
}

describe('verdictFromRecent: the newest attempts decide most checks', () => {
  it.each<[string, Attempt[], DisablePolicy, 'disable' | 'healthy' | 'watching' | undefined, number]>([
    ['no attempts', [], DEFAULT_DISABLE_POLICY, 'healthy', 0],
    ['the newest attempt succeeded, after a day of traffic', [...run(500, 'ok', 23 * h, 2 * m), [1.5 * m, 'fail'], [1 * m, 'ok']], DEFAULT_DISABLE_POLICY, 'healthy', 0],
    ['a success an hour ago: no disable for another 20 h 36 m (checked within the hour)', [[1 * h, 'ok'], [30 * m, 'fail']], DEFAULT_DISABLE_POLICY, 'watching', MAX_CHECK_MS],
    ['a 1 h window, a success 10 m ago: look again at 54 m', [[10 * m, 'ok'], [5 * m, 'fail']], { type: 'failure_rate', window_s: 3600 }, 'watching', 44 * m],
    ['no success for 90% of the window: the counts decide', [[22 * h, 'ok'], ...run(30, 'fail', 21.5 * h, 1 * m)], DEFAULT_DISABLE_POLICY, undefined, 0],
    ['no success in the window at all: the counts decide', run(30, 'fail', 23 * h, 1 * m), DEFAULT_DISABLE_POLICY, undefined, 0],
    ['consecutive: the streak decides', run(5, 'fail', 40 * m, 1 * m), { type: 'consecutive', threshold: 5 }, 'disable', CONSECUTIVE_CHECK_MS],
    ['consecutive: short of it', run(4, 'fail', 40 * m, 1 * m), { type: 'consecutive', threshold: 5 }, 'watching', CONSECUTIVE_CHECK_MS],
  ])('%s', (_name, attempts, policy, expected, nextCheckMs) => {
    const result = verdictFromRecent(policy, recentOf(attempts, policy), now);
    expect(result?.verdict).toBe(expected);
    if (result?.verdict === 'watching') expect(result.nextCheckMs).toBe(nextCheckMs);
  });

  it('agrees with evaluatePolicy on the whole window whenever it answers, and looks again no later', () => {
    // A seeded generator, so a failure reproduces.
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const policies: DisablePolicy[] = [DEFAULT_DISABLE_POLICY, { type: 'failure_rate', threshold: 0.5, window_s: 3600, min_attempts: 3 }, { type: 'consecutive', threshold: 3 }, { type: 'consecutive', threshold: 1 }];
    let decided = 0;
    for (let i = 0; i < 2_000; i++) {
      const policy = policies[i % policies.length]!;
      const span = statsWindowMs(policy) * (0.2 + 1.3 * random());
      const failRate = random();
      const attempts = Array.from({ length: Math.floor(random() * 40) }, (): Attempt => [Math.floor(random() * span), random() < failRate ? 'fail' : 'ok']);
      const quick = verdictFromRecent(policy, recentOf(attempts, policy), now);
      if (quick === undefined) continue;
      decided++;
      const full = evaluatePolicy(policy, statsOf(attempts, policy), now);
      expect(quick.verdict, JSON.stringify({ policy, attempts })).toBe(full.verdict);
      if (full.verdict === 'watching') expect(quick.nextCheckMs).toBeLessThanOrEqual(nextCheckDelayMs(policy, statsOf(attempts, policy), now));
    }
    expect(decided).toBeGreaterThan(1_000);
  });
});

describe('withPolicyDefaults', () => {
  it.each<[DisablePolicy, DisablePolicy]>([
    [{ type: 'failure_rate' }, DEFAULT_DISABLE_POLICY],
    [{ type: 'failure_rate', threshold: 0.5 }, { type: 'failure_rate', threshold: 0.5, window_s: 86_400, min_attempts: 10 }],
    [{ type: 'failure_rate', threshold: 1, window_s: 60, min_attempts: 1 }, { type: 'failure_rate', threshold: 1, window_s: 60, min_attempts: 1 }],
    [{ type: 'consecutive', threshold: 5 }, { type: 'consecutive', threshold: 5 }],
  ])('%j reads as %j', (policy, expected) => {
    expect(withPolicyDefaults(policy)).toEqual(expected);
  });
});

describe('policy validation', () => {
  it.each([
    [DEFAULT_DISABLE_POLICY, undefined],
    [{ type: 'failure_rate' }, undefined],
    [{ type: 'failure_rate', threshold: 0.95, window_s: 3600, min_attempts: 1 }, undefined],
    [{ type: 'failure_rate', threshold: 1, window_s: 60, min_attempts: 10_000 }, undefined],
    [{ type: 'failure_rate', window_s: 30 * 86_400 }, undefined],
    [{ type: 'consecutive', threshold: 5 }, undefined],
    [{ type: 'consecutive', threshold: 1 }, undefined],
    [{ type: 'consecutive', threshold: 1000 }, undefined],
    [null, /must be an object/],
    [[], /must be an object/],
    ['consecutive', /must be an object/],
    [{}, /unknown type; use "failure_rate" or "consecutive"/],
    [{ type: 'percent' }, /unknown type "percent"/],
    [{ type: 5 }, /unknown type;/],
    [{ type: 'failure_rate', treshold: 0.5 }, /unknown field "treshold" for failure_rate/],
    [{ type: 'consecutive', threshold: 5, window_s: 3600 }, /unknown field "window_s" for consecutive; it takes type, threshold/],
    [{ type: 'failure_rate', threshold: 0 }, /fraction above 0 and at most 1/],
    [{ type: 'failure_rate', threshold: -0.1 }, /fraction/],
    [{ type: 'failure_rate', threshold: 1.01 }, /fraction/],
    [{ type: 'failure_rate', threshold: 90 }, /write 0.9 for 90%/],
    [{ type: 'failure_rate', threshold: '0.9' }, /fraction/],
    [{ type: 'failure_rate', threshold: null }, /fraction/],
    [{ type: 'failure_rate', window_s: 59 }, /window_s .* from 60 \(1 minute\) to 2592000 \(30 days\)/],
    [{ type: 'failure_rate', window_s: 30 * 86_400 + 1 }, /window_s/],
    [{ type: 'failure_rate', window_s: 3600.5 }, /window_s/],
    [{ type: 'failure_rate', min_attempts: 0 }, /min_attempts must be a whole number from 1 to 10000/],
    [{ type: 'failure_rate', min_attempts: 10_001 }, /min_attempts/],
    [{ type: 'failure_rate', min_attempts: 2.5 }, /min_attempts/],
    [{ type: 'consecutive' }, /threshold for consecutive must be a whole number of failed attempts from 1 to 1000/],
    [{ type: 'consecutive', threshold: 0 }, /from 1 to 1000/],
    [{ type: 'consecutive', threshold: 1001 }, /from 1 to 1000/],
    [{ type: 'consecutive', threshold: 2.5 }, /whole number/],
    [{ type: 'consecutive', threshold: 0.9 }, /whole number/],
  ])('%j → %s', (policy, problem) => {
    const result = disablePolicyProblem(policy);
    if (problem === undefined) expect(result).toBeUndefined();
    else expect(result).toMatch(problem);
    expect(isDisablePolicy(policy)).toBe(problem === undefined);
  });

  it('defaults to failure_rate over 24 h, above 90%, with at least 10 attempts', () => {
    expect(DEFAULT_DISABLE_POLICY).toEqual({ type: 'failure_rate', threshold: 0.9, window_s: 86_400, min_attempts: 10 });
    expect(statsWindowMs(DEFAULT_DISABLE_POLICY)).toBe(24 * h);
    expect(statsWindowMs({ type: 'failure_rate', window_s: 600 })).toBe(10 * m);
  });
});
