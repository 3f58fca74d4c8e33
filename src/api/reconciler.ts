/**
 * Squares what Temporal ended without finishing with the store. An operator can terminate (or
 * cancel) any workflow in the Web UI or the CLI; without this, a terminated `fanout/<evt>` would
 * lose the rest of its event, and a terminated `delivery/…` would read `pending` for good.
 *
 * Each round lists, from Temporal's visibility, the `fanOut` and `delivery` runs of this task
 * queue that closed other than completed (or continued as new) since the last round, and for each
 * one that is still the latest run of its workflow id:
 * - a fan-out is started again from its first window. Windows are idempotent (delivery rows are
 *   created on conflict do nothing, children start with REJECT_DUPLICATE), so only what the
 *   ended chain had not started yet is started now;
 * - a delivery still `pending` is closed `failed` with reason `workflow_ended`: resendable, and
 *   recoveries pick it up. It is not restarted, since an operator who ended it meant to stop it.
 *
 * Rounds are idempotent, so they overlap: each reads back a minute before the last one began,
 * because a close can reach visibility late. Several API processes may run rounds at once.
 */
import { WorkflowNotFoundError, type WorkflowClient, type WorkflowExecutionInfo } from '@temporalio/client';
import type { Logger } from '../logger';
import type { Store } from '../store';
import { delivery } from '../workflows/delivery';
import { fanOut } from '../workflows/fan-out';
import { HooklineApp, HooklineEndpoint, HooklineEvent } from '../workflows/search-attributes';
import type { EventRef } from './dispatcher';

/** How far back the first round of a process looks: closes older than this are not repaired. */
export const RECONCILE_LOOKBACK_MS = 3 * 24 * 3600_000;
/** Each round reads back this far before the previous round's start (late visibility). */
const RECONCILE_OVERLAP_MS = 60_000;

/**
 * The visibility query for runs of these workflow types on this task queue that closed other
 * than completed or continued as new, at or after `since`. Plain `=`/`!=` terms, which every
 * visibility store (SQLite, PostgreSQL, Elasticsearch) accepts.
 */
export function endedRunsQuery(taskQueue: string, workflowTypes: readonly string[], since: Date): string {
  const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const types = workflowTypes.map((t) => `WorkflowType = ${quote(t)}`).join(' OR ');
  return [
    `TaskQueue = ${quote(taskQueue)}`,
    `(${types})`,
    `ExecutionStatus != 'Running'`,
    `ExecutionStatus != 'Completed'`,
    `ExecutionStatus != 'ContinuedAsNew'`,
    `CloseTime >= ${quote(since.toISOString())}`,
  ].join(' AND ');
}

export interface ReconcileResult {
  fanOutsRestarted: number;
  deliveriesClosed: number;
}

export interface ReconcilerDeps {
  workflows: Pick<WorkflowClient, 'list' | 'getHandle'>;
  store: Store;
  taskQueue: string;
  logger: Logger;
  /** Starts an event's fan-out again (the dispatcher's sweep start: a failed or ended run may be replaced). */
  restartFanOut(event: EventRef): Promise<void>;
  now?: () => number;
}

export function createReconciler(deps: ReconcilerDeps) {
  const { workflows, store, logger } = deps;
  const now = deps.now ?? Date.now;
  let since = new Date(now() - RECONCILE_LOOKBACK_MS);

  /** Whether `run` is still its workflow id's latest run (a resend or a restart makes a newer one). */
  async function isLatest(run: WorkflowExecutionInfo): Promise<boolean> {
    try {
      const latest = await workflows.getHandle(run.workflowId).describe();
      return latest.runId === run.runId;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  function attribute(run: WorkflowExecutionInfo, key: typeof HooklineApp): string | undefined {
    return run.typedSearchAttributes.get(key);
  }

  async function repairFanOut(run: WorkflowExecutionInfo): Promise<boolean> {
    const appId = attribute(run, HooklineApp);
    const eventId = attribute(run, HooklineEvent);
    if (!appId || !eventId || !(await isLatest(run))) return false;
    const event = await store.events.get(appId, eventId);
    if (!event) return false;
    await deps.restartFanOut({ id: event.id, appId: event.appId, type: event.type, channels: event.channels, endpointIds: event.endpointIds });
    logger.info({ eventId, runId: run.runId, status: run.status.name }, 'reconciler: started again a fan-out that Temporal ended unfinished');
    return true;
  }

  async function repairDelivery(run: WorkflowExecutionInfo): Promise<boolean> {
    const eventId = attribute(run, HooklineEvent);
    const endpointId = attribute(run, HooklineEndpoint);
    if (!eventId || !endpointId) return false;
    // The store first: most ended runs were closed by an earlier round, with no Temporal call.
    const row = await store.deliveries.forPair(eventId, endpointId);
    if (row?.status !== 'pending' || !(await isLatest(run))) return false;
    const closed = await store.deliveries.closeEnded(row.id, row);
    if (closed) logger.info({ deliveryId: row.id, runId: run.runId, status: run.status.name }, 'reconciler: closed a delivery whose workflow Temporal ended unfinished');
    return closed;
  }

  async function round(): Promise<ReconcileResult> {
    const startedAt = now();
    const result: ReconcileResult = { fanOutsRestarted: 0, deliveriesClosed: 0 };
    const query = endedRunsQuery(deps.taskQueue, [fanOut.name, delivery.name], since);
    let failed = 0;
    for await (const run of workflows.list({ query })) {
      try {
        if (run.type === fanOut.name && (await repairFanOut(run))) result.fanOutsRestarted++;
        if (run.type === delivery.name && (await repairDelivery(run))) result.deliveriesClosed++;
      } catch (err) {
        // One run that cannot be repaired now does not hold back the others; the next round retries it.
        failed++;
        logger.warn({ err, workflowId: run.workflowId, runId: run.runId }, 'reconciler: could not repair an ended run; the next round tries again');
      }
    }
    // Only a round that repaired every run moves the cursor: otherwise the same window is read again.
    if (failed === 0) since = new Date(startedAt - RECONCILE_OVERLAP_MS);
    return result;
  }

  let last: Promise<unknown> = Promise.resolve();
  return {
    /** One round, after any round already under way (so it sees every close made before the call). */
    reconcile(): Promise<ReconcileResult> {
      const next = last.catch(() => undefined).then(round);
      last = next;
      return next;
    },
    /** Waits for the round under way, if any. */
    async idle(): Promise<void> {
      await last.catch(() => undefined);
    },
  };
}
export type Reconciler = ReturnType<typeof createReconciler>;
