/** The Temporal worker: Hookline's workflows and the activities built over the store and HTTP sender. */
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Activities } from './activities';
import { bundleWorkflowsInChild } from './workflow-bundle';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  maxCachedWorkflows: number;
  /** A prebuilt bundle (tests bundle once per run); unset bundles `./workflows` at start, in a child process. */
  workflowBundlePath?: string | undefined;
}

export async function createHooklineWorker(opts: WorkerOptions): Promise<Worker> {
  const workflowBundle = opts.workflowBundlePath ? { codePath: opts.workflowBundlePath } : { code: await bundleWorkflowsInChild() };
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: opts.activities,
    maxCachedWorkflows: opts.maxCachedWorkflows,
    workflowBundle,
  });
}
