import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE, lockDataDir } from './data-dir-lock';

const newDir = () => mkdtempSync(join(tmpdir(), 'hookline-lock-'));

describe('lockDataDir', () => {
  it('holds the directory until released; then it can be taken again', () => {
    const dir = newDir();
    const lock = lockDataDir(dir);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toMatch(new RegExp(`^${process.pid}[ \n]`));
    expect(() => lockDataDir(dir, () => true)).toThrow(`Another Hookline (pid ${process.pid}) uses the data directory ${dir}`);
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    lockDataDir(dir).release();
  });

  it('every path to the directory finds the same lock: a symlink too', () => {
    const dir = newDir();
    const link = join(newDir(), 'link');
    symlinkSync(dir, link);
    const lock = lockDataDir(dir);
    expect(() => lockDataDir(link, () => true)).toThrow('Another Hookline');
    lock.release();
  });

  it('takes over a lock whose process is gone', () => {
    const dir = newDir();
    writeFileSync(join(dir, LOCK_FILE), '4194300\n');
    const lock = lockDataDir(dir, () => false);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toMatch(new RegExp(`^${process.pid}[ \n]`));
    lock.release();
  });

  it('of two processes taking over one stale lock at once, the second does not remove the lock the first made', () => {
    const dir = newDir();
    writeFileSync(join(dir, LOCK_FILE), '4194300\n');
    let first: ReturnType<typeof lockDataDir> | undefined;
    // The second start judges the lock stale; before it acts, the first takes it over whole.
    const second = () =>
      lockDataDir(dir, () => {
        first ??= lockDataDir(dir, () => false);
        return false;
      });
    expect(second).toThrow(`Another Hookline (pid ${process.pid}) uses the data directory ${dir}`);
    expect(first).toBeDefined();
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toMatch(new RegExp(`^${process.pid}[ \n]`));
    first!.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('waits for no takeover that another process is making; one left behind by a process that died is cleared', () => {
    const dir = newDir();
    writeFileSync(join(dir, LOCK_FILE), '4194300\n');
    const guard = join(dir, `${LOCK_FILE}.takeover`);
    writeFileSync(guard, '4194301\n');
    // A takeover under way: this start gives up rather than race it.
    expect(() => lockDataDir(dir, () => false)).toThrow('another Hookline may be starting');
    // The same guard, long left: cleared, and the stale lock taken over.
    const longAgo = new Date(Date.now() - 60_000);
    utimesSync(guard, longAgo, longAgo);
    lockDataDir(dir, () => false).release();
    expect(existsSync(guard)).toBe(false);
  });

  it('takes over an unreadable lock', () => {
    const dir = newDir();
    writeFileSync(join(dir, LOCK_FILE), 'garbage');
    lockDataDir(dir, () => true).release();
  });

  it("takes over a lock naming this process's own pid that this process does not hold (a container's PID 1 after a crash)", () => {
    const dir = newDir();
    writeFileSync(join(dir, LOCK_FILE), `${process.pid}\n`);
    lockDataDir(dir, () => true).release();
  });

  it.skipIf(process.platform !== 'linux')('a live Node process holds its lock only if it started when the lock says (a reused pid does not)', () => {
    const dir = newDir();
    const parent = process.ppid; // a live Node process: the test runner
    writeFileSync(join(dir, LOCK_FILE), `${parent} not-this-boot/1\n`);
    lockDataDir(dir).release();
    // Without a start time (another system wrote it), a live Node process with the pid holds it.
    writeFileSync(join(dir, LOCK_FILE), `${parent}\n`);
    expect(() => lockDataDir(dir)).toThrow(`Another Hookline (pid ${parent})`);
  });

  it("release leaves a lock that is no longer this process's", () => {
    const dir = newDir();
    mkdirSync(dir, { recursive: true });
    const lock = lockDataDir(dir);
    writeFileSync(join(dir, LOCK_FILE), '12345\n');
    lock.release();
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe('12345\n');
  });
});
