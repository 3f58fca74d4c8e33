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
  /** Workflow tasks, and local activities, running at once (`taskSlots`). */
  taskSlots: number;
  /** A prebuilt bundle (tests bundle once per run); unset bundles `./workflows` at start, in a child process. */
  workflowBundlePath?: string | undefined;
}

/**
 * Slots for workflow tasks and local activities, the same number of each. Each attempt's POST is
 * a local activity, and its workflow task holds its slot until the POST is over: the two limits
 * together bound the POSTs a worker has open, and with them every workflow task it can run. With
 * the SDK's defaults (40 workflow tasks), six endpoints that each took 2 s to answer, with a
 * backlog, left every other endpoint's deliveries waiting for the backlog to drain (bench P7).
 * POSTs wait on the network, not the CPU, so the slots can be many; a workflow task may not have
 * more than the workflow cache holds (the SDK lowers it to that), unless the cache is off.
 */
export function taskSlotOptions(taskSlots: number, maxCachedWorkflows: number) {
  const workflowTasks = maxCachedWorkflows > 0 ? Math.max(2, Math.min(taskSlots, maxCachedWorkflows)) : taskSlots;
  return { maxConcurrentWorkflowTaskExecutions: workflowTasks, maxConcurrentLocalActivityExecutions: taskSlots };
}

export async function createHooklineWorker(opts: WorkerOptions): Promise<Worker> {
  const workflowBundle = opts.workflowBundlePath ? { codePath: opts.workflowBundlePath } : { code: await bundleWorkflowsInChild() };
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: opts.activities,
    maxCachedWorkflows: opts.maxCachedWorkflows,
    ...taskSlotOptions(opts.taskSlots, opts.maxCachedWorkflows),
    workflowBundle,
  });
}
