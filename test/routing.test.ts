/**
 * Which endpoints get an event: `*`, exact names, `prefix.*`, channels and `endpoint_ids`, and a
 * fan-out that spans several continue-as-new windows.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../src/store/events';
import { fanOutWorkflowId } from '../src/workflows/fan-out';
import { createApp, createEndpoint, deliveriesOf, sendEvent } from './support/factories';
import { storeKinds, type TestHookline, useHooklineAndReceiver } from './support/hookline';
import { type Receiver } from './support/receiver';
import { waitUntil } from './support/wait';

describe.each(storeKinds)('routing on %s', (kind) => {
  let t: TestHookline;
  let r: Receiver;
  // A window of 4 makes the 10-endpoint fan-out below run as three chained runs.
  useHooklineAndReceiver(kind, (started, receiver) => ([t, r] = [started, receiver]), { env: { HOOKLINE_FAN_OUT_WINDOW: '4' } });

  it('delivers by event type and channel, and only to targeted endpoints', async () => {
    const app = await createApp(t.api);
    const ep = async (name: string, body: Record<string, unknown>) => [name, (await createEndpoint(t.api, app.id, { url: `${r.url}/${name}`, ...body })).id] as const;
    const ids = Object.fromEntries(
      await Promise.all([
        ep('all', { event_types: ['*'] }),
        ep('exact', { event_types: ['invoice.paid'] }),
        ep('prefix', { event_types: ['invoice.*'] }),
        ep('other', { event_types: ['order.created'] }),
        ep('eu', { event_types: ['*'], channels: ['eu'] }),
        ep('us', { event_types: ['*'], channels: ['us'] }),
      ]),
    );
    // An empty channel list is the same as none, on an endpoint (it gets every event) and on an
    // event (it reaches only endpoints without channels); both read back as null.
    const none = await createEndpoint(t.api, app.id, { url: `${r.url}/none`, event_types: ['order.created'], channels: [] });
    expect(none.channels).toBeNull();
    ids.none = none.id;
    const receivedBy = async (eventId: string) => {
      const ds = await waitUntil(() => deliveriesOf(t.api, app.id, eventId), (list) => list.length > 0 && list.every((d) => d.status === 'succeeded'), 20_000, 'deliveries');
      return ds.map((d) => Object.keys(ids).find((k) => ids[k] === d.endpoint_id)).sort();
    };

    expect(await receivedBy((await sendEvent(t.api, app.id, { type: 'invoice.paid' })).id)).toEqual(['all', 'exact', 'prefix']);
    expect(await receivedBy((await sendEvent(t.api, app.id, { type: 'invoice.line.added' })).id)).toEqual(['all', 'prefix']);
    expect(await receivedBy((await sendEvent(t.api, app.id, { type: 'order.created' })).id)).toEqual(['all', 'none', 'other']);
    expect(await receivedBy((await sendEvent(t.api, app.id, { type: 'order.created', channels: ['eu'] })).id)).toEqual(['all', 'eu', 'none', 'other']);
    const noChannels = await sendEvent(t.api, app.id, { type: 'order.created', channels: [] });
    expect(noChannels.channels).toBeNull();
    expect(await receivedBy(noChannels.id)).toEqual(['all', 'none', 'other']);
    expect(await receivedBy((await sendEvent(t.api, app.id, { type: 'invoice.paid', channels: ['eu'] })).id)).toEqual(['all', 'eu', 'exact', 'prefix']);
    const targeted = await sendEvent(t.api, app.id, { type: 'invoice.paid', endpoint_ids: [ids.prefix, ids.other] });
    // Targeting narrows the set; the endpoint's own filter still applies, so `other` gets nothing.
    expect(await receivedBy(targeted.id)).toEqual(['prefix']);
  });

  it('fans out in windows that continue as new, one delivery per endpoint', async () => {
    const app = await createApp(t.api);
    await Promise.all(Array.from({ length: 10 }, (_, i) => createEndpoint(t.api, app.id, { url: `${r.url}/many/${i}` })));
    const before = r.requests.length;
    const event = await sendEvent(t.api, app.id);
    const ds = await waitUntil(() => deliveriesOf(t.api, app.id, event.id), (list) => list.length === 10 && list.every((d) => d.status === 'succeeded'), 30_000, 'ten deliveries');
    expect(new Set(ds.map((d) => d.endpoint_id)).size).toBe(10);
    expect(r.requests.length - before).toBe(10);

    const handle = t.hookline.client.workflow.getHandle(fanOutWorkflowId(event.id));
    expect(await handle.result()).toEqual({ deliveries: 10 });
    const runs: string[] = [];
    for await (const w of t.hookline.client.workflow.list({ query: `WorkflowId = '${fanOutWorkflowId(event.id)}'` })) runs.push(w.runId);
    expect(runs).toHaveLength(3); // 4 + 4 + 2
  });

  it('commits an event nobody subscribes to as already dispatched, and starts no workflow for it', async () => {
    const app = await createApp(t.api);
    await createEndpoint(t.api, app.id, { url: `${r.url}/orders`, event_types: ['order.*'] });
    await createEndpoint(t.api, app.id, { url: `${r.url}/eu`, event_types: ['*'], channels: ['eu'] });
    const cases = [
      { body: { type: 'invoice.paid' }, subscribed: false },
      { body: { type: 'order.created' }, subscribed: true },
      { body: { type: 'invoice.paid', channels: ['eu'] }, subscribed: true },
      { body: { type: 'invoice.paid', channels: ['us'] }, subscribed: false },
    ];
    for (const c of cases) {
      const res = await t.api.post(`/v1/apps/${app.id}/events`, { data: {}, ...c.body });
      expect(res.status).toBe(202);
      expect(res.headers.get('idempotent-replayed')).toBeNull();
      const event = res.body as { id: string };
      const stored = await t.hookline.store.events.get(app.id, event.id);
      if (c.subscribed) {
        // The API starts the fan-out after the commit; its first window marks the event dispatched.
        await waitUntil(() => t.hookline.store.events.get(app.id, event.id), (e) => e?.dispatchedAt != null, 20_000, 'dispatched');
        expect(await t.hookline.client.workflow.getHandle(fanOutWorkflowId(event.id)).result()).toEqual({ deliveries: 1 });
      } else {
        expect(stored!.dispatchedAt, JSON.stringify(c.body)).toBeInstanceOf(Date);
        await expect(t.hookline.client.workflow.getHandle(fanOutWorkflowId(event.id)).describe()).rejects.toThrow(/not found/i);
      }
    }
  });

  it('commits concurrent events in one statement, each with its own subscription, idempotency and application answer', async () => {
    const app = await createApp(t.api);
    const other = await createApp(t.api);
    const orders = await createEndpoint(t.api, app.id, { url: `${r.url}/batch-orders`, event_types: ['order.*'] });
    await createEndpoint(t.api, app.id, { url: `${r.url}/batch-eu`, event_types: ['*'], channels: ['eu'] });
    const event = (type: string, extra: Partial<NewEvent> = {}): NewEvent => ({ type, dataJson: JSON.stringify({ type }), previousDataJson: null, channels: null, endpointIds: null, idempotencyKey: null, ...extra });
    const earlier = await t.hookline.store.events.insert(app.id, event('invoice.paid', { idempotencyKey: 'earlier' }));

    // Started in one turn of the event loop, so they share one insert statement.
    const results = await Promise.all([
      t.hookline.store.events.insert(app.id, event('order.created')),
      t.hookline.store.events.insert(app.id, event('invoice.paid')),
      t.hookline.store.events.insert(app.id, event('invoice.paid', { channels: ['eu'] })),
      t.hookline.store.events.insert(app.id, event('order.created', { endpointIds: [] })),
      t.hookline.store.events.insert(app.id, event('order.created', { endpointIds: [orders.id] })),
      t.hookline.store.events.insert(app.id, event('a.b', { idempotencyKey: 'twice' })),
      t.hookline.store.events.insert(app.id, event('a.b', { idempotencyKey: 'twice' })),
      t.hookline.store.events.insert(app.id, event('a.b', { idempotencyKey: 'earlier' })),
      t.hookline.store.events.insert('app_01M83N0000000000000000000', event('a.b')),
      t.hookline.store.events.insert('app_01M83N0000000000000000000', event('a.b', { idempotencyKey: 'earlier' })),
      t.hookline.store.events.insert(other.id, event('a.b', { idempotencyKey: 'earlier' })),
    ]);
    const [ordersEvt, unsubscribed, eu, targetedNone, targeted, twice1, twice2, earlierAgain, missing, missingKeyed, otherApp] = results;

    // One statement: every row it inserted carries the same inserting transaction (xmin).
    const ids = [ordersEvt, unsubscribed, eu, targetedNone, targeted, otherApp].map((x) => x!.event.id);
    const { rows } = await sql<{ n: number }>`select count(distinct xmin::text)::int as n from events where id in (${sql.join(ids)})`.execute(t.hookline.store.db);
    expect(rows[0]!.n).toBe(1);
    // Subscribed per row: undispatched rows wait for their fan-out.
    expect([ordersEvt, unsubscribed, eu, targetedNone, targeted].map((x) => x!.event.dispatchedAt === null)).toEqual([true, false, true, false, true]);
    // Two concurrent requests with one key: either may win, and both answer with the winner.
    expect([twice1!.created, twice2!.created].sort()).toEqual([false, true]);
    expect(twice2!.event.id).toBe(twice1!.event.id);
    expect([earlierAgain!.created, earlierAgain!.event.id]).toEqual([false, earlier!.event.id]);
    expect([missing, missingKeyed]).toEqual([undefined, undefined]);
    // Idempotency keys belong to one application.
    expect(otherApp!.created).toBe(true);
    expect(otherApp!.event.appId).toBe(other.id);
    expect(JSON.parse(ordersEvt!.event.dataJson)).toEqual({ type: 'order.created' });
    expect(eu!.event.channels).toEqual(['eu']);
    expect(targeted!.event.endpointIds).toEqual([orders.id]);
  });

  it('answers 404 for an event to an application id or uid that does not exist', async () => {
    for (const app of ['app_01M83N0000000000000000000', 'no-such-uid']) {
      const res = await t.api.post(`/v1/apps/${app}/events`, { type: 'invoice.paid', data: {} });
      expect(res.status, app).toBe(404);
      expect(res.body.error.code).toBe('application_not_found');
    }
  });
});
