/**
 * Accepted means durable: a crash between the event commit and the workflow start loses nothing,
 * and a worker killed with SIGKILL while a delivery waits on its retry timer loses nothing either.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type WorkflowStartOptions } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deliveryStateQuery, deliveryWorkflowId } from '../src/workflows/delivery';
import { fanOutWorkflowId } from '../src/workflows/fan-out';
import { apiClient } from './support/api-client';
import { createApp, createEndpoint, deliveriesOf, sendEvent } from './support/factories';
import { ADMIN_KEY, overrideWorkflows, startWithEnv, storeKinds, testEnv } from './support/hookline';
import type { WorkflowStarter } from '../src/api/dispatcher';
import { freePort, killHard, spawnHookline, waitHealthy } from './support/process';
import { startReceiver, type Receiver } from './support/receiver';
import { waitUntil } from './support/wait';

describe.each(storeKinds)('durability on %s', (kind) => {
  let r: Receiver;
  beforeAll(async () => {
    r = await startReceiver();
  });
  afterAll(async () => {
    await r?.close();
  });

  it('an event committed but never started is dispatched at the next start', async () => {
    const env = await testEnv(kind, { HOOKLINE_DISPATCH_GRACE_MS: '0' });
    // The process "dies" between the commit and the workflow start: every start fails.
    const broken = overrideWorkflows({ start: () => Promise.reject(new Error('injected: crash before the workflow start')) });
    const first = await startWithEnv(env, { wrapWorkflows: broken });
    const app = await createApp(first.api);
    await createEndpoint(first.api, app.id, { url: `${r.url}/injected` });
    const event = await sendEvent(first.api, app.id);
    const stored = await first.hookline.store.events.get(app.id, event.id);
    expect(stored?.dispatchedAt).toBeNull();
    await expect(first.hookline.client.workflow.getHandle(fanOutWorkflowId(event.id)).describe()).rejects.toThrow();
    await first.stop({ keepData: true });

    const second = await startWithEnv(env);
    try {
      const [delivery] = await waitUntil(() => deliveriesOf(second.api, app.id, event.id), (ds) => ds[0]?.status === 'succeeded', 30_000, 'recovered delivery');
      expect(delivery).toBeDefined();
      expect(r.requests.filter((q) => q.path === '/injected')).toHaveLength(1);
      expect((await second.hookline.store.events.get(app.id, event.id))?.dispatchedAt).toBeInstanceOf(Date);
    } finally {
      await second.stop();
    }
  });

  it('refuses to start with an encryption key that cannot open the stored secrets, and starts with it listed as previous', async () => {
    const env = await testEnv(kind);
    const first = await startWithEnv(env);
    const app = await createApp(first.api);
    await createEndpoint(first.api, app.id, { url: `${r.url}/keyed` });
    await first.stop({ keepData: true });
    const otherKey = { ...env, HOOKLINE_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
    await expect(startWithEnv(otherKey)).rejects.toThrow('endpoint secrets sealed with an encryption key this process was not given');
    const rotated = await startWithEnv({ ...otherKey, HOOKLINE_PREVIOUS_ENCRYPTION_KEYS: env.HOOKLINE_ENCRYPTION_KEY! });
    await rotated.stop();
  });

  it('an event whose fan-out an operator terminated before it resolved any endpoint is started again by the sweep', async () => {
    const env = await testEnv(kind, { HOOKLINE_DISPATCH_GRACE_MS: '0' });
    // The API's own start goes to a task queue no worker polls, so that run is still waiting
    // when it is terminated; the sweep's start is left alone.
    let starts = 0;
    const divertFirst = (w: WorkflowStarter): WorkflowStarter => ({
      ...overrideWorkflows({})(w),
      start: ((workflow: string, options: WorkflowStartOptions) => w.start(workflow, starts++ === 0 ? { ...options, taskQueue: 'no-worker-polls-this' } : options)) as WorkflowStarter['start'],
    });
    const t = await startWithEnv(env, { wrapWorkflows: divertFirst });
    try {
      const app = await createApp(t.api);
      await createEndpoint(t.api, app.id, { url: `${r.url}/terminated` });
      const event = await sendEvent(t.api, app.id);
      const handle = t.hookline.client.workflow.getHandle(fanOutWorkflowId(event.id));
      await waitUntil(() => handle.describe().then((d) => d.status.name, () => 'none'), (s) => s === 'RUNNING', 10_000, 'the diverted fan-out');
      await handle.terminate('an operator stops it');
      await t.hookline.dispatcher!.sweep();
      await waitUntil(() => deliveriesOf(t.api, app.id, event.id), (ds) => ds[0]?.status === 'succeeded', 30_000, 'delivered after the sweep');
      expect(r.requests.filter((q) => q.path === '/terminated')).toHaveLength(1);
      expect(starts).toBe(2);
    } finally {
      await t.stop();
    }
  });

  it('a worker killed with SIGKILL while a delivery waits on its timer is replaced and the delivery completes', async () => {
    const port = await freePort();
    const env = await testEnv(kind, { HOOKLINE_API_PORT: String(port), LOG_LEVEL: 'error' });
    const url = `http://127.0.0.1:${port}`;
    const api = apiClient(url, ADMIN_KEY);
    let child = spawnHookline(env);
    try {
      await waitHealthy(url, 60_000, child);
      const app = await createApp(api, { retry_schedule: ['4s'] });
      r.script({ status: 500 });
      await createEndpoint(api, app.id, { url: `${r.url}/killed` });
      const event = await sendEvent(api, app.id);
      const [first] = await waitUntil(() => deliveriesOf(api, app.id, event.id), (ds) => ds[0]?.attempt_count === 1, 30_000, 'first attempt recorded');
      // Kill only once the workflow itself waits on its timer: the attempt's record reaches the
      // store a moment before its completion reaches Temporal.
      const connection = await Connection.connect({ address: inject('temporalAddress') });
      try {
        const handle = new Client({ connection }).workflow.getHandle(deliveryWorkflowId(event.id, first!.endpoint_id));
        await waitUntil(() => handle.query(deliveryStateQuery).then((s) => s.status), (status) => status === 'waiting', 30_000, 'the retry timer');
      } finally {
        await connection.close();
      }

      await killHard(child);

      child = spawnHookline(env);
      await waitHealthy(url, 60_000, child);
      const [done] = await waitUntil(() => deliveriesOf(api, app.id, event.id), (ds) => ds[0]?.status === 'succeeded', 60_000, 'delivery after restart');
      expect(done!.attempt_count).toBe(2);
      expect(r.requests.filter((q) => q.path === '/killed').map((q) => q.headers['webhook-id'])).toEqual([event.id, event.id]);
    } finally {
      child.kill('SIGKILL');
    }
    // Two process starts (each bundles the workflows) on a busy two-core machine.
  }, 180_000);
});

describe('one Hookline per data directory', () => {
  it('a second start on the same embedded store is refused, through a symlink too, and the first carries on', async () => {
    const env = await testEnv('pglite');
    const first = await startWithEnv(env);
    try {
      const link = join(mkdtempSync(join(tmpdir(), 'hookline-link-')), 'data');
      symlinkSync(env.HOOKLINE_DATA_DIR!, link);
      for (const dataDir of [env.HOOKLINE_DATA_DIR!, link]) {
        await expect(startWithEnv({ ...env, HOOKLINE_DATA_DIR: dataDir, HOOKLINE_API_PORT: '0' })).rejects.toThrow('Another Hookline');
      }
      expect((await createApp(first.api)).id).toMatch(/^app_/);
    } finally {
      await first.stop({ keepData: true });
    }
    // Released at the stop: the next start takes it.
    const again = await startWithEnv(env);
    await again.stop();
  }, 120_000);
});
