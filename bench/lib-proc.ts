/**
 * Process accounting from /proc (Linux): CPU and RSS of this process (API, worker, PGlite and the
 * bench driver all live here) and of its descendants (the Temporal dev server). CPU per delivery is
 * the cheapest profile there is: it says which side of the gRPC wire the cost is on. Also the
 * private PostgreSQL that P6 starts when DATABASE_URL is unset.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const CLOCK_TICKS_PER_S = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcStat {
  pid: number;
  ppid: number;
  cpuMs: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { pid, ppid: Number(fields[1]), cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_S };
  } catch {
    return undefined;
  }
}

function allStats(): ProcStat[] {
  let pids: number[] = [];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
  } catch {
    return [];
  }
  return pids.map(readStat).filter((s): s is ProcStat => s !== undefined);
}

/** Every process below `root` (not `root` itself): for this process, the Temporal dev server. */
export function descendants(root = process.pid): number[] {
  const stats = allStats();
  const found = new Set<number>();
  let frontier = [root];
  while (frontier.length) {
    const next = stats.filter((s) => frontier.includes(s.ppid) && !found.has(s.pid)).map((s) => s.pid);
    next.forEach((pid) => found.add(pid));
    frontier = next;
  }
  return [...found];
}

export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

export interface CpuSample {
  /** This process: API, worker, store (PGlite runs here too), receiver and the load generator. */
  selfMs: number;
  /** Child processes: the Temporal dev server. */
  serverMs: number;
  at: number;
}

export function sampleCpu(): CpuSample {
  const self = process.cpuUsage();
  const serverMs = descendants().reduce((sum, pid) => sum + (readStat(pid)?.cpuMs ?? 0), 0);
  return { selfMs: (self.user + self.system) / 1000, serverMs, at: performance.now() };
}

/** CPU milliseconds spent per unit of work between two samples, per side. */
export function cpuPer(before: CpuSample, after: CpuSample, units: number) {
  const wallMs = after.at - before.at;
  return {
    selfMsPerUnit: (after.selfMs - before.selfMs) / units,
    serverMsPerUnit: (after.serverMs - before.serverMs) / units,
    /** Cores busy on average: above ~1.8 of 2 the machine, not the design, is the limit. */
    selfCores: (after.selfMs - before.selfMs) / wallMs,
    serverCores: (after.serverMs - before.serverMs) / wallMs,
  };
}

/** RSS of the dev server: this process's descendants, less `exclude` (a worker child process) and its own. */
export function serverRssBytes(exclude: number[] = []): number {
  const excluded = new Set(exclude.flatMap((pid) => [pid, ...descendants(pid)]));
  return descendants().filter((pid) => !excluded.has(pid)).reduce((sum, pid) => sum + (rssBytes(pid) || 0), 0);
}

/** CPU milliseconds one process has used so far (NaN once it is gone). */
export function processCpuMs(pid: number): number {
  return readStat(pid)?.cpuMs ?? NaN;
}

export interface PrivatePostgres {
  url: string;
  stop(): void;
}

/**
 * Starts a private PostgreSQL with the project's script (fsync off, loopback only); undefined
 * when the server binaries are missing (the script exits 3), so the caller can fall back to PGlite.
 */
export function startPrivatePostgres(projectRoot: string): PrivatePostgres | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-bench-pg-'));
  const script = join(projectRoot, 'scripts', 'private-postgres.sh');
  const started = spawnSync('bash', [script, 'start', dir], { encoding: 'utf8' });
  if (started.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    if (started.status === 3) return undefined;
    throw new Error(`private PostgreSQL did not start: ${started.stderr}`);
  }
  return {
    url: started.stdout.trim(),
    stop() {
      spawnSync('bash', [script, 'stop', dir], { encoding: 'utf8' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A full GC of the main isolate before a memory reading, so garbage does not pass for cost. The
 * flag is set at run time because `npm run bench` cannot pass node flags through tsx. Workflow
 * isolates live in worker threads and are not collected by this.
 */
export function forceGc(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as unknown;
  if (typeof gc === 'function') (gc as () => void)();
}

export interface PauseStats {
  /** GC pauses in this process's main isolate during the window. */
  gc: { count: number; totalMs: number; maxMs: number };
  /**
   * Event-loop delay during the window. `monitorEventLoopDelay` records a sample only when the
   * loop turns, so a saturated loop reads low (src/api/loop-delay.ts); the GET windows are not.
   */
  loopDelay: { p50Ms: number; p99Ms: number; maxMs: number };
}

/** Watches this process's GC pauses and event-loop delay until `stop()`: what can hold a request up here. */
export function watchPauses(): { stop(): PauseStats } {
  const gc = { count: 0, totalMs: 0, maxMs: 0 };
  // GC entries reach observers a little after the pause: one that began before the window (the
  // forced GC of a memory reading just before it) must not count.
  const since = performance.now();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.startTime < since) continue;
      gc.count++;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  return {
    stop() {
      observer.disconnect();
      delay.disable();
      const ms = (ns: number) => Math.round(ns / 1e4) / 100;
      return { gc: { ...gc, totalMs: Math.round(gc.totalMs), maxMs: Math.round(gc.maxMs * 10) / 10 }, loopDelay: { p50Ms: ms(delay.percentile(50)), p99Ms: ms(delay.percentile(99)), maxMs: ms(delay.max) } };
    },
  };
}
