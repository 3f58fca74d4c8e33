import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../test/support/wait';
import { devServersOn, fromPs, listProcesses, stopOrphanedDevServers, type ProcessInfo } from './dev-server-orphans';

const DB = '/data/hookline/temporal.sqlite';
const server = (pid: number, ppid: number, db = DB): ProcessInfo => ({ pid, ppid, command: `/opt/temporal server start-dev --ip 127.0.0.1 --db-filename ${db} --sqlite-pragma journal_mode=WAL` });
const nodeParent: ProcessInfo = { pid: 10, ppid: 1, command: '/usr/local/bin/node --import tsx src/main.ts' };
const init: ProcessInfo = { pid: 1, ppid: 0, command: '/sbin/init' };

describe('devServersOn', () => {
  it.each<[string, ProcessInfo[], string[]]>([
    ['none running', [init, nodeParent], []],
    ['reparented to init: left behind', [init, server(20, 1)], ['orphan']],
    ['parent gone from the snapshot', [server(20, 99)], ['orphan']],
    ['parent a shell: not a Hookline', [init, { pid: 30, ppid: 1, command: '-bash' }, server(20, 30)], ['orphan']],
    ['parent a live Node: another Hookline', [init, nodeParent, server(20, 10)], ['another-hookline']],
    ['parent nodejs', [{ pid: 10, ppid: 1, command: 'nodejs main.js' }, server(20, 10)], ['another-hookline']],
    ['another database is not ours', [init, server(20, 1, '/other/temporal.sqlite')], []],
    ['a longer file name is not ours', [init, server(20, 1, `${DB}2`)], []],
    ['not a dev server', [init, { pid: 20, ppid: 1, command: `sqlite3 ${DB}` }], []],
  ])('%s', (_, processes, kinds) => {
    expect(devServersOn(processes, DB).map((o) => o.kind)).toEqual(kinds);
  });

  it('the database as the last argument', () => {
    expect(devServersOn([{ pid: 20, ppid: 1, command: `temporal server start-dev --db-filename ${DB}` }], DB)).toHaveLength(1);
  });

  it('a path with spaces', () => {
    const db = '/Users/a b/hookline/temporal.sqlite';
    expect(devServersOn([server(20, 1, db)], db)).toHaveLength(1);
  });
});

describe('fromPs', () => {
  it('reads pid, ppid and the whole command line', () => {
    expect(fromPs('    1     0 /sbin/init splash\n  420   1 /opt/temporal server start-dev --db-filename /a b/t.sqlite\n\n')).toEqual([
      { pid: 1, ppid: 0, command: '/sbin/init splash' },
      { pid: 420, ppid: 1, command: '/opt/temporal server start-dev --db-filename /a b/t.sqlite' },
    ]);
  });
});

describe.skipIf(process.platform === 'win32')('stopOrphanedDevServers on real processes', () => {
  /** A stand-in whose command line reads like a dev server's on `db`, started by `sh` and left behind if `detach`. */
  async function standIn(db: string, detach: boolean): Promise<number> {
    const args = `-e "setInterval(() => {}, 1000)" server start-dev --db-filename '${db}'`;
    const sh = spawn('sh', ['-c', detach ? `'${process.execPath}' ${args} >/dev/null 2>&1 & echo $!` : `exec '${process.execPath}' ${args}`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let pid = sh.pid!;
    if (detach) {
      let out = '';
      sh.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      await new Promise((resolve) => sh.once('exit', resolve));
      pid = Number(out.trim());
    }
    // Until its exec, the child's command line is still the shell's.
    await waitUntil(async () => devServersOn(listProcesses(), db), (found) => found.some((o) => o.server.pid === pid), 5_000, 'the stand-in');
    return pid;
  }
  const warnings: unknown[] = [];
  const logger = { warn: (obj: unknown) => warnings.push(obj) };
  // A zombie's command line is empty: one that has exited and waits to be reaped is not listed.
  const alive = (db: string, pid: number) => devServersOn(listProcesses(), db).some((o) => o.server.pid === pid);

  it('stops one that its Hookline left behind', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'orphan-')), 'temporal.sqlite');
    const pid = await standIn(db, true);
    expect(alive(db, pid)).toBe(true);
    await stopOrphanedDevServers(db, logger);
    expect(alive(db, pid)).toBe(false);
    expect(warnings).toContainEqual({ pid, dbFilename: db });
  });

  it("refuses to start beside one whose Node parent lives, and leaves it running", async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'orphan-')), 'temporal.sqlite');
    // Here the parent is this test's own Node process, as it would be another Hookline's.
    const pid = await standIn(db, false);
    try {
      await expect(stopOrphanedDevServers(db, logger)).rejects.toThrow(`Another Hookline (pid ${process.pid})`);
      expect(alive(db, pid)).toBe(true);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });
});
