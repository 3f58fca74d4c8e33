/**
 * One Hookline at a time on a data directory that holds live state: the embedded PGlite store and
 * the local dev server's database. Two processes on one PGlite directory each write it as their
 * own, and whatever one of them committed is lost when the other's files win (a black-box pass
 * lost accepted events this way, through a symlink to the data directory). The lock is a file in
 * the directory itself, so every path to it, symlinks included, finds the same lock.
 *
 * What must stay true: a lock whose process is alive is never taken over. One left by a process
 * that died (SIGKILL, a crash) is taken over at the next start.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLiveNodeProcess } from './dev-server-orphans';

export const LOCK_FILE = 'hookline.lock';

export interface DataDirLock {
  release(): void;
}

/** Takes the lock on `dataDir` (which must exist), or throws naming the process that holds it. */
export function lockDataDir(dataDir: string, isHeld: (pid: number) => boolean = isLiveNodeProcess): DataDirLock {
  const path = join(dataDir, LOCK_FILE);
  const mine = `${process.pid}\n`;
  for (let tries = 0; ; tries++) {
    try {
      writeFileSync(path, mine, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 0) throw err;
    }
    const holder = Number.parseInt(readText(path), 10);
    if (Number.isInteger(holder) && holder > 0 && isHeld(holder)) {
      throw new Error(`Another Hookline (pid ${holder}) uses the data directory ${dataDir}. Stop it, or give this one its own HOOKLINE_DATA_DIR. (If no Hookline runs there, delete ${path}.)`);
    }
    // Left by a process that is gone: take it over.
    unlinkSync(path);
  }
  return {
    release() {
      if (readText(path) === mine) unlinkSync(path);
    },
  };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
