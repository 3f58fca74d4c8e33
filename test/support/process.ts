/** Hookline as its own process, exactly as `npm start` runs it, for tests that kill it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { listProcesses } from '../../src/processes';
import { waitUntil } from './wait';

const root = join(__dirname, '..', '..');

/**
 * A port free now, for a process that must come back on the same port after a restart. Chosen
 * below the ephemeral range (Linux 32768–60999, macOS 49152–65535): a port the kernel hands out
 * for outgoing connections could be taken by any client's connection while the restarted process
 * is down, and its start would then find it in use.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/** The last part of each spawned Hookline's stderr, for the failure message of a start that did not come up. */
const stderrOf = new WeakMap<ChildProcess, string>();
const STDERR_KEPT = 8_192;

/** Runs `src/main.ts` with `env` added to this process's environment. */
export function spawnHookline(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  stderrOf.set(child, '');
  child.stderr?.on('data', (chunk: Buffer) => stderrOf.set(child, (stderrOf.get(child)! + chunk.toString()).slice(-STDERR_KEPT)));
  return child;
}

/** Waits for `/readyz`; with `child`, fails at once if it exits first, with the end of its stderr. */
export async function waitHealthy(url: string, timeoutMs = 60_000, child?: ChildProcess): Promise<void> {
  const exited = () => child !== undefined && (child.exitCode !== null || child.signalCode !== null);
  try {
    await waitUntil(
      () => (exited() ? Promise.resolve(-1) : fetch(`${url}/readyz`).then((r) => r.status, () => 0)),
      (status) => status === 200 || status === -1,
      timeoutMs,
      'hookline readiness',
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- its stderr ---\n${child ? stderrOf.get(child) : ''}`);
  }
  if (exited()) throw new Error(`hookline exited (${child!.exitCode ?? child!.signalCode}) before it was ready\n--- its stderr ---\n${stderrOf.get(child!)}`);
}

/** SIGKILL, and resolves once the process has exited. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Pids of the running processes whose command line names `needle`. */
export function pidsWith(needle: string): number[] {
  return listProcesses()
    .filter((p) => p.argv.join(' ').includes(needle))
    .map((p) => p.pid);
}
