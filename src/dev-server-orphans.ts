/**
 * A dev server left behind by a Hookline that was killed. The SDK starts the `temporal` CLI as a
 * child process; when Hookline dies without a shutdown (SIGKILL, the OOM killer), that child keeps
 * running, keeps the port and keeps the data directory's database open, and the next `npm start`
 * would refuse the taken port. `stopOrphanedDevServers` finds such a server by its command line
 * (the data directory's own `--db-filename`, and the flags only Hookline passes) and stops it
 * before a new one starts.
 *
 * What must stay true: a dev server whose parent is a live Node process belongs to another
 * Hookline on the same data directory, and is never stopped; that start is refused instead, since
 * two Hooklines on one data directory would also share its PGlite store. When in doubt, a server
 * is taken for another Hookline's: a refused start is safe, a second server on one database is not.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Logger } from './logger';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** The arguments, exactly (Linux); from `ps`, one string holding the whole command line. */
  argv: string[];
  /** The executable's resolved path, where the system says (Linux). */
  exe?: string;
}

export type DevServerOwner =
  | { kind: 'orphan'; server: ProcessInfo }
  | { kind: 'another-hookline'; server: ProcessInfo; parent: ProcessInfo };

export interface OwnerRules {
  /** The database file the server must name. */
  dbFilename: string;
  /** Arguments Hookline passes to its servers, in order: a server without them is not Hookline's. */
  hooklineArgs: readonly string[];
  /** This process's Node binary, resolved: a parent that runs it is a Hookline. */
  nodeExe?: string;
}

/**
 * The dev servers Hookline started on `rules.dbFilename`, and whose they are. Pure: `processes`
 * is a snapshot of the machine's processes. A server's parent is a Node process while the
 * Hookline that started it lives; once it dies, the server is reparented to init or a subreaper.
 */
export function devServersOn(processes: readonly ProcessInfo[], rules: OwnerRules): DevServerOwner[] {
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  return processes
    .filter((p) => hasArgs(p, ['server', 'start-dev']) && hasArgs(p, ['--db-filename', rules.dbFilename]) && hasArgs(p, rules.hooklineArgs))
    .map((server) => {
      const parent = byPid.get(server.ppid);
      return parent !== undefined && isNode(parent, rules.nodeExe) ? { kind: 'another-hookline', server, parent } : { kind: 'orphan', server };
    });
}

/** Whether `seq` appears in the process's arguments, in order and whole. */
function hasArgs(p: ProcessInfo, seq: readonly string[]): boolean {
  if (p.argv.length > 1) return p.argv.some((_, i) => seq.every((arg, j) => p.argv[i + j] === arg));
  // One string from `ps`: arguments may hold spaces, so match the text, ending at a space or the end.
  const command = p.argv[0] ?? '';
  const text = seq.join(' ');
  for (let at = command.indexOf(text); at !== -1; at = command.indexOf(text, at + 1)) {
    const before = at === 0 || command[at - 1] === ' ';
    const after = at + text.length === command.length || command[at + text.length] === ' ';
    if (before && after) return true;
  }
  return false;
}

/** Node under any of its names (`node`, `nodejs`, `node20`, `node-20.1`, `node.exe`), or this process's own binary. */
const NODE_NAME = /^node(js)?[-_.\d]*(\.exe)?$/i;

function isNode(p: ProcessInfo, nodeExe: string | undefined): boolean {
  if (p.exe !== undefined && (p.exe === nodeExe || NODE_NAME.test(basename(p.exe)))) return true;
  const first = p.argv.length > 1 ? p.argv[0]! : (p.argv[0] ?? '').split(' ')[0]!;
  return NODE_NAME.test(basename(first));
}

/** The machine's processes: /proc on Linux, `ps` on other Unixes, none on Windows. */
export function listProcesses(): ProcessInfo[] {
  try {
    if (process.platform === 'linux') return fromProc();
    if (process.platform === 'win32') return [];
    return fromPs(execFileSync('ps', ['-axww', '-o', 'pid=,ppid=,command='], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 5_000 }));
  } catch {
    return []; // no way to look: the port check still refuses a taken port
  }
}

function fromProc(): ProcessInfo[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => procInfo(name) ?? []);
}

/** One process from /proc; undefined if it ended while we looked. */
function procInfo(pid: string): ProcessInfo | undefined {
  try {
    const argv = readFileSync(join('/proc', pid, 'cmdline'), 'utf8').split('\0');
    if (argv.at(-1) === '') argv.pop();
    // stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so read after the last ')'.
    const stat = readFileSync(join('/proc', pid, 'stat'), 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return { pid: Number(pid), ppid, argv, ...exeOf(pid) };
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is a live Node process, as a Hookline holding a lock would be. On Linux by its
 * executable and arguments, so a pid reused by another program does not count; elsewhere any live
 * process counts, which only ever refuses a start.
 */
export function isLiveNodeProcess(pid: number): boolean {
  if (!alive(pid)) return false;
  if (process.platform !== 'linux') return true;
  const info = procInfo(String(pid));
  return info !== undefined && isNode(info, resolvedExecPath());
}

/** Another user's process hides its executable; its other fields still count. */
function exeOf(pid: string): { exe?: string } {
  try {
    return { exe: readlinkSync(join('/proc', pid, 'exe')) };
  } catch {
    return {};
  }
}

/** Parses `ps -o pid=,ppid=,command=`. */
export function fromPs(output: string): ProcessInfo[] {
  return output.split('\n').flatMap((line) => {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    return m ? [{ pid: Number(m[1]), ppid: Number(m[2]), argv: [m[3]!] }] : [];
  });
}

/** How long a left-behind server gets to stop on SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 10_000;

/**
 * Stops the dev servers a killed Hookline left on `dbFilename`; refuses to start when another
 * live Hookline runs one there.
 */
export async function stopOrphanedDevServers(
  dbFilename: string,
  hooklineArgs: readonly string[],
  logger: Pick<Logger, 'warn'>,
  processes: () => ProcessInfo[] = listProcesses,
): Promise<void> {
  const rules: OwnerRules = { dbFilename, hooklineArgs, nodeExe: resolvedExecPath() };
  for (const owner of devServersOn(processes(), rules)) {
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

function resolvedExecPath(): string | undefined {
  try {
    return realpathSync(process.execPath);
  } catch {
    return undefined;
  }
}

/** Sends `signal` and waits up to `ms` for the process to be gone; true once it is. */
async function signalAndWait(pid: number, signal: NodeJS.Signals, ms: number): Promise<boolean> {
  try {
    process.kill(pid, signal);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return true;
    throw new Error(`Could not stop the Temporal dev server left running (pid ${pid}): ${code ?? String(err)}. Stop it by hand.`, { cause: err });
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
