/**
 * Temporal's cost per delivery, read from Temporal itself: history lengths from visibility (one
 * list call covers a whole batch) and event-type breakdowns from fetched histories. History events
 * are what the server persists per workflow, so they are the best cheap proxy for its cost.
 */
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { until } from './lib-util';

export interface HistoryTotals {
  /** Workflow executions (each continued-as-new run counts once). */
  runs: number;
  totalEvents: number;
  maxEvents: number;
  byType: Record<string, { runs: number; events: number; maxEvents: number }>;
}

export async function historyTotals(client: Client, query: string): Promise<HistoryTotals> {
  const totals: HistoryTotals = { runs: 0, totalEvents: 0, maxEvents: 0, byType: {} };
  for await (const w of client.workflow.list({ query })) {
    totals.runs++;
    totals.totalEvents += w.historyLength;
    totals.maxEvents = Math.max(totals.maxEvents, w.historyLength);
    const t = (totals.byType[w.type] ??= { runs: 0, events: 0, maxEvents: 0 });
    t.runs++;
    t.events += w.historyLength;
    t.maxEvents = Math.max(t.maxEvents, w.historyLength);
  }
  return totals;
}

/** Waits until visibility shows no running workflow for the query; history lengths are final then. */
export async function waitNoneRunning(client: Client, query: string, timeoutMs: number): Promise<boolean> {
  return until(async () => (await client.workflow.count(`(${query}) AND ExecutionStatus = 'Running'`)).count === 0, timeoutMs, 250);
}

/** `EVENT_TYPE_ACTIVITY_TASK_SCHEDULED` → `ActivityTaskScheduled`, as the Web UI names them. */
function eventTypeName(type: number | null | undefined): string {
  const raw = type == null ? undefined : temporal.api.enums.v1.EventType[type];
  if (!raw) return `type ${String(type)}`;
  return raw
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_m, _sep: string, c: string) => c.toUpperCase());
}

export interface HistoryBreakdown {
  workflowId: string;
  runId: string | undefined;
  events: number;
  byEventType: Record<string, number>;
}

/** One run's history, counted by event type (one fetch; cheap). */
export async function breakdown(client: Client, workflowId: string, runId?: string): Promise<HistoryBreakdown> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const byEventType: Record<string, number> = {};
  for (const e of history.events ?? []) {
    let name = eventTypeName(e.eventType);
    // Failed workflow tasks are wasted work; the cause says why (UnhandledCommand: new events
    // arrived while the task tried to close the run).
    const cause = e.workflowTaskFailedEventAttributes?.cause;
    if (cause != null) name += ` (${temporal.api.enums.v1.WorkflowTaskFailedCause[cause]?.replace(/^WORKFLOW_TASK_FAILED_CAUSE_/, '') ?? cause})`;
    byEventType[name] = (byEventType[name] ?? 0) + 1;
  }
  return { workflowId, runId, events: history.events?.length ?? 0, byEventType };
}

/** The first run of a workflow id (visibility lists every run; the oldest started first). */
export async function firstRunId(client: Client, workflowId: string): Promise<string | undefined> {
  let first: { runId: string; start: number } | undefined;
  for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    if (!first || w.startTime.getTime() < first.start) first = { runId: w.runId, start: w.startTime.getTime() };
  }
  return first?.runId;
}

/** Renders breakdowns side by side as a markdown table (event type × workflow). */
export function breakdownTable(columns: { label: string; b: HistoryBreakdown }[]): string {
  const types = [...new Set(columns.flatMap((c) => Object.keys(c.b.byEventType)))].sort();
  const head = `| event type | ${columns.map((c) => c.label).join(' | ')} |`;
  const rule = `|---|${columns.map(() => '---:').join('|')}|`;
  const rows = types.map((t) => `| ${t} | ${columns.map((c) => String(c.b.byEventType[t] ?? '')).join(' | ')} |`);
  const total = `| **total** | ${columns.map((c) => `**${c.b.events}**`).join(' | ')} |`;
  return [head, rule, ...rows, total].join('\n');
}

export interface TimelineStep {
  /** Milliseconds since the timeline's origin (wall clock; server and bench share the machine's). */
  ms: number;
  step: string;
}

/**
 * One delivery's path in time: every history event of the given workflows, plus the bench's own
 * marks (POST sent, 202 received, POST arrived), on one wall clock. It shows where latency goes:
 * task queue waits (Scheduled → Started), activity run time (Started → Completed), child starts.
 */
export async function timeline(client: Client, originMs: number, workflows: { label: string; workflowId: string }[], marks: TimelineStep[]): Promise<TimelineStep[]> {
  const steps: TimelineStep[] = [...marks];
  for (const w of workflows) {
    const history = await client.workflow.getHandle(w.workflowId).fetchHistory();
    for (const e of history.events ?? []) steps.push({ ms: tsToMs(e.eventTime) - originMs, step: `${w.label}: ${eventTypeName(e.eventType)}` });
  }
  return steps.sort((a, b) => a.ms - b.ms);
}

export function timelineTable(steps: readonly TimelineStep[]): string {
  return ['| ms | step |', '|---:|---|', ...steps.map((s) => `| ${s.ms.toFixed(1)} | ${s.step} |`)].join('\n');
}
