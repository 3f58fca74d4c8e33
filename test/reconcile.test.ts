/**
 * What an operator ends in Temporal (terminate in the Web UI or the CLI) is squared with the store
 * by the dispatcher's reconciler: a fan-out is started again, so its event is still delivered; a
 * delivery is closed `failed` (`workflow_ended`) instead of reading `pending` for good.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryStateQuery, deliveryWorkflowId } from '../src/workflows/delivery';
import { fanOutWorkflowId } from '../src/workflows/fan-out';
import { createApp, createEndpoint, deliveriesOf, deliveryOf, sendEvent } from './support/factories';
import { startTestHookline, startWithEnv, storeKinds, testEnv, type TestHookline } from './support/hookline';
import { startReceiver, type Receiver } from './support/receiver';
import { waitUntil } from './support/wait';

describe.each(storeKinds)('reconciler on %s', (kind) => {
  let r: Receiver;
  beforeAll(async () => {
    r = await startReceiver();
  });
  afterAll(async () => {
    await r?.close();
  });

  /** Posts an event whose one delivery fails its first attempt and then waits an hour. */
  async function parkedDelivery(t: TestHookline, path: string) {
    const app = await createApp(t.api, { retry_schedule: ['1h'] });
    r.script({ status: 500 });
    await createEndpoint(t.api, app.id, { url: `${r.url}${path}` });
    const event = await sendEvent(t.api, app.id);
    const [d] = await waitUntil(() => deliveriesOf(t.api, app.id, event.id), (ds) => ds[0]?.attempt_count === 1, 30_000, 'first attempt');
    const handle = t.hookline.client.workflow.getHandle(deliveryWorkflowId(event.id, d!.endpoint_id));
    await waitUntil(() => handle.query(deliveryStateQuery).then((s) => s.status), (s) => s === 'waiting', 30_000, 'the retry timer');
    return { app, event, delivery: d!, handle };
  }

  it('closes a terminated delivery as failed (workflow_ended), and a resend then delivers it', async () => {
    const t = await startTestHookline(kind);
    try {
      const { app, delivery, handle } = await parkedDelivery(t, '/ended');
      await handle.terminate('an operator stops it');
      // Visibility can lag the terminate by a moment: rounds until it shows.
      await waitUntil(() => t.hookline.dispatcher!.reconcile(), (res) => res.deliveriesClosed === 1, 15_000, 'the reconciler closing it');
      const closed = await deliveryOf(t.api, app.id, delivery.id);
      expect(closed).toMatchObject({ status: 'failed', failure_reason: 'workflow_ended', attempt_count: 1, next_attempt_at: null });
      // A second round finds the run again and leaves the row as it is.
      expect(await t.hookline.dispatcher!.reconcile()).toEqual({ fanOutsRestarted: 0, deliveriesClosed: 0 });

      const resend = await t.api.post(`/v1/apps/${app.id}/deliveries/${delivery.id}/resend`);
      expect(resend.status).toBe(202);
      const done = await waitUntil(() => deliveryOf(t.api, app.id, delivery.id), (d) => d.status === 'succeeded', 30_000, 'the resent delivery');
      expect(done.attempt_count).toBe(2);
      expect(r.requests.filter((q) => q.path === '/ended')).toHaveLength(2);
    } finally {
      await t.stop();
    }
  });

  it('leaves a terminated delivery alone once a resend has started a newer run, even while that run is still sending', async () => {
    const t = await startTestHookline(kind);
    try {
      const { app, delivery, handle } = await parkedDelivery(t, '/resent');
      await handle.terminate('an operator stops it');
      // The resent attempt hangs for a while: the row still reads pending, as the ended run left it.
      r.script({ status: 200, delayMs: 3_000 });
      const resend = await t.api.post(`/v1/apps/${app.id}/deliveries/${delivery.id}/resend`);
      expect(resend.status).toBe(202);
      await waitUntil(async () => r.requests.filter((q) => q.path === '/resent').length, (n) => n === 2, 15_000, 'the resent attempt under way');
      expect((await deliveryOf(t.api, app.id, delivery.id)).status).toBe('pending');
      const res = await t.hookline.dispatcher!.reconcile();
      expect(res.deliveriesClosed).toBe(0);
      expect((await deliveryOf(t.api, app.id, delivery.id)).status).toBe('pending');
      await waitUntil(() => deliveryOf(t.api, app.id, delivery.id), (d) => d.status === 'succeeded', 30_000, 'the resent delivery');
    } finally {
      await t.stop();
    }
  });

  // An API-only process (split roles need PostgreSQL): nothing polls the task queue, so the
  // fan-out waits, as with no worker up.
  it.runIf(kind === 'postgres')('starts again a fan-out terminated after a sweep had found it running; a canceled one stops after its window', async () => {
    // Windows of one endpoint, and two endpoints: a cancel leaves the second window unstarted.
    const env = await testEnv(kind, { HOOKLINE_DISPATCH_GRACE_MS: '0', HOOKLINE_FAN_OUT_WINDOW: '1' });
    const api = await startWithEnv({ ...env, HOOKLINE_ROLE: 'api' });
    let appId: string;
    let terminated: string;
    let canceled: string;
    try {
      const app = await createApp(api.api);
      appId = app.id;
      await createEndpoint(api.api, app.id, { url: `${r.url}/fanout-a` });
      await createEndpoint(api.api, app.id, { url: `${r.url}/fanout-b` });
      terminated = (await sendEvent(api.api, app.id)).id;
      canceled = (await sendEvent(api.api, app.id)).id;
      const handles = [terminated, canceled].map((id) => api.hookline.client.workflow.getHandle(fanOutWorkflowId(id)));
      for (const handle of handles) await waitUntil(() => handle.describe().then((d) => d.status.name, () => 'none'), (s) => s === 'RUNNING', 10_000, 'the waiting fan-out');
      // The sweep finds them running and marks the events dispatched: no later sweep looks at them.
      await api.hookline.dispatcher!.sweep();
      expect((await api.hookline.store.events.get(app.id, terminated))?.dispatchedAt).toBeInstanceOf(Date);
      await handles[0]!.terminate('an operator stops it');
      await handles[1]!.cancel();
    } finally {
      await api.stop({ keepData: true });
    }

    const t = await startWithEnv(env);
    try {
      // The cancel takes effect once a worker has run the fan-out's first window.
      const cancelHandle = t.hookline.client.workflow.getHandle(fanOutWorkflowId(canceled));
      await waitUntil(() => cancelHandle.describe().then((d) => d.status.name), (s) => s === 'CANCELLED', 15_000, 'the canceled fan-out');
      await waitUntil(() => t.hookline.dispatcher!.reconcile(), (res) => res.fanOutsRestarted === 1, 15_000, 'the reconciler restarting the terminated one');
      await waitUntil(() => deliveriesOf(t.api, appId, terminated), (ds) => ds.length === 2 && ds.every((d) => d.status === 'succeeded'), 30_000, 'delivered after the restart');
      expect(r.requests.filter((q) => q.headers['webhook-id'] === terminated)).toHaveLength(2);
      // The canceled event: its first window's delivery, and nothing more.
      const [only] = await waitUntil(() => deliveriesOf(t.api, appId, canceled), (ds) => ds[0]?.status === 'succeeded', 15_000, 'the first window of the canceled fan-out');
      // Nothing more to repair: the restarted chain completed, and the canceled one stays as it is.
      expect((await t.hookline.dispatcher!.reconcile()).fanOutsRestarted).toBe(0);
      expect((await deliveriesOf(t.api, appId, canceled)).map((d) => d.id)).toEqual([only!.id]);
      expect(r.requests.filter((q) => q.headers['webhook-id'] === canceled)).toHaveLength(1);
    } finally {
      await t.stop();
    }
  });
});
