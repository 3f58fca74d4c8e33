/**
 * Disable policies (PRODUCT.md §5): when the endpoint-health workflow turns a failing endpoint
 * off. The workflow's check (activities/health.ts) first tries `verdictFromRecent` on the newest
 * attempts, and only when that cannot decide reads the whole window's `AttemptStats` for
 * `evaluatePolicy`; while the verdict is 'watching' it sleeps `nextCheckDelayMs` before asking again. `410 Gone` disables at once
 * under every policy; the caller handles it from the attempt itself, not from these statistics.
 */
import { formatDuration } from './schedule';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const DAY_S = 86_400;

export const DisablePolicyTypes = { failure_rate: 'failure_rate', consecutive: 'consecutive' } as const;
export type DisablePolicyType = (typeof DisablePolicyTypes)[keyof typeof DisablePolicyTypes];

/** Field names are the API's (snake_case) because the policy is stored and returned as given. */
export type DisablePolicy =
  | {
      type: 'failure_rate';
      /** Fraction of failed attempts that must be exceeded; default 0.9. */
      threshold?: number;
      /** Length of the window in seconds; default 86 400 (24 h). */
      window_s?: number;
      /** Fewest attempts in the window before the rate counts; default 10. */
      min_attempts?: number;
    }
  | { type: 'consecutive'; threshold: number };

export const FAILURE_RATE_DEFAULTS = { threshold: 0.9, window_s: DAY_S, min_attempts: 10 } as const;
export const DEFAULT_DISABLE_POLICY: DisablePolicy = { type: 'failure_rate', ...FAILURE_RATE_DEFAULTS };

/** The policy with the defaults of the fields it leaves out: what applies, and what the API shows. */
export function withPolicyDefaults(policy: DisablePolicy): DisablePolicy {
  if (policy.type !== 'failure_rate') return policy;
  const { type, ...given } = policy;
  return { type, ...FAILURE_RATE_DEFAULTS, ...given };
}

export const MIN_WINDOW_S = 60;
export const MAX_WINDOW_S = 30 * DAY_S;
export const MAX_MIN_ATTEMPTS = 10_000;
export const MAX_CONSECUTIVE = 1000;

/**
 * The part of the window the current run of failures must cover (see `failingSince`). Not 1.0:
 * retries and traffic are not continuous, so the first failure inside a sliding window sits a
 * little after the window's start even during an outage that began long before it.
 */
export const SPREAD_FRACTION = 0.9;
export const MIN_CHECK_MS = 1 * M;
/**
 * consecutive's timer. Its verdict changes only with a new attempt, and every failure wakes the
 * workflow with a signal; the timer covers a signal lost with a process that died, and an
 * endpoint that fell idle while failing is then checked a few times an hour, not every minute,
 * until its failures leave the window.
 */
export const CONSECUTIVE_CHECK_MS = 10 * M;
export const MAX_CHECK_MS = 1 * H;

const FIELDS: Record<DisablePolicyType, readonly string[]> = {
  failure_rate: ['type', 'threshold', 'window_s', 'min_attempts'],
  consecutive: ['type', 'threshold'],
};

function isWhole(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** Validates a disable policy; returns the reason it is refused, or undefined when it is fine. */
export function disablePolicyProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'must be an object such as {"type": "failure_rate"} or {"type": "consecutive", "threshold": 5}';
  }
  const policy = value as Record<string, unknown>;
  const { type } = policy;
  if (type !== 'failure_rate' && type !== 'consecutive') {
    const shown = typeof type === 'string' ? ` ${JSON.stringify(type.slice(0, 64))}` : '';
    return `unknown type${shown}; use "failure_rate" or "consecutive"`;
  }
  // Unknown fields are refused rather than dropped, so a typo such as "treshold" cannot
  // silently leave the default in force.
  for (const key of Object.keys(policy)) {
    if (!FIELDS[type].includes(key)) {
      return `unknown field ${JSON.stringify(key.slice(0, 64))} for ${type}; it takes ${FIELDS[type].join(', ')}`;
    }
  }
  if (type === 'consecutive') {
    return isWhole(policy.threshold, 1, MAX_CONSECUTIVE)
      ? undefined
      : `threshold for consecutive must be a whole number of failed attempts from 1 to ${MAX_CONSECUTIVE}`;
  }
  const { threshold, window_s: windowS, min_attempts: minAttempts } = policy;
  if (threshold !== undefined) {
    if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold <= 0 || threshold > 1) {
      const hint = typeof threshold === 'number' && threshold > 1 && threshold <= 100 ? `; write ${threshold / 100} for ${threshold}%` : '';
      return `threshold for failure_rate must be a fraction above 0 and at most 1, such as 0.9 for 90%${hint}`;
    }
  }
  if (windowS !== undefined && !isWhole(windowS, MIN_WINDOW_S, MAX_WINDOW_S)) {
    return `window_s must be a whole number of seconds from ${MIN_WINDOW_S} (1 minute) to ${MAX_WINDOW_S} (30 days)`;
  }
  if (minAttempts !== undefined && !isWhole(minAttempts, 1, MAX_MIN_ATTEMPTS)) {
    return `min_attempts must be a whole number from 1 to ${MAX_MIN_ATTEMPTS}`;
  }
  return undefined;
}

