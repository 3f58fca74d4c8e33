/**
 * What a deletion leaves running in Temporal. Deleting an endpoint (or its application) deletes
 * its deliveries' rows, but not the workflows still waiting on a retry timer, nor the endpoint's
 * health workflow: each would end only at its next wake-up, up to a day away (the `standard`
 * schedule), and the Web UI would list it running until then. These are woken now instead: a
 * delivery by the signal a disable sends, a health workflow by its failure signal. Each then finds
 * its endpoint gone and ends without sending.
 *
 * Best effort: visibility can lag a run that has just started, and that run ends at its own first
 * look at the store anyway. A wake that fails leaves the run to end at its timer, as before.
 */
import { signalIfRunning } from '../temporal';
import { delivery, endpointDisabledSignal } from '../workflows/delivery';
import { endpointHealthWorkflowId, failureSignal } from '../workflows/endpoint-health';
import type { WorkflowStarter } from './dispatcher';
import { visibilityString } from './reconciler';

/** Running deliveries of an application (`HooklineApp`) or of an endpoint (`HooklineEndpoint`). */
export function runningDeliveriesQuery(taskQueue: string, key: 'HooklineApp' | 'HooklineEndpoint', id: string): string {
  return [`TaskQueue = ${visibilityString(taskQueue)}`, `${key} = ${visibilityString(id)}`, `WorkflowType = ${visibilityString(delivery.name)}`, `ExecutionStatus = 'Running'`].join(' AND ');
}

/**
 * Wakes the running workflows of deleted endpoints: `scope` names the deleted endpoint, or the
 * deleted application with the ids its endpoints had. Every wake is tried; the first failure is
 * thrown at the end. Returns how many it woke.
 */
export async function wakeDeletedEndpointWorkflows(
  workflows: WorkflowStarter,
  taskQueue: string,
  scope: { endpointId: string } | { appId: string; endpointIds: readonly string[] },
): Promise<number> {
  let woken = 0;
  let failed: Error | undefined;
  // One not running (it ended meanwhile, or a health workflow was never started) needs no wake.
  const wake = async (workflowId: string, signal: (handle: ReturnType<WorkflowStarter['getHandle']>) => Promise<void>) => {
    try {
      if (await signalIfRunning(signal(workflows.getHandle(workflowId)))) woken++;
    } catch (err) {
      failed ??= err instanceof Error ? err : new Error(String(err));
    }
  };
  // Health workflows have fixed ids: woken by id, without visibility.
  const endpointIds = 'endpointId' in scope ? [scope.endpointId] : scope.endpointIds;
  for (const endpointId of endpointIds) await wake(endpointHealthWorkflowId(endpointId), (h) => h.signal(failureSignal));
  const [key, id] = 'endpointId' in scope ? (['HooklineEndpoint', scope.endpointId] as const) : (['HooklineApp', scope.appId] as const);
  for await (const run of workflows.list({ query: runningDeliveriesQuery(taskQueue, key, id) })) await wake(run.workflowId, (h) => h.signal(endpointDisabledSignal));
  if (failed !== undefined) throw failed;
  return woken;
}
