/**
 * For workflow tests: a worker on the shared dev server, running the real workflow bundle (built
 * once per run by the global setup) with fake activities, on a task queue of its own. Activities
 * a suite does not pass answer as if there were nothing to do.
 */
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, inject } from 'vitest';
import type { Activities } from '../../src/activities';

const idle: Activities = {
  async sendWebhook() {
    return { outcome: 'succeeded', statusCode: 200, errorCode: null, nextDelayMs: null, scheduleLength: 3 };
  },
  async checkEndpointHealth() {
    return { verdict: 'healthy', reason: 'fake', nextCheckMs: 0 };
  },
  async stopDisabledDeliveries() {
    return { stopped: 0 };
  },
  async recoverPage() {
    return { resent: 0, lastId: null, endpointGone: true };
  },
  async resolveEndpoints() {
    return { deliveries: [], skipped: 0, nextAfter: null };
  },
};

export function useWorkflowWorker(activities: Partial<Activities>): { env: () => TestWorkflowEnvironment; taskQueue: string } {
  const taskQueue = `wf-test-${randomUUID()}`;
  let env: TestWorkflowEnvironment | undefined;
  let worker: Worker | undefined;
  let run: Promise<void> | undefined;
  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createFromExistingServer({ address: inject('temporalAddress') });
    worker = await Worker.create({ connection: env.nativeConnection, taskQueue, activities: { ...idle, ...activities }, workflowBundle: { codePath: inject('workflowBundlePath') } });
    run = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await run;
    await env?.teardown();
  });
  return {
    env: () => {
      if (!env) throw new Error('useWorkflowWorker: the environment starts in beforeAll');
      return env;
    },
    taskQueue,
  };
}
