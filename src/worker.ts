/** The Temporal worker: Hookline's workflows and the activities built over the store and HTTP sender. */
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Activities } from './activities';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /** A prebuilt bundle (tests bundle once per run); unset bundles `./workflows` at start. */
  workflowBundlePath?: string | undefined;
}

export function createHooklineWorker(opts: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: opts.activities,
    ...(opts.workflowBundlePath ? { workflowBundle: { codePath: opts.workflowBundlePath } } : { workflowsPath: require.resolve('./workflows') }),
  });
}
