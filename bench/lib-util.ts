/**
 * Small helpers every scenario uses: waiting, percentiles, progress on stderr, and the scale of a
 * run. Everything here is bench-only; none of it is product code.
 */
import { percentile } from './support';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Progress and notes go to stderr so that stdout carries only the results table. */
export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/**
 * Redraws one status line every `everyMs` until stopped. A carriage return keeps the scrollback
 * short; the final line is terminated so the next log starts clean.
 */
export function ticker(label: string, render: () => string, everyMs = 1000): () => void {
  const started = performance.now();
  const draw = () => process.stderr.write(`\r[${label}] ${((performance.now() - started) / 1000).toFixed(0)}s ${render()}    `);
  const timer = setInterval(draw, everyMs);
  return () => {
    clearInterval(timer);
    draw();
    process.stderr.write('\n');
  };
}

/** Polls until `ready` holds or the deadline passes; returns whether it held. */
export async function until(ready: () => boolean | Promise<boolean>, timeoutMs: number, pollMs = 50): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await ready()) return true;
    if (performance.now() > deadline) return false;
    await sleep(pollMs);
  }
}

export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN };
}

export const round = (value: number, digits = 1) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : value);

/** Counts occurrences of labels (status codes, error codes) for the report. */
export function tally(labels: Iterable<string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const label of labels) counts[label] = (counts[label] ?? 0) + 1;
  return counts;
}

/**
 * How big and how long each scenario is. `quick` exists for smoke runs on a shared 2-core machine:
 * it proves the bench works end to end in a few seconds per scenario; its figures are not results.
 */
export interface Scale {
  quick: boolean;
  /** Whole-run watchdog: the bench exits by itself after this, whatever hangs. */
  budgetMs: number;
  ceilingWindowMs: number;
  floor: { warmupMs: number; windowMs: number; latencySamples: number };
  /** Deliveries in flight that the closed loops keep (P1 and the floor use the same figure). */
  inFlight: number;
  p1: { warmupMs: number; windowMs: number };
  p2: { durationMs: number; maxEvents: number };
  p3: { endpoints: number; timeoutMs: number };
  p4: { singleEvents: number; tenEvents: number };
  p5: { parked: number; endpoints: number; getSamples: number; settleMs: number; timeoutMs: number };
  p6: { concurrency: number[]; windowMs: number; overloadMs: number; drainTimeoutMs: number };
  p7: { slowEndpoints: number; backlogEvents: number; holdMs: number; fastRatePerS: number; fastDurationMs: number; timeoutMs: number };
  /** Longest wait for in-flight deliveries to arrive after a closed loop stops. */
  drainTimeoutMs: number;
}

/** The run's sizes; `BENCH_P5_PARKED` overrides P5's count (e.g. a mid-size memory run). */
export function scaleFor(quick: boolean, env: NodeJS.ProcessEnv = process.env): Scale {
  const scale = baseScale(quick);
  if (env.BENCH_P5_PARKED) {
    const parked = Number(env.BENCH_P5_PARKED);
    if (!Number.isInteger(parked) || parked < 1) throw new Error(`BENCH_P5_PARKED: expected a positive integer, got "${env.BENCH_P5_PARKED}"`);
    scale.p5.parked = parked;
  }
  return scale;
}

function baseScale(quick: boolean): Scale {
  if (quick) {
    return {
      quick,
      budgetMs: 12 * 60_000,
      ceilingWindowMs: 2_000,
      floor: { warmupMs: 1_000, windowMs: 4_000, latencySamples: 20 },
      inFlight: 100,
      p1: { warmupMs: 1_000, windowMs: 4_000 },
      p2: { durationMs: 4_000, maxEvents: 400 },
      p3: { endpoints: 300, timeoutMs: 90_000 },
      p4: { singleEvents: 10, tenEvents: 3 },
      p5: { parked: 300, endpoints: 10, getSamples: 100, settleMs: 2_000, timeoutMs: 90_000 },
      p6: { concurrency: [16, 64], windowMs: 3_000, overloadMs: 3_000, drainTimeoutMs: 60_000 },
      p7: { slowEndpoints: 6, backlogEvents: 40, holdMs: 6_000, fastRatePerS: 5, fastDurationMs: 3_000, timeoutMs: 180_000 },
      drainTimeoutMs: 60_000,
    };
  }
  return {
    quick,
    budgetMs: 4 * 60 * 60_000,
    ceilingWindowMs: 10_000,
    floor: { warmupMs: 5_000, windowMs: 30_000, latencySamples: 100 },
    inFlight: 100,
    p1: { warmupMs: 5_000, windowMs: 60_000 },
    p2: { durationMs: 30_000, maxEvents: 50_000 },
    p3: { endpoints: 10_000, timeoutMs: 45 * 60_000 },
    p4: { singleEvents: 100, tenEvents: 20 },
    p5: { parked: 20_000, endpoints: 10, getSamples: 500, settleMs: 15_000, timeoutMs: 45 * 60_000 },
    p6: { concurrency: [8, 32, 128], windowMs: 20_000, overloadMs: 15_000, drainTimeoutMs: 10 * 60_000 },
    p7: { slowEndpoints: 6, backlogEvents: 100, holdMs: 15_000, fastRatePerS: 5, fastDurationMs: 10_000, timeoutMs: 10 * 60_000 },
    drainTimeoutMs: 10 * 60_000,
  };
}

export const SCENARIOS = ['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7'] as const;
export type ScenarioId = (typeof SCENARIOS)[number];

export function parseOnly(value: string | undefined): Set<ScenarioId> {
  if (!value) return new Set(SCENARIOS);
  const wanted = value.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  const unknown = wanted.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
  if (unknown.length) throw new Error(`BENCH_ONLY: unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.join(', ')})`);
  return new Set(wanted as ScenarioId[]);
}
