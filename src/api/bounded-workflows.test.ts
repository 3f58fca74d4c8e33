/** Bounded Temporal calls against a real client whose server does not answer. */
import { getEventListeners } from 'node:events';
import { createServer } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundedWorkflows } from './bounded-workflows';

describe('boundedWorkflows', () => {
  let connection: Connection;
  let client: Client;
  beforeAll(async () => {
    // A port that was free a moment ago: nothing answers there.
    const probe = createServer();
    const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port)));
    await new Promise((resolve) => probe.close(resolve));
    connection = Connection.lazy({ address: `127.0.0.1:${port}` });
    client = new Client({ connection });
  });
  afterAll(async () => {
    await connection.close();
  });

  const startOptions = { taskQueue: 'q', workflowId: 'wf-1', args: [] as [] };

  it('gives up on an unreachable Temporal at its deadline, not after the client\'s own retries', async () => {
    const shutdown = new AbortController();
    const workflows = boundedWorkflows(client, shutdown.signal, 300, 600);
    const started = Date.now();
    await expect(workflows.start('someWorkflow', startOptions)).rejects.toThrow();
    await expect(workflows.signalWithStart('someWorkflow', { ...startOptions, signal: 'go', signalArgs: [] })).rejects.toThrow();
    // Two calls; unbounded, each took about 20 s.
    expect(Date.now() - started).toBeLessThan(5_000);
    // Nothing stays attached to the process's shutdown signal once the calls have ended.
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
  });

  it('bounds a listing\'s page reads and a handle\'s describe the same way', async () => {
    const workflows = boundedWorkflows(client, new AbortController().signal, 300);
    const started = Date.now();
    const listed = async () => {
      for await (const run of workflows.list({ query: 'WorkflowType = "x"' })) return run;
      return undefined;
    };
    await expect(listed()).rejects.toThrow();
    await expect(workflows.getHandle('wf-1').describe()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('fails at once after shutdown, whatever the deadline', async () => {
    const shutdown = new AbortController();
    const workflows = boundedWorkflows(client, shutdown.signal, 60_000);
    const underWay = workflows.start('someWorkflow', startOptions);
    shutdown.abort();
    const started = Date.now();
    await expect(underWay).rejects.toThrow();
    await expect(workflows.start('someWorkflow', startOptions)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
