import { describe, expect, it } from 'vitest';
import { watchEventLoopDelay } from './loop-delay';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Keeps the event loop busy in slices of `sliceMs`, yielding between them as a saturated API does. */
async function saturate(ms: number, sliceMs: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const sliceEnd = Date.now() + sliceMs;
    while (Date.now() < sliceEnd);
    await new Promise((r) => setImmediate(r));
  }
}

describe('watchEventLoopDelay', () => {
  it('turns late while the loop runs behind and back once it has caught up', async () => {
    const watch = watchEventLoopDelay({ maxDelayMs: 60, sampleMs: 50 });
    try {
      await sleep(200);
      expect(watch.late()).toBe(false);
      // Every tick now waits for a 250 ms slice: about 200 ms late each time.
      await saturate(1_500, 250);
      expect(watch.delayMs()).toBeGreaterThan(60);
      expect(watch.late()).toBe(true);
      await sleep(600);
      expect(watch.late()).toBe(false);
    } finally {
      watch.stop();
    }
  });

  it('does not turn late for one long pause, nor for a loop busy in short slices', async () => {
    const watch = watchEventLoopDelay({ maxDelayMs: 100, sampleMs: 50 });
    try {
      await sleep(120);
      await saturate(200, 200);
      await sleep(60);
      expect(watch.late()).toBe(false);
      await saturate(500, 5);
      expect(watch.late()).toBe(false);
    } finally {
      watch.stop();
    }
  });
});
