/**
 * Squares what Temporal ended without finishing with the store. An operator can terminate (or
 * cancel) any workflow in the Web UI or the CLI; without this, a terminated `fanout/<evt>` would
 * lose the rest of its event, and a terminated `delivery/…` would read `pending` for good.
 *
 * Each round lists, from Temporal's visibility, the `fanOut` and `delivery` runs of this task
 * queue that closed other than completed (or continued as new) since the last round, and for each
 * one that is still the latest run of its workflow id (the ids say which event and endpoint):
 * - a fan-out that was terminated, timed out or failed is started again from its first window.
 *   Windows are idempotent (delivery rows are created on conflict do nothing, children start
 *   with REJECT_DUPLICATE), so only what the ended chain had not started is started now. A
 *   canceled one is left alone: cancelling is how an operator stops an event's fan-out;
 * - a delivery still `pending` is closed `failed` with reason `workflow_ended`: resendable, and
 *   recoveries pick it up. It is not restarted, since an operator who ended it meant to stop it.
 *
 * Rounds are idempotent, so they overlap: each reads back a few minutes before the last one
 * began, because a close can reach visibility late. Several API processes may run rounds at once.
 */
import { WorkflowNotFoundError, type WorkflowClient, type WorkflowExecutionInfo } from '@temporalio/client';
import type { Logger } from '../logger';
import type { Store } from '../store';
import { delivery, parseDeliveryWorkflowId } from '../workflows/delivery';
import { fanOut, parseFanOutWorkflowId } from '../workflows/fan-out';
import type { EventRef } from './dispatcher';

/** How far back the first round of a process looks: closes older than this are not repaired. */
export const RECONCILE_LOOKBACK_MS = 3 * 24 * 3600_000;
/** Each round reads back this far before the previous round's start (late visibility). */
const RECONCILE_OVERLAP_MS = 5 * 60_000;

/** A string literal in a visibility query, quoted and escaped. */
export const visibilityString = (v: string): string => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * The visibility query for runs of these workflow types on this task queue that closed other
 * than completed or continued as new, at or after `since`. Plain `=`/`!=` terms, which every
 * visibility store (SQLite, PostgreSQL, Elasticsearch) accepts.
 */
export function endedRunsQuery(taskQueue: string, workflowTypes: readonly string[], since: Date): string {
  const types = workflowTypes.map((t) => `WorkflowType = ${visibilityString(t)}`).join(' OR ');
  return [
    `TaskQueue = ${visibilityString(taskQueue)}`,
    `(${types})`,
    `ExecutionStatus != 'Running'`,
    `ExecutionStatus != 'Completed'`,
    `ExecutionStatus != 'ContinuedAsNew'`,
    `CloseTime >= ${visibilityString(since.toISOString())}`,
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
  /** Starts an event's fan-out again (the dispatcher's sweep start: an ended run may be replaced); true if it started one. */
  restartFanOut(event: EventRef): Promise<boolean>;
  now?: () => number;
}

export function createReconciler(deps: ReconcilerDeps) {
  const { workflows, store, logger } = deps;
  const now = deps.now ?? Date.now;
  let since = new Date(now() - RECONCILE_LOOKBACK_MS);
  let stopping = false;

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

  async function repairFanOut(run: WorkflowExecutionInfo): Promise<boolean> {
    const eventId = parseFanOutWorkflowId(run.workflowId);
    if (!eventId || run.status.name === 'CANCELLED' || !(await isLatest(run))) return false;
    const event = await store.events.byId(eventId);
    if (!event) return false;
    const started = await deps.restartFanOut({ id: event.id, appId: event.appId, type: event.type, channels: event.channels, endpointIds: event.endpointIds });
    if (started) logger.info({ eventId, runId: run.runId, status: run.status.name }, 'reconciler: started again a fan-out that Temporal ended unfinished');
    return started;
  }

  async function repairDelivery(run: WorkflowExecutionInfo): Promise<boolean> {
    const pair = parseDeliveryWorkflowId(run.workflowId);
    if (!pair) return false;
    // The store first: most ended runs were closed by an earlier round, with no Temporal call.
    const row = await store.deliveries.forPair(pair.eventId, pair.endpointId);
    if (row?.status !== 'pending' || !(await isLatest(run))) return false;
    if (!(await store.deliveries.closeEnded(row.id, row))) return false;
    // A resend may have started a newer run between the check and the close: undo it then.
    if (!(await isLatest(run))) {
      await store.deliveries.reopenEnded(row.id, row);
      return false;
    }
    logger.info({ deliveryId: row.id, runId: run.runId, status: run.status.name }, 'reconciler: closed a delivery whose workflow Temporal ended unfinished');
    return true;
  }

  async function round(): Promise<ReconcileResult> {
    const startedAt = now();
    const result: ReconcileResult = { fanOutsRestarted: 0, deliveriesClosed: 0 };
    const query = endedRunsQuery(deps.taskQueue, [fanOut.name, delivery.name], since);
    // The earliest close this round could not repair: the next round reads from there. A round
    // cut short by `stop` leaves the cursor where it was.
    const unmoved = since.getTime() + RECONCILE_OVERLAP_MS;
    let earliestFailed = Infinity;
    for await (const run of workflows.list({ query })) {
      if (stopping) {
        earliestFailed = Math.min(earliestFailed, unmoved);
        break;
      }
      try {
        if (run.type === fanOut.name && (await repairFanOut(run))) result.fanOutsRestarted++;
        if (run.type === delivery.name && (await repairDelivery(run))) result.deliveriesClosed++;
      } catch (err) {
        // One run that cannot be repaired now does not hold back the others; the next round retries it.
        earliestFailed = Math.min(earliestFailed, run.closeTime?.getTime() ?? unmoved);
        logger.warn({ err, workflowId: run.workflowId, runId: run.runId }, 'reconciler: could not repair an ended run; the next round tries again');
      }
    }
    since = new Date(Math.min(startedAt, earliestFailed) - RECONCILE_OVERLAP_MS);
    return result;
  }

  let last: Promise<unknown> = Promise.resolve();
  let running = false;
  const chain = (): Promise<ReconcileResult> => {
    const next = last.catch(() => undefined).then(async () => {
      running = true;
      try {
        return await round();
      } finally {
        running = false;
      }
    });
    last = next;
    return next;
  };
  return {
    /** One round, after any round already under way (so it sees every close made before the call). */
    reconcile: chain,
    /** A round unless one is under way (the periodic one: slow rounds must not pile up). */
    reconcileIfIdle(): Promise<ReconcileResult> | undefined {
      return running ? undefined : chain();
    },
    /** Ends the round under way at its next run, and waits for it. */
    async stop(): Promise<void> {
      stopping = true;
      await last.catch(() => undefined);
    },
  };
}
export type Reconciler = ReturnType<typeof createReconciler>;
