/**
 * The temporal-floor reference workflow: one local activity that does nothing, then return. No
 * Hookline code, so its rate is what the same Temporal server and the same worker defaults allow
 * for the cheapest possible one-workflow-per-delivery design (about 6 history events). Bundled by
 * the bench's floor worker (workflowsPath); it runs in the workflow sandbox, so no Node imports.
 */
import { proxyLocalActivities } from '@temporalio/workflow';

export interface FloorActivities {
  noop(): Promise<void>;
}

const { noop } = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '10s' });

export async function floorWorkflow(): Promise<void> {
  await noop();
}
