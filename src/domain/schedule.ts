/**
 * Retry schedules (PRODUCT.md §5): a list of delays between attempts. The first attempt is
 * immediate; delay i comes before attempt i + 2; when the list is spent the delivery fails.
 */
const S = 1000;
const M = 60 * S;
const H = 60 * M;

export const SchedulePresets = {
  standard: [5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 14 * H, 20 * H, 24 * H],
  short: [1 * M, 10 * M, 1 * H],
  steady: [1 * M, 5 * M, 30 * M, 2 * H],
  patient: [5 * M, 25 * M, 105 * M, 425 * M, 1705 * M],
  brief: [60 * S, 5 * M],
} as const satisfies Record<string, readonly number[]>;
export type SchedulePreset = keyof typeof SchedulePresets;
export const DEFAULT_SCHEDULE: SchedulePreset = 'standard';

export const MAX_SCHEDULE_STEPS = 20;
export const MAX_STEP_MS = 7 * 24 * H;
export const JITTER = 0.2;

/** What the API stores: a preset name or an explicit list of durations. */
export type RetrySchedule = SchedulePreset | readonly (string | number)[];

const UNIT_MS: Record<string, number> = { ms: 1, s: S, m: M, h: H, d: 24 * H };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Parses `"90s"`, `"2h"`, `"500ms"` or a number of milliseconds; returns undefined if malformed. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  const match = DURATION.exec(value.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2]!]!;
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

export function isSchedulePreset(value: unknown): value is SchedulePreset {
  return typeof value === 'string' && Object.hasOwn(SchedulePresets, value);
}

/** Validates a schedule; returns the reason it is refused, or undefined when it is fine. */
export function scheduleProblem(schedule: unknown): string | undefined {
  if (typeof schedule === 'string') {
    return isSchedulePreset(schedule) ? undefined : `unknown preset "${schedule}"; use one of ${Object.keys(SchedulePresets).join(', ')} or a list`;
  }
  if (!Array.isArray(schedule)) return 'must be a preset name or a list of durations';
  if (schedule.length === 0) return 'must list at least one delay';
  if (schedule.length > MAX_SCHEDULE_STEPS) return `at most ${MAX_SCHEDULE_STEPS} delays`;
  for (const step of schedule as unknown[]) {
    if (typeof step !== 'string' && typeof step !== 'number') return 'each delay must be a duration such as "90s" or milliseconds';
    const ms = parseDuration(step);
    if (ms === undefined) return `"${String(step)}" is not a duration such as "90s", "5m", "2h" or milliseconds`;
    if (ms < 0) return 'delays may not be negative';
    if (ms > MAX_STEP_MS) return `"${String(step)}" is longer than 7 days`;
  }
  return undefined;
}

/** Resolves a valid schedule to delays in milliseconds. */
export function scheduleDelaysMs(schedule: RetrySchedule): number[] {
  if (typeof schedule === 'string') return [...SchedulePresets[schedule]];
  return schedule.map((step) => parseDuration(step) ?? 0);
}

/**
 * The delay before the retry with index `retryIndex` (0 = the wait after the first failure),
 * or null when the schedule is spent. `jitter` in [-1, 1] scales the ±20% spread; it comes
 * from the workflow's deterministic random so a replay computes the same delay.
 */
export function retryDelayMs(delaysMs: readonly number[], retryIndex: number, jitter: number): number | null {
  const base = delaysMs[retryIndex];
  if (base === undefined) return null;
  const clamped = Math.max(-1, Math.min(1, jitter));
  return Math.round(base * (1 + JITTER * clamped));
}

/** Human form for timer summaries: 5000 → "5s", 1800000 → "30m", 5400000 → "1h30m". */
export function formatDuration(ms: number): string {
  if (ms < S) return `${ms}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / S);
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
