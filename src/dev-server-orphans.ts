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
import type { Logger } from './logger';
import { isNode, isRunning, listProcesses, resolvedExecPath, type ProcessInfo } from './processes';

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

/** How long a left-behind server gets to stop on SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 10_000;

/**
 * Stops the dev servers a killed Hookline left on `dbFilename` and returns how many; refuses to
 * start when another live Hookline runs one there.
 */
export async function stopOrphanedDevServers(
  dbFilename: string,
  hooklineArgs: readonly string[],
  logger: Pick<Logger, 'warn'>,
  processes: () => ProcessInfo[] = listProcesses,
): Promise<number> {
  const rules: OwnerRules = { dbFilename, hooklineArgs, nodeExe: resolvedExecPath() };
  let stopped = 0;
  for (const owner of devServersOn(processes(), rules)) {
    if (owner.kind === 'another-hookline') {
      throw new Error(`Another Hookline (pid ${owner.parent.pid}) runs a Temporal dev server on ${dbFilename}. Stop it, or give this one its own HOOKLINE_DATA_DIR.`);
    }
    const { pid } = owner.server;
    logger.warn({ pid, dbFilename }, 'stopping a Temporal dev server that a Hookline which did not shut down left running');
    if (!(await signalAndWait(pid, 'SIGTERM', STOP_GRACE_MS)) && !(await signalAndWait(pid, 'SIGKILL', STOP_GRACE_MS))) {
      throw new Error(`The Temporal dev server left running on ${dbFilename} (pid ${pid}) did not stop. Stop it by hand.`);
    }
    stopped += 1;
  }
  return stopped;
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
    if (!isRunning(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !isRunning(pid);
}
