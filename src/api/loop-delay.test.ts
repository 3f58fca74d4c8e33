/**
 * The watch on a manual clock and fake timers: each tick's lateness is set by the test, so the
 * smoothing is checked exactly and nothing depends on this machine's load. test/api.test.ts
 * checks the real thing: a busy event loop gets 503s from a running API.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchEventLoopDelay, type LoopDelayWatch } from './loop-delay';

const SAMPLE_MS = 100;

describe('watchEventLoopDelay', () => {
  let clock = 0;
  let watch: LoopDelayWatch;
  beforeEach(() => {
    vi.useFakeTimers();
    clock = 0;
    watch = watchEventLoopDelay({ maxDelayMs: 200, sampleMs: SAMPLE_MS, now: () => clock });
  });
  afterEach(() => {
    watch.stop();
    vi.useRealTimers();
  });

  /** Fires the next tick `lateMs` after it was due, as a loop that busy would. */
  function tick(lateMs: number) {
    clock += SAMPLE_MS + lateMs;
    vi.advanceTimersByTime(SAMPLE_MS);
  }

  it('stays on time while ticks are on time', () => {
    for (let i = 0; i < 5; i++) tick(0);
    expect(watch.late()).toBe(false);
  });

  it('does not turn late for one long pause on its own', () => {
    tick(0);
    tick(500);
    // A third of 500 (167 ms): the pause counts, below the limit; a second one crosses it (278 ms).
    expect(watch.late()).toBe(false);
    tick(500);
    expect(watch.late()).toBe(true);
  });

  it('turns late under a sustained delay and back once the ticks are on time again', () => {
    const verdicts: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      tick(300);
      verdicts.push(watch.late());
    }
    // 100, 167, 211, 241 ms: late from the third tick.
    expect(verdicts).toEqual([false, false, true, true]);
    const recovering: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      tick(0);
      recovering.push(watch.late());
    }
    // 160, 107, 71 ms.
    expect(recovering).toEqual([false, false, false]);
  });

  it('stops ticking once stopped', () => {
    watch.stop();
    // A running watch would be late after this (333 ms).
    tick(1_000);
    expect(watch.late()).toBe(false);
  });
});
