import { createServer, type AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_RESTART_BACKOFF_MS, portListens, REFUSALS_BEFORE_RESTART, superviseDevServer, type Supervisor } from './dev-server-supervisor';

const INTERVAL_MS = 1_000;

/** A supervisor over a scripted port: `up` says whether it listens, `restart` what a restart does. */
function scripted(restart: () => Promise<void> = async () => undefined) {
  const state = { up: true, checks: 0 };
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const restartSpy = vi.fn(restart);
  const supervisor = superviseDevServer({
    host: '127.0.0.1',
    port: 7233,
    intervalMs: INTERVAL_MS,
    logger,
    restart: restartSpy,
    listening: async () => {
      state.checks += 1;
      return state.up;
    },
  });
  return { state, logger, restart: restartSpy, supervisor };
}

describe('superviseDevServer', () => {
  let running: Supervisor[] = [];
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(async () => {
    await Promise.all(running.map((s) => s.stop()));
    running = [];
    vi.useRealTimers();
  });
  const start = (...args: Parameters<typeof scripted>) => {
    const s = scripted(...args);
    running.push(s.supervisor);
    return s;
  };

  it('leaves a listening server alone', async () => {
    const s = start();
    await vi.advanceTimersByTimeAsync(10 * INTERVAL_MS);
    expect(s.state.checks).toBe(10);
    expect(s.restart).not.toHaveBeenCalled();
  });

  it(`restarts after ${REFUSALS_BEFORE_RESTART} refusals in a row, not after one`, async () => {
    const s = start(async () => {
      s.state.up = true;
    });
    s.state.up = false;
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(s.restart).not.toHaveBeenCalled();
    // A refusal followed by an answer starts the count again.
    s.state.up = true;
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    s.state.up = false;
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(s.restart).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(s.restart).toHaveBeenCalledTimes(1);
    expect(s.logger.warn).toHaveBeenCalledTimes(1);
    expect(s.logger.info).toHaveBeenCalledWith({ port: 7233, restarts: 1 }, 'the Temporal dev server is running again');
    await vi.advanceTimersByTimeAsync(5 * INTERVAL_MS);
    expect(s.restart).toHaveBeenCalledTimes(1);
  });

  it('backs off after failed restarts, doubling up to the cap, and recovers', async () => {
    let failures = 3;
    const restartTimes: number[] = [];
    const s = start(async () => {
      restartTimes.push(Date.now());
      if (failures-- > 0) throw new Error('port taken');
      s.state.up = true;
    });
    s.state.up = false;
    const t0 = Date.now();
    await vi.advanceTimersByTimeAsync(30 * INTERVAL_MS);
    // Restarts at 2 s, then backoffs of 2, 4 and 8 intervals after each failure.
    expect(restartTimes.map((t) => (t - t0) / INTERVAL_MS)).toEqual([2, 4, 8, 16]);
    expect(s.logger.error).toHaveBeenCalledTimes(3);
    expect(s.logger.info).toHaveBeenCalledTimes(1); // one restart that worked
  });

  it('caps the backoff', async () => {
    const s = start(() => Promise.reject(new Error('no CLI')));
    s.state.up = false;
    await vi.advanceTimersByTimeAsync(10 * MAX_RESTART_BACKOFF_MS);
    const waits = s.logger.error.mock.calls.map(([fields]) => (fields as { retryInMs: number }).retryInMs);
    expect(Math.max(...waits)).toBe(MAX_RESTART_BACKOFF_MS);
    expect(waits.slice(0, 3)).toEqual([2 * INTERVAL_MS, 4 * INTERVAL_MS, 8 * INTERVAL_MS]);
  });

  it('stop() waits for a restart under way and then never restarts again', async () => {
    let finish!: () => void;
    const s = start(() => new Promise<void>((resolve) => (finish = resolve)));
    s.state.up = false;
    await vi.advanceTimersByTimeAsync(2 * INTERVAL_MS);
    expect(s.restart).toHaveBeenCalledTimes(1);
    let stopped = false;
    const stopping = s.supervisor.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(stopped).toBe(false);
    finish();
    await stopping;
    await vi.advanceTimersByTimeAsync(10 * INTERVAL_MS);
    expect(s.restart).toHaveBeenCalledTimes(1);
  });

  it('does not restart once stopped, even when a check under way at the stop finds the port refusing', async () => {
    const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const restart = vi.fn(async () => undefined);
    let answer!: (up: boolean) => void;
    let checks = 0;
    const supervisor = superviseDevServer({
      host: '127.0.0.1',
      port: 7233,
      intervalMs: INTERVAL_MS,
      logger,
      restart,
      // The first check refuses at once; the second stays pending until answered.
      listening: () => (++checks === 1 ? Promise.resolve(false) : new Promise<boolean>((resolve) => (answer = resolve))),
    });
    await vi.advanceTimersByTimeAsync(2 * INTERVAL_MS);
    const stopping = supervisor.stop();
    answer(false);
    await stopping;
    expect(restart).not.toHaveBeenCalled();
  });

  it('after a failed restart, a port that answers is not taken for ours: it keeps restarting', async () => {
    let taken = true;
    const s = start(async () => {
      if (taken) throw new Error('port 7233 is already in use');
    });
    s.state.up = false;
    await vi.advanceTimersByTimeAsync(2 * INTERVAL_MS);
    expect(s.restart).toHaveBeenCalledTimes(1);
    // Another process now listens on the port.
    s.state.up = true;
    await vi.advanceTimersByTimeAsync(2 * INTERVAL_MS);
    expect(s.restart).toHaveBeenCalledTimes(2);
    taken = false;
    await vi.advanceTimersByTimeAsync(4 * INTERVAL_MS);
    expect(s.restart).toHaveBeenCalledTimes(3);
    expect(s.logger.info).toHaveBeenCalledTimes(1); // one restart that worked
    // Ours again: answering resets, and nothing more happens.
    await vi.advanceTimersByTimeAsync(10 * INTERVAL_MS);
    expect(s.restart).toHaveBeenCalledTimes(3);
  });
});

describe('portListens', () => {
  it('is true for a listening port and false once nothing listens there', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    expect(await portListens('127.0.0.1', port)).toBe(true);
    await new Promise((resolve) => server.close(resolve));
    expect(await portListens('127.0.0.1', port)).toBe(false);
  });
});
