/**
 * Load shapes. A closed loop (N workers, each starting its next operation when the last one ends)
 * finds the saturated rate without building an unbounded backlog; an open loop (operations started
 * on a fixed schedule, whatever is outstanding) measures latency at a chosen rate and shows what
 * happens when that rate is more than the system can take.
 */
import { cpuPer, sampleCpu, type CpuSample } from './lib-proc';
import { sleep, ticker } from './lib-util';

export interface WindowResult {
  /** Operations completed inside the measured window. */
  done: number;
  perS: number;
  windowMs: number;
  cpu: ReturnType<typeof cpuPer>;
  failures: number;
  /** Change of `probe` over the window (e.g. store statements), when one was given. */
  probeDelta: number;
}

/**
 * Runs `op` from `concurrency` workers for warmup + window and counts completions in the window
 * only, so start-up (connections, JIT, caches) is not averaged in. `op` resolves false on a failure.
 */
export async function closedLoop(opts: {
  label: string;
  concurrency: number;
  warmupMs: number;
  windowMs: number;
  op: (i: number) => Promise<boolean>;
  probe?: () => number;
}): Promise<WindowResult> {
  const probe = opts.probe ?? (() => 0);
  let stop = false;
  let next = 0;
  let done = 0;
  let failures = 0;
  const workers = Array.from({ length: opts.concurrency }, async () => {
    while (!stop) {
      const ok = await opts.op(next++);
      if (ok) done++;
      else failures++;
    }
  });
  const stopTicker = ticker(opts.label, () => `${done} done, ${failures} failed`);
  await sleep(opts.warmupMs);
  const start = { done, failures, cpu: sampleCpu(), probe: probe() };
  await sleep(opts.windowMs);
  const end = { done, failures, cpu: sampleCpu(), probe: probe() };
  stop = true;
  await Promise.all(workers);
  stopTicker();
  const counted = end.done - start.done;
  const windowMs = end.cpu.at - start.cpu.at;
  return { done: counted, perS: (counted * 1000) / windowMs, windowMs, cpu: cpuPer(start.cpu, end.cpu, Math.max(1, counted)), failures: end.failures - start.failures, probeDelta: end.probe - start.probe };
}

/**
 * Starts `count` operations at `ratePerS` without waiting for earlier ones (open loop), and
 * resolves with every operation's result once all have settled. Timer granularity makes sub-ms
 * spacing bursty; the schedule catches up rather than drifting, so the average rate holds.
 */
export async function openLoop<T>(count: number, ratePerS: number, op: (i: number) => Promise<T>, label: string): Promise<{ results: T[]; sendMs: number; totalMs: number }> {
  const started = performance.now();
  const pending: Promise<T>[] = [];
  let settled = 0;
  const stopTicker = ticker(label, () => `${pending.length}/${count} sent, ${settled} answered`);
  for (let i = 0; i < count; i++) {
    const wait = started + (i * 1000) / ratePerS - performance.now();
    if (wait >= 1) await sleep(wait);
    pending.push(
      op(i).finally(() => {
        settled++;
      }),
    );
  }
  const sendMs = performance.now() - started;
  const results = await Promise.all(pending);
  stopTicker();
  return { results, sendMs, totalMs: performance.now() - started };
}

export type { CpuSample };

/**
 * Keeps at most `limit` deliveries in flight (reserved but not yet seen by the receiver), so a
 * closed loop over the HTTP API is bounded by end-to-end completions, not by how fast the API
 * accepts. One shared timer releases waiters; per-producer polling would burn the CPU we measure.
 */
export class InFlightGate {
  private reserved = 0;
  private readonly waiters: { n: number; release: () => void }[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly limit: number,
    private readonly delivered: () => number,
  ) {
    this.timer = setInterval(() => this.pump(), 2);
  }

  get inFlight(): number {
    return this.reserved - this.delivered();
  }

  get total(): number {
    return this.reserved;
  }

  reserve(n: number): Promise<void> {
    return new Promise((release) => {
      this.waiters.push({ n, release });
      this.pump();
    });
  }

  /** Gives back a reservation whose event was not accepted. */
  cancel(n: number): void {
    this.reserved -= n;
  }

  close(): void {
    clearInterval(this.timer);
    for (const w of this.waiters.splice(0)) w.release();
  }

  private pump(): void {
    while (this.waiters.length && this.inFlight + this.waiters[0]!.n <= this.limit) {
      const w = this.waiters.shift()!;
      this.reserved += w.n;
      w.release();
    }
  }
}
