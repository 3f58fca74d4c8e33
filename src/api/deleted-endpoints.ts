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
import { WorkflowNotFoundError } from '@temporalio/client';
import { delivery, endpointDisabledSignal } from '../workflows/delivery';
import { endpointHealth, endpointHealthWorkflowId, failureSignal } from '../workflows/endpoint-health';
import type { WorkflowStarter } from './dispatcher';
import { visibilityString } from './reconciler';

/** Running deliveries of an application (`HooklineApp`) or an endpoint (`HooklineEndpoint`), and an endpoint's health workflow. */
export function runningForQuery(taskQueue: string, key: 'HooklineApp' | 'HooklineEndpoint', id: string): string {
  const types = key === 'HooklineApp' ? [delivery.name] : [delivery.name, endpointHealth.name];
  return [
    `TaskQueue = ${visibilityString(taskQueue)}`,
    `${key} = ${visibilityString(id)}`,
    `(${types.map((t) => `WorkflowType = ${visibilityString(t)}`).join(' OR ')})`,
    `ExecutionStatus = 'Running'`,
  ].join(' AND ');
}

/**
 * Wakes the running workflows of deleted endpoints: `scope` names the deleted endpoint, or the
 * deleted application with the ids its endpoints had. Returns how many it woke.
 */
export async function wakeDeletedEndpointWorkflows(
  workflows: WorkflowStarter,
  taskQueue: string,
  scope: { endpointId: string } | { appId: string; endpointIds: readonly string[] },
): Promise<number> {
  let woken = 0;
  const wake = async (workflowId: string, type: string) => {
    try {
      if (type === delivery.name) await workflows.getHandle(workflowId).signal(endpointDisabledSignal);
      else await workflows.getHandle(workflowId).signal(failureSignal);
      woken++;
    } catch (err) {
      // It ended meanwhile (or, for a health workflow named by id, was not running).
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  };
  const [key, id] = 'endpointId' in scope ? (['HooklineEndpoint', scope.endpointId] as const) : (['HooklineApp', scope.appId] as const);
  for await (const run of workflows.list({ query: runningForQuery(taskQueue, key, id) })) await wake(run.workflowId, run.type);
  // A health workflow carries only its endpoint's id: an application's are named one by one.
  if ('endpointIds' in scope) for (const endpointId of scope.endpointIds) await wake(endpointHealthWorkflowId(endpointId), endpointHealth.name);
  return woken;
}