export function isDisablePolicy(value: unknown): value is DisablePolicy {
  return disablePolicyProblem(value) === undefined;
}

/**
 * The window the store computes `AttemptStats` over. `consecutive` has no window of its own; the
 * default one only bounds the counts shown in reasons (its streak is not bounded, see below).
 */
export function statsWindowMs(policy: DisablePolicy): number {
  const windowS = policy.type === 'failure_rate' ? policy.window_s ?? FAILURE_RATE_DEFAULTS.window_s : FAILURE_RATE_DEFAULTS.window_s;
  return windowS * S;
}

/**
 * What the store can compute cheaply for one endpoint over `statsWindowMs` ending now: two counts
 * and three timestamps from one indexed range scan over the endpoint's attempts.
 */
export interface AttemptStats {
  attempts: number;
  failures: number;
  firstFailureAt: Date | null;
  lastFailureAt: Date | null;
  lastSuccessAt: Date | null;
  /**
   * Failed attempts since the latest success (or since the health record was reset). Unlike the
   * rest it is not cut at the window's start: "5 consecutive failures" on an endpoint that gets
   * one event a day must still count 5. The store stops counting at the policy's threshold (and
   * counts nothing for `failure_rate`, which does not use it).
   */
  consecutiveFailures: number;
}

/**
 * The newest attempts in the window, which most checks need and nothing more: read from the
 * newest end of the endpoint's attempts, so their cost does not grow with its traffic.
 */
export interface RecentAttempts {
  /** The newest attempt in the window. */
  latest: { at: Date; succeeded: boolean } | null;
  /** The newest success in the window (read for failure_rate only; else null). */
  lastSuccessAt: Date | null;
  /** As in `AttemptStats` (counted for consecutive only; else 0). */
  consecutiveFailures: number;
}

export const HealthVerdicts = { disable: 'disable', healthy: 'healthy', watching: 'watching' } as const;
export type HealthVerdict = (typeof HealthVerdicts)[keyof typeof HealthVerdicts];

