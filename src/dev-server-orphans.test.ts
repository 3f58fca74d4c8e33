import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../test/support/wait';
import { devServersOn, stopOrphanedDevServers, type OwnerRules } from './dev-server-orphans';
import { fromPs, listProcesses, type ProcessInfo } from './processes';

const DB = '/data/hookline/temporal.sqlite';
const MARK = ['--sqlite-pragma', 'synchronous=OFF'];
const rules: OwnerRules = { dbFilename: DB, hooklineArgs: MARK, nodeExe: '/opt/node-v22/bin/node' };
const serverArgv = (db = DB) => ['/opt/temporal', 'server', 'start-dev', '--ip', '127.0.0.1', '--db-filename', db, '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=OFF'];
const server = (pid: number, ppid: number, argv = serverArgv()): ProcessInfo => ({ pid, ppid, argv, exe: '/opt/temporal' });
const init: ProcessInfo = { pid: 1, ppid: 0, argv: ['/sbin/init'], exe: '/usr/lib/systemd/systemd' };
const parent = (argv: string[], exe?: string): ProcessInfo => ({ pid: 10, ppid: 1, argv, ...(exe !== undefined && { exe }) });

describe('devServersOn', () => {
  it.each<[string, ProcessInfo[], string[]]>([
    ['none running', [init, parent(['node', 'src/main.ts'])], []],
    ['reparented to init: left behind', [init, server(20, 1)], ['orphan']],
    ['parent gone from the snapshot', [server(20, 99)], ['orphan']],
    ['parent a shell', [init, parent(['-bash'], '/usr/bin/bash'), server(20, 10)], ['orphan']],
    ['parent node: another Hookline', [parent(['/usr/local/bin/node', '--import', 'tsx', 'src/main.ts'], '/usr/local/bin/node'), server(20, 10)], ['another-hookline']],
    ['parent this very Node binary, renamed', [parent(['hookline-api'], '/opt/node-v22/bin/node'), server(20, 10)], ['another-hookline']],
    ['parent a versioned node', [parent(['/usr/bin/node-20', 'main.js'], '/usr/bin/node-20'), server(20, 10)], ['another-hookline']],
    ['parent nodejs, executable hidden', [parent(['nodejs', 'main.js']), server(20, 10)], ['another-hookline']],
    ['parent node in a path with spaces', [parent(['/Users/a b/.nvm/node', 'main.js']), server(20, 10)], ['another-hookline']],
    ['another database', [init, server(20, 1, serverArgv('/other/temporal.sqlite'))], []],
    ['a longer file name', [init, server(20, 1, serverArgv(`${DB}2`))], []],
    ["a server without Hookline's flags (one a user started)", [init, server(20, 1, ['temporal', 'server', 'start-dev', '--db-filename', DB])], []],
    ['not a dev server', [init, { pid: 20, ppid: 1, argv: ['sqlite3', DB, ...MARK] }], []],
  ])('%s', (_, processes, kinds) => {
    expect(devServersOn(processes, rules).map((o) => o.kind)).toEqual(kinds);
  });

  it('a path with spaces, in argv and in one ps string', () => {
    const db = '/Users/a b/hookline/temporal.sqlite';
    const spaced = { ...rules, dbFilename: db };
    expect(devServersOn([server(20, 1, serverArgv(db))], spaced)).toHaveLength(1);
    expect(devServersOn([{ pid: 20, ppid: 1, argv: [serverArgv(db).join(' ')] }], spaced)).toHaveLength(1);
    expect(devServersOn([{ pid: 20, ppid: 1, argv: [serverArgv(`${db}2`).join(' ')] }], spaced)).toHaveLength(0);
  });

  it('from ps: a parent named node is another Hookline', () => {
    const processes = fromPs(`   10     1 /usr/local/bin/node --import tsx src/main.ts\n   20    10 ${serverArgv().join(' ')}\n`);
    expect(devServersOn(processes, rules).map((o) => o.kind)).toEqual(['another-hookline']);
  });
});

describe.skipIf(process.platform === 'win32')('stopOrphanedDevServers on real processes', () => {
  /**
   * A stand-in whose command line reads like Hookline's dev server on `db`: an idle Node process,
   * started by `sh` and, with `detach`, left behind when `sh` exits.
   */
  async function standIn(db: string, detach: boolean): Promise<number> {
    const args = `-e "setInterval(() => {}, 1000)" server start-dev --db-filename '${db}' ${MARK.join(' ')}`;
    const sh = spawn('sh', ['-c', detach ? `'${process.execPath}' ${args} >/dev/null 2>&1 & echo $!` : `exec '${process.execPath}' ${args}`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let pid = sh.pid!;
    if (detach) {
      let out = '';
      sh.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      await new Promise((resolve) => sh.once('exit', resolve));
      pid = Number(out.trim());
    }
    // Until its exec, the child's command line is still the shell's.
    await waitUntil(async () => alive(db, pid), Boolean, 5_000, 'the stand-in');
    return pid;
  }
  const rulesFor = (db: string): OwnerRules => ({ dbFilename: db, hooklineArgs: MARK });
  // A zombie's command line is empty: one that has exited and waits to be reaped is not listed.
  const alive = (db: string, pid: number) => devServersOn(listProcesses(), rulesFor(db)).some((o) => o.server.pid === pid);
  const warnings: unknown[] = [];
  const logger = { warn: (obj: unknown) => warnings.push(obj) };

  it('stops one that its Hookline left behind', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'orphan-')), 'temporal.sqlite');
    const pid = await standIn(db, true);
    expect(await stopOrphanedDevServers(db, MARK, logger)).toBe(1);
    expect(alive(db, pid)).toBe(false);
    expect(await stopOrphanedDevServers(db, MARK, logger)).toBe(0);
    expect(warnings).toContainEqual({ pid, dbFilename: db });
  });

  it('refuses to start beside one whose Node parent lives, and leaves it running', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'orphan-')), 'temporal.sqlite');
    // Here the parent is this test's own Node process, as it would be another Hookline's.
    const pid = await standIn(db, false);
    try {
      await expect(stopOrphanedDevServers(db, MARK, logger)).rejects.toThrow(`Another Hookline (pid ${process.pid})`);
      expect(alive(db, pid)).toBe(true);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });
});
