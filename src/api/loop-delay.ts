/**
 * Whether this process's event loop is running late. Past capacity, requests wait in socket
 * buffers and in the event loop's queue before the in-flight limit ever sees them, so that
 * limit alone lets their latency grow for as long as the overload lasts (P6 in
 * docs/performance.md). While the loop is late, the shedder answers 503 to every request it
 * reads: a 503 costs far less than an admitted request, so a backlog in the loop drains instead
 * of growing. (On the 2-core bench machine this did not measurably shorten P6's waits: they were
 * mostly in the load generator's own queue. docs/performance.md has the runs.)
 *
 * The measure is how late a repeating timer fires, smoothed over a few ticks so that one long
 * pause (a GC, a big synchronous job) does not shed on its own. (Node's `monitorEventLoopDelay`
 * records nothing while the loop stays busy, only once it idles, so it cannot serve here.)
 */
export interface LoopDelayWatch {
  /** True while the smoothed delay is above the limit. */
  readonly late: () => boolean;
  readonly stop: () => void;
}

/** Weight of the newest tick: a sustained delay crosses the limit within a few ticks. */
const SMOOTHING = 1 / 3;

export function watchEventLoopDelay(opts: { maxDelayMs: number; sampleMs?: number; now?: () => number }): LoopDelayWatch {
  const sampleMs = opts.sampleMs ?? 100;
  const now = opts.now ?? (() => performance.now());
  let last = now();
  let delay = 0;
  const timer = setInterval(() => {
    const at = now();
    delay += SMOOTHING * (Math.max(0, at - last - sampleMs) - delay);
    last = at;
  }, sampleMs);
  timer.unref();
  return {
    late: () => delay > opts.maxDelayMs,
    stop: () => clearInterval(timer),
  };
}
