/**
 * What the system says about processes, for the two places that must tell a live Hookline from
 * something left behind: the dev server a killed Hookline left running (dev-server-orphans.ts)
 * and the data directory's lock (data-dir-lock.ts). Linux reads /proc; other Unixes run `ps`;
 * Windows says nothing.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** The arguments, exactly (Linux); from `ps`, one string holding the whole command line. */
  argv: string[];
  /** The executable's resolved path, where the system says (Linux). */
  exe?: string;
}

/** Node under any of its names (`node`, `nodejs`, `node20`, `node-20.1`, `node.exe`). */
const NODE_NAME = /^node(js)?[-_.\d]*(\.exe)?$/i;

/** Whether `p` runs Node: `nodeExe` (this process's binary, resolved) or any Node-named one. */
export function isNode(p: ProcessInfo, nodeExe: string | undefined): boolean {
  if (p.exe !== undefined && (p.exe === nodeExe || NODE_NAME.test(basename(p.exe)))) return true;
  const first = p.argv.length > 1 ? p.argv[0]! : (p.argv[0] ?? '').split(' ')[0]!;
  return NODE_NAME.test(basename(first));
}

/** This process's Node binary, resolved through symlinks. */
export function resolvedExecPath(): string | undefined {
  try {
    return realpathSync(process.execPath);
  } catch {
    return undefined;
  }
}

/** The machine's processes: /proc on Linux, `ps` on other Unixes, none on Windows (or when neither answers). */
export function listProcesses(): ProcessInfo[] {
  try {
    if (process.platform === 'linux') {
      return readdirSync('/proc')
        .filter((name) => /^\d+$/.test(name))
        .flatMap((name) => procInfo(Number(name)) ?? []);
    }
    if (process.platform === 'win32') return [];
    return fromPs(execFileSync('ps', ['-axww', '-o', 'pid=,ppid=,command='], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 5_000 }));
  } catch {
    return [];
  }
}

/** Parses `ps -o pid=,ppid=,command=`. */
export function fromPs(output: string): ProcessInfo[] {
  return output.split('\n').flatMap((line) => {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    return m ? [{ pid: Number(m[1]), ppid: Number(m[2]), argv: [m[3]!] }] : [];
  });
}

/**
 * The fields of /proc/<pid>/stat after the command name, from the state on (`stat(5)` field 3 is
 * index 0); undefined off Linux or once the process is gone. The name may hold spaces and
 * parentheses, so the fields start after the last ')'.
 */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(join('/proc', String(pid), 'stat'), 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** One process from /proc; undefined if it ended while we looked. */
function procInfo(pid: number): ProcessInfo | undefined {
  try {
    const argv = readFileSync(join('/proc', String(pid), 'cmdline'), 'utf8').split('\0');
    if (argv.at(-1) === '') argv.pop();
    const fields = statFields(pid);
    if (!fields) return undefined;
    return { pid, ppid: Number(fields[1]), argv, ...exeOf(pid) };
  } catch {
    return undefined;
  }
}

/** Another user's process hides its executable; its other fields still count. */
function exeOf(pid: number): { exe?: string } {
  try {
    return { exe: readlinkSync(join('/proc', String(pid), 'exe')) };
  } catch {
    return {};
  }
}

/** Whether `pid` runs. A zombie does not: it has exited and waits only for its parent to reap it. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  const fields = statFields(pid);
  return fields !== undefined && fields[0] !== 'Z';
}

/**
 * Whether `pid` is a live Node process, as a Hookline would be. On Linux by its executable and
 * arguments, so a pid reused by another program does not count; elsewhere any live process
 * counts, which only ever refuses a start.
 */
export function isLiveNodeProcess(pid: number): boolean {
  if (!isRunning(pid)) return false;
  if (process.platform !== 'linux') return true;
  const info = procInfo(pid);
  return info !== undefined && isNode(info, resolvedExecPath());
}

/**
 * When `pid` started, as Linux tells it: the boot id and the start time in clock ticks since boot
 * (`stat(5)` field 22). A reused pid does not share it. Undefined elsewhere.
 */
export function processStarted(pid: number): string | undefined {
  const ticks = statFields(pid)?.[19];
  if (!ticks) return undefined;
  try {
    return `${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}/${ticks}`;
  } catch {
    return undefined;
  }
}
