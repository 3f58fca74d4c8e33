/**
 * Results: one row per figure, each with the reference it is compared to (so every figure reads as
 * a ratio too) and, where the issue sets one, its target and verdict. Rendered as a table on stdout
 * and written whole, with each scenario's details, to bench/results/<timestamp>.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

export interface Reference {
  name: string;
  value: number;
}

export interface Row {
  id: string;
  metric: string;
  value: number;
  unit: string;
  ref?: Reference;
  target?: string;
  /** Undefined when the figure has no target (context only). */
  pass?: boolean;
  note?: string;
}

export interface ScenarioOutput {
  rows: Row[];
  details: Record<string, unknown>;
}

export interface RunReport {
  startedAt: string;
  quick: boolean;
  /** The code measured: HEAD, and whether src/ differed from it (read-only git calls). */
  code: { commit: string; srcModified: boolean } | null;
  machine: { cpus: number; model: string | undefined; loadavgAtStart: number[]; node: string };
  stores: Record<string, string>;
  /** Per stack: how long it took to start and warm, and what it costs idle. */
  stacks: Record<string, unknown>;
  references: Record<string, unknown>;
  scenarios: Record<string, Record<string, unknown>>;
  rows: Row[];
  notes: string[];
  errors: string[];
  finishedAt?: string;
}

export function newReport(quick: boolean): RunReport {
  return {
    startedAt: new Date().toISOString(),
    quick,
    code: codeVersion(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavgAtStart: loadavg(), node: process.version },
    stores: {},
    stacks: {},
    references: {},
    scenarios: {},
    rows: [],
    notes: [],
    errors: [],
  };
}

function codeVersion(): RunReport['code'] {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: join(__dirname, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return { commit: git('rev-parse', '--short', 'HEAD'), srcModified: git('status', '--porcelain', '--', 'src').length > 0 };
  } catch {
    return null;
  }
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function ratioOf(row: Row): number | undefined {
  return row.ref && row.ref.value !== 0 && Number.isFinite(row.ref.value) ? row.value / row.ref.value : undefined;
}

export function renderTable(rows: readonly Row[]): string {
  const header = ['id', 'metric', 'value', 'reference', 'ratio', 'target', 'result'];
  const body = rows.map((r) => {
    const ratio = ratioOf(r);
    return [
      r.id,
      r.metric,
      `${fmt(r.value)} ${r.unit}`.trim(),
      r.ref ? `${r.ref.name} ${fmt(r.ref.value)}` : '',
      ratio === undefined ? '' : `${(ratio * 100).toFixed(ratio < 0.1 ? 1 : 0)}%`,
      r.target ?? '',
      r.pass === undefined ? '' : r.pass ? 'PASS' : 'FAIL',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.id} ${r.metric}: ${r.note}`);
  return [line(header), rule, ...body.map(line), ...(notes.length ? ['', 'notes:', ...notes] : [])].join('\n');
}

/** Writes the report; returns the path. JSON cannot hold NaN, so it becomes null there. */
export function writeReport(report: RunReport, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${report.startedAt.replace(/[:.]/g, '-')}.json`);
  const withRatios = { ...report, rows: report.rows.map((r) => ({ ...r, ratio: ratioOf(r) ?? null })) };
  writeFileSync(path, `${JSON.stringify(withRatios, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
  return path;
}
