/**
 * Starts the local dev server again when it has gone (killed, crashed, out of memory). Its state
 * lives in its database file, so a new server on the same port and file carries on: the worker's
 * and the clients' connections retry until it answers, timers that came due meanwhile fire, and
 * the dispatcher's sweep starts the fan-outs of events accepted while it was down.
 *
 * "Gone" means the port refuses connections on two checks in a row. A server too busy to answer
 * still accepts them, so load never causes a restart.
 */
import { connect } from 'node:net';
import type { Logger } from './logger';

/** Refused checks in a row before a restart: one refusal can be the server's own restart of its listener. */
export const REFUSALS_BEFORE_RESTART = 2;
/** Longest wait between two restarts that failed (the CLI was removed, the port was taken). */
export const MAX_RESTART_BACKOFF_MS = 60_000;

export interface SupervisorOptions {
  host: string;
  port: number;
  intervalMs: number;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Stops what is left of the old server and starts a new one on the same port and file. */
  restart(): Promise<void>;
  /** Whether something accepts connections at host:port; tests replace it. */
  listening?: (host: string, port: number) => Promise<boolean>;
}

export interface Supervisor {
  /** Stops checking; waits for a check or restart under way. */
  stop(): Promise<void>;
}

export function superviseDevServer(opts: SupervisorOptions): Supervisor {
  const { host, port, logger } = opts;
  const listening = opts.listening ?? portListens;
  let refusals = 0;
  let restarts = 0;
  let failedRestarts = 0;
  let nextRestartAt = 0;
  let stopped = false;
  let current: Promise<void> | undefined;

  async function check(): Promise<void> {
    // Once a restart has failed, something listening may be another process that took the port
    // (another `npm start`): it is not ours, so keep restarting (refused while the port is taken).
    if (failedRestarts === 0 && (await listening(host, port))) {
      refusals = 0;
      return;
    }
    refusals += 1;
    if (stopped || refusals < REFUSALS_BEFORE_RESTART || Date.now() < nextRestartAt) return;
    logger.warn({ port }, 'the Temporal dev server has stopped; starting it again on the same port and database (nothing is lost)');
    try {
      await opts.restart();
      restarts += 1;
      refusals = 0;
      failedRestarts = 0;
      logger.info({ port, restarts }, 'the Temporal dev server is running again');
    } catch (err) {
      failedRestarts += 1;
      const backoffMs = Math.min(MAX_RESTART_BACKOFF_MS, opts.intervalMs * 2 ** failedRestarts);
      nextRestartAt = Date.now() + backoffMs;
      logger.error({ err, port, retryInMs: backoffMs }, 'could not start the Temporal dev server again; Hookline keeps what it accepts and tries again');
    }
  }

  const timer = setInterval(() => {
    current ??= check().finally(() => {
      current = undefined;
    });
  }, opts.intervalMs);
  timer.unref();

  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}

/** True unless host:port refuses the connection; a connection that neither opens nor fails in time counts as listening. */
export function portListens(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(timeoutMs);
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(true));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code !== 'ECONNREFUSED'));
  });
}
