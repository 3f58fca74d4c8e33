/** Hookline as its own process, exactly as `npm start` runs it, for tests that kill it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitUntil } from './wait';

const root = join(__dirname, '..', '..');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.once('error', reject);
  });
}

/** Runs `src/main.ts` with `env` added to this process's environment. */
export function spawnHookline(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  return child;
}

export async function waitHealthy(url: string, timeoutMs = 60_000): Promise<void> {
  await waitUntil(
    () => fetch(`${url}/readyz`).then((r) => r.status, () => 0),
    (status) => status === 200,
    timeoutMs,
    'hookline readiness',
  );
}

/** SIGKILL, and resolves once the process has exited. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Pids of the processes whose command line names `needle` (Linux: /proc). */
export function pidsWith(needle: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(join('/proc', pid, 'cmdline'), 'utf8').includes(needle);
      } catch {
        return false; // it ended while we looked
      }
    })
    .map(Number);
}
