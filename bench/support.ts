/**
 * Benchmark plumbing: a fast loopback receiver that counts and timestamps requests, and a whole
 * Hookline stack (local dev server, store, worker, API) in this process.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config';
import { startHookline, type Hookline } from '../src/hookline';
import { createLogger, installTemporalLogging } from '../src/logger';
import { NODE_HEAP_FLAGS } from '../src/node-flags';
import { findTemporalCli, startDevServer } from '../src/dev-server';

export interface CountingReceiver {
  url: string;
  count: number;
  /** Arrival time (performance.now()) by webhook-id, for the first arrival of each. */
  firstArrival: Map<string, number>;
  waitForCount(n: number, timeoutMs: number, onProgress?: (n: number) => void): Promise<void>;
  close(): Promise<void>;
}

/** `status` 204 by default; P5 passes 500 so every delivery fails its first attempt and parks. */
export async function startCountingReceiver(status = 204): Promise<CountingReceiver> {
  const firstArrival = new Map<string, number>();
  const state = { count: 0 };
  const server: Server = createServer((req, res) => {
    const at = performance.now();
    req.resume();
    req.on('end', () => {
      state.count++;
      const id = String(req.headers['webhook-id']);
      if (!firstArrival.has(id)) firstArrival.set(id, at);
      res.writeHead(status).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get count() {
      return state.count;
    },
    firstArrival,
    async waitForCount(n, timeoutMs, onProgress) {
      const deadline = Date.now() + timeoutMs;
      let last = -1;
      while (state.count < n) {
        if (Date.now() > deadline) throw new Error(`received ${state.count} of ${n} within ${timeoutMs} ms`);
        if (onProgress && state.count !== last) onProgress((last = state.count));
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    close: () => closeServer(server),
  };
}

/** Closes a receiver now, with its keep-alive connections (which `close` alone would wait for). */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

export interface Stack {
  hookline: Hookline;
  adminKey: string;
  /** Set when the worker runs in a process of its own (the production shape); unset: in this one. */
  workerPid?: number;
  stop(): Promise<void>;
}

/** A full `npm start`-style stack in a temporary directory; DATABASE_URL selects PostgreSQL. */
export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookline-bench-'));
  const config = loadConfig({
    HOOKLINE_DATA_DIR: dataDir,
    HOOKLINE_API_PORT: '0',
    HOOKLINE_TEMPORAL_PORT: '0',
    HOOKLINE_TEMPORAL_UI_PORT: '0',
    HOOKLINE_ALLOW_INSECURE_URLS: 'true',
    HOOKLINE_ADMIN_KEY: 'hk_bench_admin_key_0001',
    // Required with DATABASE_URL or a role of its own; a split stack passes one shared key.
    HOOKLINE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'warn',
    ...(process.env.DATABASE_URL && { DATABASE_URL: process.env.DATABASE_URL }),
    ...(process.env.TEMPORAL_ADDRESS && { TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS }),
    ...env,
  });
  const hookline = await startHookline({ config, logger: createLogger('warn') });
  return {
    hookline,
    adminKey: 'hk_bench_admin_key_0001',
    async stop() {
      await hookline.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The production shape on one machine: a dev server, the API (role `api`) in this process, and
 * one worker (role `worker`) in a child process, both on the PostgreSQL at `databaseUrl`. The
 * worker's memory and CPU can then be read on their own. The worker runs from `npm run build`'s
 * output with the Docker image's node flags.
 */
export async function startSplitStack(databaseUrl: string, env: Record<string, string> = {}): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookline-bench-split-'));
  // The SDK runtime is installed once per process, before the dev server instantiates it.
  installTemporalLogging(createLogger('warn'));
  const devServer = await startDevServer({ dataDir, namespace: 'default', port: 0, uiPort: 0, cliPath: findTemporalCli(undefined), logger: createLogger('warn') });
  const shared = {
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: devServer.address,
    HOOKLINE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ...env,
  };
  const api = await startStack({ ...shared, HOOKLINE_ROLE: 'api' }).catch(async (err: unknown) => {
    await devServer.stop();
    throw err;
  });
  // As the Docker image runs it: compiled, with the same heap flags.
  const root = join(__dirname, '..');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const worker = spawn(process.execPath, [...NODE_HEAP_FLAGS, join(root, 'dist', 'main.js')], {
    env: { ...process.env, ...shared, HOOKLINE_ROLE: 'worker', HOOKLINE_DATA_DIR: join(dataDir, 'worker'), HOOKLINE_ALLOW_INSECURE_URLS: 'true', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(worker, 'exit');
  const stop = async () => {
    if (worker.exitCode === null) worker.kill('SIGTERM');
    await exited;
    await api.stop();
    await devServer.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  // main.ts prints its banner once the worker polls; the workflow bundle takes a while.
  let out = '';
  const ready = new Promise<void>((resolve) => {
    worker.stdout.on('data', (chunk: Buffer) => {
      if (out.length < 10_000) out += chunk.toString();
      if (out.includes('Hookline is running')) resolve();
    });
  });
  const failed = exited.then(([code]) => Promise.reject(new Error(`the worker process exited (${String(code)}) before it was ready`)));
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the worker process was not ready within 180 s')), 180_000).unref());
  try {
    await Promise.race([ready, failed, timeout]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { hookline: api.hookline, adminKey: api.adminKey, workerPid: worker.pid!, stop };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function progress(label: string) {
  return (n: number) => process.stderr.write(`\r${label}: ${n}   `);
}
