import { describe, expect, it } from 'vitest';
import { fromPs, isLiveNodeProcess, isRunning, processStarted } from './processes';

describe('fromPs', () => {
  it('reads pid, ppid and the whole command line', () => {
    expect(fromPs('    1     0 /sbin/init splash\n  420   1 /opt/temporal server start-dev --db-filename /a b/t.sqlite\n\n')).toEqual([
      { pid: 1, ppid: 0, argv: ['/sbin/init splash'] },
      { pid: 420, ppid: 1, argv: ['/opt/temporal server start-dev --db-filename /a b/t.sqlite'] },
    ]);
  });
});

describe.skipIf(process.platform !== 'linux')('processes on Linux', () => {
  it('this process is; a pid that is not running is not', () => {
    expect(isLiveNodeProcess(process.pid)).toBe(true);
    expect(isLiveNodeProcess(4194300)).toBe(false);
    expect(isRunning(4194300)).toBe(false);
  });

  it('a start time that names the boot, and stays the same for one process', () => {
    expect(processStarted(process.pid)).toMatch(/^[0-9a-f-]{36}\/\d+$/);
    expect(processStarted(process.pid)).toBe(processStarted(process.pid));
    expect(processStarted(process.pid)).not.toBe(processStarted(process.ppid));
  });
});