export interface PolicyEvaluation {
  verdict: HealthVerdict;
  /** One line for logs, the workflow summary and, on disable, `disabled_reason`. */
  reason: string;
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1).replace(/\.0$/, '')}%`;
}

/**
 * The start of the current unbroken run of failures, when the window shows it: the first failure
 * in the window, provided no success came after it. Null when there is no failure, or when a
 * success after the first failure proves the endpoint worked at some point since.
 *
 * The "spread across the whole window" rule of §5 is then: failingSince ≤ now − 0.9 × window.
 * In words, the endpoint has failed every attempt for at least 90% of the window. Only the first
 * and last failure and the last success are cheap to know, and with those alone "95% failed" can
 * hide a burst: one failure 23 h ago, a success 22 h ago and 40 failures in the last hour look
 * spread by their first failure. Requiring no success since the first failure rules that out;
 * the gaps between failures are covered by retries, because every failed delivery keeps probing
 * the endpoint on its schedule and any success among those probes breaks the run. The price is
 * that an endpoint which fails 95% but succeeds now and then is never disabled by failure_rate:
 * a false disable cuts a customer off, a missed one only costs retries that the schedule bounds.
 */
function failingSince(stats: AttemptStats): Date | null {
  const first = stats.firstFailureAt;
  if (first === null) return null;
  if (stats.lastSuccessAt !== null && stats.lastSuccessAt >= first) return null;
  return first;
}

/** The latest attempt succeeded, or nothing failed in the window: there is nothing to watch. */
function nothingToWatch(stats: AttemptStats): boolean {
  if (stats.failures === 0 || stats.lastFailureAt === null) return true;
  return stats.lastSuccessAt !== null && stats.lastSuccessAt > stats.lastFailureAt;
}

function consecutiveVerdict(threshold: number, failures: number): PolicyEvaluation {
  const streak = `${failures} consecutive failed attempts`;
  return failures >= threshold ? { verdict: 'disable', reason: `${streak} (policy: disable at ${threshold})` } : { verdict: 'watching', reason: `${streak}; disables at ${threshold}` };
}

/**
 * The verdict the newest attempts decide alone, with when to look again; undefined when only the
 * window's counts can decide (`evaluatePolicy` on `AttemptStats`). It agrees with
 * `evaluatePolicy` whenever it answers (a randomized test holds it to that), and answers every
 * check but one of failure_rate on an endpoint with no success for 90% of the window, so a busy
 * endpoint that fails now and then costs no scan of its successes (PRODUCT.md §5):
 * - the newest attempt succeeded, or there is none: healthy;
 * - consecutive: the streak decides;
 * - failure_rate: a success within the last 90% of the window rules out a disable, since the run
 *   of failures must cover that much (see `failingSince`); look again when it no longer could.
 */
export function verdictFromRecent(policy: DisablePolicy, recent: RecentAttempts, now: Date): (PolicyEvaluation & { nextCheckMs: number }) | undefined {
  const { latest } = recent;
  if (latest === null) return { verdict: 'healthy', reason: 'no failed attempts in the window', nextCheckMs: 0 };
  if (latest.succeeded) return { verdict: 'healthy', reason: `the latest attempt succeeded (${latest.at.toISOString()})`, nextCheckMs: 0 };
  if (policy.type === 'consecutive') return { ...consecutiveVerdict(policy.threshold, recent.consecutiveFailures), nextCheckMs: CONSECUTIVE_CHECK_MS };
  const needed = SPREAD_FRACTION * statsWindowMs(policy);
  const success = recent.lastSuccessAt;
  if (success === null || now.getTime() - success.getTime() >= needed) return undefined;
  return {
    verdict: 'watching',
    reason: `an attempt succeeded ${formatDuration(now.getTime() - success.getTime())} ago (${success.toISOString()}); disables only after ${formatDuration(needed)} without a success`,
    nextCheckMs: Math.min(MAX_CHECK_MS, Math.max(MIN_CHECK_MS, Math.ceil(success.getTime() + needed - now.getTime()))),
  };
}

/**
 * 'disable' turns the endpoint off; 'healthy' ends the health workflow (the next failure starts a
 * new one); 'watching' means look again after `nextCheckDelayMs`.
 */
export function evaluatePolicy(policy: DisablePolicy, stats: AttemptStats, now: Date): PolicyEvaluation {
  if (nothingToWatch(stats)) {
    const reason = stats.failures === 0 ? 'no failed attempts in the window' : `the latest attempt succeeded (${stats.lastSuccessAt?.toISOString()})`;
    return { verdict: 'healthy', reason };
  }
  if (policy.type === 'consecutive') return consecutiveVerdict(policy.threshold, stats.consecutiveFailures);
  const threshold = policy.threshold ?? FAILURE_RATE_DEFAULTS.threshold;
  const minAttempts = policy.min_attempts ?? FAILURE_RATE_DEFAULTS.min_attempts;
  const windowMs = statsWindowMs(policy);
  const window = formatDuration(windowMs);
  const rate = stats.attempts > 0 ? stats.failures / stats.attempts : 0;
  const counts = `${stats.failures} of ${stats.attempts} attempts failed (${percent(rate)}) in the last ${window}`;

  if (stats.attempts < minAttempts) return { verdict: 'watching', reason: `${counts}; needs at least ${minAttempts} attempts` };
  // "More than" the threshold (§5: more than 90%), except that a threshold of 1 means every attempt.
  const rateExceeded = stats.failures === stats.attempts || rate > threshold;
  if (!rateExceeded) return { verdict: 'watching', reason: `${counts}; disables above ${percent(threshold)}` };

  const since = failingSince(stats);
  const needed = SPREAD_FRACTION * windowMs;
  if (since === null) {
    return { verdict: 'watching', reason: `${counts}, but an attempt succeeded after the first failure` };
  }
  const failingFor = now.getTime() - since.getTime();
  if (failingFor < needed) {
    return {
      verdict: 'watching',
      reason: `${counts}, failing only for ${formatDuration(failingFor)}; needs ${formatDuration(needed)} without a success`,
    };
  }
  return { verdict: 'disable', reason: `${counts}, with no success since ${since.toISOString()}` };
}

/**
 * How long the health workflow sleeps before evaluating again, meaningful when the verdict is
 * 'watching'. consecutive: CONSECUTIVE_CHECK_MS (each failure wakes it anyway). failure_rate: until the spread condition could first hold, which is 0.9 × window
 * after the start of the current run of failures. That run began at the first failure, or after
 * the last success if one followed it, so max(firstFailureAt, lastSuccessAt) is the earliest
 * start (checking early is harmless, late is not). The result is clamped to
 * [MIN_CHECK_MS, MAX_CHECK_MS]: the floor keeps a failing endpoint to one cheap query a minute,
 * the ceiling makes a recovery end the workflow within the hour.
 */
export function nextCheckDelayMs(policy: DisablePolicy, stats: AttemptStats, now: Date): number {
  if (policy.type === 'consecutive') return CONSECUTIVE_CHECK_MS;
  if (stats.firstFailureAt === null) return MAX_CHECK_MS;
  const runStart = Math.max(stats.firstFailureAt.getTime(), stats.lastSuccessAt?.getTime() ?? -Infinity);
  const spreadAt = runStart + SPREAD_FRACTION * statsWindowMs(policy);
  return Math.min(MAX_CHECK_MS, Math.max(MIN_CHECK_MS, Math.ceil(spreadAt - now.getTime())));
}
