/**
 * One Hookline at a time on a data directory that holds live state: the embedded PGlite store and
 * the local dev server's database. Two processes on one PGlite directory each write it as their
 * own, and whatever one of them committed is lost when the other's files win (a black-box pass
 * lost accepted events this way, through a symlink to the data directory). The lock is a file in
 * the directory itself, so every path to it, symlinks included, finds the same lock.
 *
 * What must stay true: a lock whose process is alive is never taken over. One left by a process
 * that died (SIGKILL, a crash) is taken over at the next start, even when the new process has the
 * same pid (a container's PID 1): a lock names its process by pid and, on Linux, by its start
 * time and the boot, and this process knows which directories it holds itself.
 *
 * Two processes that start at once over a stale lock both find it stale, and the one that removes
 * it second must not remove the lock the first has just made: a takeover is done under a second
 * file, only one process at a time, and removes the lock only if it still reads as it did when it
 * was judged stale.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, realpathSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLiveNodeProcess, processStarted } from './processes';

export const LOCK_FILE = 'hookline.lock';

export interface DataDirLock {
  release(): void;
}

/** Who holds a lock: a pid, and where the system tells, when that process started. */
export interface LockHolder {
  pid: number;
  /** Boot id and start time in clock ticks (Linux /proc), which a reused pid does not share. */
  started?: string;
}

/** Directories this process holds (resolved): its own pid in a lock means it only if listed here. */
const heldHere = new Set<string>();

/** Takes the lock on `dataDir` (which must exist), or throws naming the process that holds it. */
export function lockDataDir(dataDir: string, isHeld: (holder: LockHolder) => boolean = holderIsAlive): DataDirLock {
  const dir = realpathSync(dataDir);
  const path = join(dir, LOCK_FILE);
  const started = processStarted(process.pid);
  const me: LockHolder = { pid: process.pid, ...(started !== undefined && { started }) };
  const mine = format(me);
  for (let tries = 0; ; tries++) {
    if (createWith(path, mine)) break;
    if (tries >= 3) throw new Error(`Could not take the lock ${path}; another Hookline may be starting on the data directory ${dataDir}.`);
    const text = readText(path);
    // Gone since the create failed (another start took it over): create it again.
    if (text === undefined) continue;
    const holder = parse(text);
    const held = holder !== undefined && (holder.pid === process.pid ? heldHere.has(dir) : isHeld(holder));
    if (held) {
      throw new Error(`Another Hookline (pid ${holder.pid}) uses the data directory ${dataDir}. Stop it, or give this one its own HOOKLINE_DATA_DIR. (If no Hookline runs there, delete ${path}.)`);
    }
    // Left by a process that is gone: take it over, then try again.
    takeOver(path, text, mine);
  }
  heldHere.add(dir);
  return {
    release() {
      heldHere.delete(dir);
      if (readText(path) === mine) removeIfPresent(path);
    },
  };
}

/** A takeover guard older than this was left by a process that died during its takeover. */
const STALE_TAKEOVER_MS = 10_000;

/**
 * Removes the stale lock `staleText` was read from, if no other process has replaced it since
 * (every holder's text names its own pid, so a replaced lock never reads the same). Another
 * process taking over at the same time holds the guard: this one leaves it, and its next try
 * finds the lock that process made. Left open: a guard judged stale is removed by path, so a
 * third start could remove a guard made a moment before; the text check above still keeps its
 * takeover from removing a lock made meanwhile, unless that lands between the check and the
 * removal (microseconds, and only after a process died mid-takeover).
 */
function takeOver(path: string, staleText: string, mine: string): void {
  const guard = `${path}.takeover`;
  if (!createWith(guard, mine)) {
    if (ageMs(guard) > STALE_TAKEOVER_MS) removeIfPresent(guard);
    return;
  }
  try {
    if (readText(path) === staleText) removeIfPresent(path);
  } finally {
    removeIfPresent(guard);
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Creates the lock with its content in one step (a hard link of a finished file), or false if one exists. */
function createWith(path: string, content: string): boolean {
  const temp = `${path}.${randomBytes(6).toString('hex')}`;
  writeFileSync(temp, content);
  try {
    linkSync(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(temp);
  }
}

const format = (h: LockHolder): string => `${h.pid}${h.started ? ` ${h.started}` : ''}\n`;

function parse(text: string): LockHolder | undefined {
  const [pid, ...started] = text.trim().split(' ');
  const n = Number(pid);
  return Number.isInteger(n) && n > 0 ? { pid: n, ...(started.length > 0 && { started: started.join(' ') }) } : undefined;
}

/** A live Node process with the holder's pid, started when the holder did (where that is known). */
function holderIsAlive(holder: LockHolder): boolean {
  if (!isLiveNodeProcess(holder.pid)) return false;
  const now = processStarted(holder.pid);
  return holder.started === undefined || now === undefined || now === holder.started;
}

/** The file's text; undefined if there is no file (an empty one is '', which no holder writes). */
function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return '';
  }
}
