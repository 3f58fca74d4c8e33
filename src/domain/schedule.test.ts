import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, retryDelayMs, scheduleDelaysMs, scheduleProblem, SchedulePresets } from './schedule';

const s = 1000;
const m = 60 * s;
const h = 60 * m;

describe('schedule presets (PRODUCT.md §5)', () => {
  it.each([
    ['standard', [5 * s, 5 * m, 30 * m, 2 * h, 5 * h, 10 * h, 14 * h, 20 * h, 24 * h]],
    ['short', [1 * m, 10 * m, 1 * h]],
    ['steady', [1 * m, 5 * m, 30 * m, 2 * h]],
    ['patient', [5 * m, 25 * m, 1 * h + 45 * m, 7 * h + 5 * m, 28 * h + 25 * m]],
    ['brief', [60 * s, 5 * m]],
  ] as const)('%s has its exact delays', (name, delays) => {
    expect(SchedulePresets[name]).toEqual(delays);
    expect(scheduleDelaysMs(name)).toEqual(delays);
  });
});

describe('durations', () => {
  it.each([
    ['90s', 90 * s],
    ['5m', 5 * m],
    ['2h', 2 * h],
    ['1d', 24 * h],
    ['250ms', 250],
    ['1.5h', 90 * m],
    [1500, 1500],
    ['5', undefined],
    ['5 minutes', undefined],
    ['-5s', undefined],
    [1.5, undefined],
  ])('%j → %j', (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it.each([
    [5000, '5s'],
    [1_800_000, '30m'],
    [5_400_000, '1h30m'],
    [250, '250ms'],
    [90_000_000, '1d1h'],
  ])('formats %d as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('schedule validation', () => {
  it.each([
    ['standard', undefined],
    [['30s', '5m', '2h'], undefined],
    [[100, '1s'], undefined],
    ['hourly', /unknown preset/],
    [[], /at least one/],
    [Array.from({ length: 21 }, () => '1s'), /at most 20/],
    [['-1s'], /not a duration/],
    [[-5], /negative/],
    [['8d'], /longer than 7 days/],
    [['soon'], /not a duration/],
    [[true], /duration/],
    [42, /preset name or a list/],
  ])('%j → %s', (schedule, problem) => {
    const result = scheduleProblem(schedule);
    if (problem === undefined) expect(result).toBeUndefined();
    else expect(result).toMatch(problem);
  });
});

describe('retry delays with jitter', () => {
  const delays = scheduleDelaysMs('standard');
  it('spans ±20% of the step, and stops when the schedule is spent', () => {
    expect(retryDelayMs(delays, 0, 0)).toBe(5 * s);
    expect(retryDelayMs(delays, 0, -1)).toBe(4 * s);
    expect(retryDelayMs(delays, 0, 1)).toBe(6 * s);
    expect(retryDelayMs(delays, 2, 0.5)).toBe(33 * m);
    expect(retryDelayMs(delays, 8, 0)).toBe(24 * h);
    expect(retryDelayMs(delays, 9, 0)).toBeNull();
  });

  it('clamps jitter outside [-1, 1]', () => {
    expect(retryDelayMs([1000], 0, 7)).toBe(1200);
    expect(retryDelayMs([1000], 0, -7)).toBe(800);
  });

  it('keeps every jittered delay within the band', () => {
    for (let i = 0; i < 1000; i++) {
      const j = Math.random() * 2 - 1;
      const d = retryDelayMs(delays, 3, j)!;
      expect(d).toBeGreaterThanOrEqual(0.8 * 2 * h);
      expect(d).toBeLessThanOrEqual(1.2 * 2 * h);
    }
  });
});
