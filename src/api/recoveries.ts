/**
 * Recoveries on the API's behalf: starting one (`POST …/recover`) and reading its progress. A
 * recovery is a `recover` workflow; its request rides in the memo, so an ended one is readable
 * without a worker.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { IdPrefix, newId } from '../domain/ids';
import { recover, recoverProgressQuery, recoverWorkflowId, RESENT_MEMO, type RecoverInput, type RecoverProgress } from '../workflows/recover';
import { HooklineApp, HooklineEndpoint } from '../workflows/search-attributes';
import type { WorkflowStarter } from './dispatcher';

export function recoveryStarter(workflows: WorkflowStarter, taskQueue: string) {
  return {
    /** Starts a recovery of the endpoint's failed and skipped deliveries in the window. */
    async recover(r: { appId: string; endpointId: string; since: Date; until: Date; perS: number }): Promise<RecoverProgress> {
      const recoveryId = newId(IdPrefix.recovery);
      const input: RecoverInput = { recoveryId, appId: r.appId, endpointId: r.endpointId, sinceMs: r.since.getTime(), untilMs: r.until.getTime(), perS: r.perS, asOfMs: Date.now() };
      await workflows.start(recover, {
        workflowId: recoverWorkflowId(recoveryId),
        taskQueue,
        args: [input],
        // The request, readable without a worker once the recovery has ended (memo survives continue-as-new).
        memo: { recovery: input },
        typedSearchAttributes: [
          { key: HooklineApp, value: r.appId },
          { key: HooklineEndpoint, value: r.endpointId },
        ],
      });
      return { ...input, status: 'running', resent: 0, after: null };
    },

    /** A recovery of this endpoint with its progress, or undefined if there is none by that id. */
    async recovery(endpointId: string, recoveryId: string): Promise<RecoverProgress | undefined> {
      const handle = workflows.getHandle<typeof recover>(recoverWorkflowId(recoveryId));
      let described;
      try {
        described = await handle.describe();
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      }
      const request = described.memo?.recovery as RecoverInput | undefined;
      if (request?.endpointId !== endpointId) return undefined;
      // A running recovery answers its query; an ended one needs no worker: its result, or how it ended.
      if (described.status.name === 'RUNNING') return handle.query(recoverProgressQuery);
      // A stopped run's count is the last its pages wrote to the memo.
      const resent = described.memo?.[RESENT_MEMO];
      const ended = described.status.name === 'COMPLETED' ? await handle.result() : { resent: typeof resent === 'number' ? resent : 0, status: 'stopped' as const };
      return { ...request, status: ended.status, resent: ended.resent, after: null };
    },
  };
}
