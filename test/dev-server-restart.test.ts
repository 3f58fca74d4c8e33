/**
 * `npm start`'s own Temporal dev server dies (SIGKILL: the OOM killer, a stray `kill`): Hookline
 * starts it again on the same port and database, and carries on. A delivery waiting on its retry
 * timer is delivered, and so is an event accepted while the server was down. And a dev server
 * left running by a Hookline that was itself killed is stopped by the next start.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createEndpoint, deliveriesOf, sendEvent } from './support/factories';
import { apiClient } from './support/api-client';
import { ADMIN_KEY, startWithEnv, testEnv, type TestHookline } from './support/hookline';
import { freePort, killHard, pidsWith, spawnHookline, waitHealthy } from './support/process';
import { startReceiver, type Receiver } from './support/receiver';
import { waitUntil } from './support/wait';

describe.skipIf(process.platform !== 'linux')('the embedded Temporal dev server is restarted when it dies', () => {
  let r: Receiver;
  let t: TestHookline;
  beforeAll(async () => {
    r = await startReceiver();
    // No TEMPORAL_ADDRESS: this instance starts a dev server of its own, as `npm start` does.
    // Grace 0: the sweep takes an event whose start failed at once, not after the default grace.
    t = await startWithEnv(await testEnv('pglite', { TEMPORAL_ADDRESS: '', HOOKLINE_TEMPORAL_PORT: '0', HOOKLINE_TEMPORAL_UI_PORT: '0', HOOKLINE_DISPATCH_GRACE_MS: '0' }));
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    await r?.close();
  });

  it('a delivery waiting on its timer and an event accepted meanwhile are both delivered', async () => {
    const app = await createApp(t.api, { retry_schedule: ['3s'] });
    await createEndpoint(t.api, app.id, { url: `${r.url}/hook` });
    r.script({ status: 500 });
    const waiting = await sendEvent(t.api, app.id);
    await r.waitFor(1);

    const db = join(t.dataDir, 'temporal.sqlite');
    const [server, ...others] = pidsWith(db);
    expect(server, 'the dev server process').toBeDefined();
    expect(others).toEqual([]);
    process.kill(server!, 'SIGKILL');
    await waitUntil(async () => pidsWith(db), (pids) => !pids.includes(server!), 10_000, 'the dev server to exit');

    // Accepted while the server is down (or still starting): the 202 comes from the store.
    const meanwhile = await sendEvent(t.api, app.id);
    const restarted = await waitUntil(async () => pidsWith(db), (pids) => pids.length === 1, 30_000, 'a new dev server');
    expect(restarted[0]).not.toBe(server);

    // The API's own start may give up while the server is down (its deadline is 5 s): the sweep,
    // asked here at every probe as the periodic one would be, starts it then.
    await waitUntil(() => fetch(`${t.hookline.apiUrl}/readyz`).then((res) => res.status), (status) => status === 200, 30_000, 'readiness');
    for (const event of [waiting, meanwhile]) {
      const delivered = async () => {
        await t.hookline.dispatcher!.sweep();
        return deliveriesOf(t.api, app.id, event.id);
      };
      await waitUntil(delivered, (ds) => ds[0]?.status === 'succeeded', 60_000, `event ${event.id} delivered`);
    }
    const [retried] = await deliveriesOf(t.api, app.id, waiting.id);
    expect(retried!.attempt_count).toBe(2);
  }, 120_000);
});

describe.skipIf(process.platform !== 'linux')('a dev server left running by a Hookline killed with SIGKILL', () => {
  let r: Receiver;
  beforeAll(async () => {
    r = await startReceiver();
  });
  afterAll(async () => {
    await r?.close();
  });

  it('the next start stops it, and carries on from its database', async () => {
    const [apiPort, temporalPort] = [await freePort(), await freePort()];
    const env = await testEnv('pglite', { TEMPORAL_ADDRESS: '', HOOKLINE_API_PORT: String(apiPort), HOOKLINE_TEMPORAL_PORT: String(temporalPort), HOOKLINE_TEMPORAL_UI_PORT: '0', LOG_LEVEL: 'error' });
    const db = join(env.HOOKLINE_DATA_DIR!, 'temporal.sqlite');
    const url = `http://127.0.0.1:${apiPort}`;
    const api = apiClient(url, ADMIN_KEY);
    let child = spawnHookline(env);
    try {
      await waitHealthy(url, 120_000, child);
      const app = await createApp(api, { retry_schedule: ['3s'] });
      await createEndpoint(api, app.id, { url: `${r.url}/orphan` });
      r.script({ status: 500 });
      const event = await sendEvent(api, app.id);
      await waitUntil(() => deliveriesOf(api, app.id, event.id), (ds) => ds[0]?.attempt_count === 1, 30_000, 'the first attempt recorded');

      await killHard(child);
      const [orphan, ...others] = pidsWith(db);
      expect(orphan, 'the dev server outlives the Hookline that started it').toBeDefined();
      expect(others).toEqual([]);

      // Same ports, same data directory: without the fix the port is taken and this start fails.
      child = spawnHookline(env);
      await waitHealthy(url, 120_000, child);
      const servers = pidsWith(db);
      expect(servers).toHaveLength(1);
      expect(servers).not.toContain(orphan);
      const [done] = await waitUntil(() => deliveriesOf(api, app.id, event.id), (ds) => ds[0]?.status === 'succeeded', 60_000, 'the retry after the restart');
      expect(done!.attempt_count).toBe(2);
      expect(r.requests.filter((q) => q.path === '/orphan')).toHaveLength(2);
    } finally {
      // A shutdown stops the dev server; anything left after a failure is killed.
      child.kill('SIGTERM');
      await waitUntil(async () => child.exitCode !== null || child.signalCode !== null, Boolean, 30_000, 'hookline to stop').catch(() => killHard(child));
      for (const pid of pidsWith(db)) process.kill(pid, 'SIGKILL');
    }
    // Two process starts, each bundling the workflows and starting a dev server.
  }, 300_000);
});
