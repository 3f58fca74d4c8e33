/**
 * `npm start`'s own Temporal dev server dies (SIGKILL: the OOM killer, a stray `kill`): Hookline
 * starts it again on the same port and database, and carries on. A delivery waiting on its retry
 * timer is delivered, and so is an event accepted while the server was down.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createEndpoint, deliveriesOf, sendEvent } from './support/factories';
import { startWithEnv, testEnv, type TestHookline } from './support/hookline';
import { startReceiver, type Receiver } from './support/receiver';
import { waitUntil } from './support/wait';

/** Pids of the processes whose command line names `needle` (Linux: /proc). */
function pidsWith(needle: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(join('/proc', pid, 'cmdline'), 'utf8').includes(needle);
      } catch {
        return false; // it ended while we looked
      }
    })
    .map(Number);
}

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
