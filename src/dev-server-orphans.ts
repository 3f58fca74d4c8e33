/**
 * A dev server left behind by a Hookline that was killed. The SDK starts the `temporal` CLI as a
 * child process; when Hookline dies without a shutdown (SIGKILL, the OOM killer), that child keeps
 * running, keeps the port and keeps the data directory's database open, and the next `npm start`
 * would refuse the taken port. `stopOrphanedDevServers` finds such a server by its
 * `--db-filename` (the data directory's own database, so nothing else should run on it) and
 * stops it before a new one starts.
 *
 * What must stay true: a dev server whose parent is a live Node process belongs to another
 * Hookline on the same data directory, and is never stopped; that start is refused instead, since
 * two Hooklines on one data directory would also share its PGlite store.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Logger } from './logger';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** The command line, arguments joined by spaces. */
  command: string;
}

export type DevServerOwner =
  | { kind: 'orphan'; server: ProcessInfo }
  | { kind: 'another-hookline'; server: ProcessInfo; parent: ProcessInfo };

/**
 * The dev servers on `dbFilename`, and whose they are. Pure: `processes` is a snapshot of the
 * machine's processes. A server's parent is a Node process while the Hookline that started it
 * lives; once it dies, the server is reparented to init or a subreaper, which is not Node.
 */
export function devServersOn(processes: readonly ProcessInfo[], dbFilename: string): DevServerOwner[] {
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  return processes.filter((p) => isDevServerOn(p.command, dbFilename)).map((server) => {
    const parent = byPid.get(server.ppid);
    return parent !== undefined && isNode(parent.command) ? { kind: 'another-hookline', server, parent } : { kind: 'orphan', server };
  });
}

function isDevServerOn(command: string, dbFilename: string): boolean {
  if (!/ server start-dev( |$)/.test(` ${command}`)) return false;
  const flag = `--db-filename ${dbFilename}`;
  const at = command.indexOf(flag);
  // The flag's value must end where the path ends: `/data/temporal.sqlite2` is not ours.
  return at !== -1 && (at + flag.length === command.length || command[at + flag.length] === ' ');
}

function isNode(command: string): boolean {
  return /^node(\.exe)?$|^nodejs$/.test(basename(command.split(' ')[0] ?? ''));
}

/** The machine's processes: /proc on Linux, `ps` on other Unixes, none on Windows. */
export function listProcesses(): ProcessInfo[] {
  try {
    if (process.platform === 'linux') return fromProc();
    if (process.platform === 'win32') return [];
    return fromPs(execFileSync('ps', ['-axww', '-o', 'pid=,ppid=,command='], { encoding: 'utf8' }));
  } catch {
    return []; // no way to look: the port check still refuses a taken port
  }
}

function fromProc(): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const command = readFileSync(join('/proc', name, 'cmdline'), 'utf8').replace(/\0+$/, '').replaceAll('\0', ' ');
      // stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so read after the last ')'.
      const stat = readFileSync(join('/proc', name, 'stat'), 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      found.push({ pid: Number(name), ppid, command });
    } catch {
      // it ended while we looked
    }
  }
  return found;
}

/** Parses `ps -o pid=,ppid=,command=`. */
export function fromPs(output: string): ProcessInfo[] {
  return output.split('\n').flatMap((line) => {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    return m ? [{ pid: Number(m[1]), ppid: Number(m[2]), command: m[3]! }] : [];
  });
}

/** How long a left-behind server gets to stop on SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 10_000;

/**
 * Stops the dev servers a killed Hookline left on `dbFilename`; refuses to start when another
 * live Hookline runs one there.
 */
export async function stopOrphanedDevServers(dbFilename: string, logger: Pick<Logger, 'warn'>, processes: () => ProcessInfo[] = listProcesses): Promise<void> {
  for (const owner of devServersOn(processes(), dbFilename)) {
    if (owner.kind === 'another-hookline') {
      throw new Error(`Another Hookline (pid ${owner.parent.pid}) runs a Temporal dev server on ${dbFilename}. Stop it, or give this one its own HOOKLINE_DATA_DIR.`);
    }
    const { pid } = owner.server;
    logger.warn({ pid, dbFilename }, 'stopping a Temporal dev server that a Hookline which did not shut down left running');
    if (!(await signalAndWait(pid, 'SIGTERM', STOP_GRACE_MS)) && !(await signalAndWait(pid, 'SIGKILL', STOP_GRACE_MS))) {
      throw new Error(`The Temporal dev server left running on ${dbFilename} (pid ${pid}) did not stop. Stop it by hand.`);
    }
  }
}

/** Sends `signal` and waits up to `ms` for the process to be gone; true once it is. */
async function signalAndWait(pid: number, signal: NodeJS.Signals, ms: number): Promise<boolean> {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
    throw err;
  }
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !alive(pid);
}

/** A zombie counts as gone: it has exited and waits only for its new parent to reap it. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  try {
    const stat = readFileSync(join('/proc', String(pid), 'stat'), 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
