import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLiveNodeProcess } from './dev-server-orphans';
import { LOCK_FILE, lockDataDir } from './data-dir-lock';

const newDir = () => mkdtempSync(join(tmpdir(), 'hookline-lock-'));

describe('lockDataDir', () => {
  it('holds the directory until released; then it can be taken again', () => {
    const dir = newDir();
    const lock = lockDataDir(dir);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
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
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    lock.release();
  });

  it('takes over an unreadable lock', () => {
    const dir = newDir();
    writeFileSync(join(dir, LOCK_FILE), 'garbage');
    lockDataDir(dir, () => true).release();
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

describe.skipIf(process.platform !== 'linux')('isLiveNodeProcess', () => {
  it('this process is; a pid that is not running is not', () => {
    expect(isLiveNodeProcess(process.pid)).toBe(true);
    expect(isLiveNodeProcess(4194300)).toBe(false);
  });
});
