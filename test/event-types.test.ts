/**
 * The event-type catalog and test sends (PRODUCT.md §5, §6), end to end on a real stack.
 */
import { describe, expect, it } from 'vitest';
import { apiClient } from './support/api-client';
import { createApp, createEndpoint, deliveryOf, sendEvent } from './support/factories';
import type { WorkflowStartOptions } from '@temporalio/client';
import type { WorkflowStarter } from '../src/api/dispatcher';
import { ADMIN_KEY, overrideWorkflows, startWithEnv, storeKinds, testEnv, type TestHookline, useHooklineAndReceiver } from './support/hookline';
import { type Receiver } from './support/receiver';
import { waitUntil } from './support/wait';

/** An object whose `v` is anyOf with two branches that are the same $ref, `depth` levels deep, ending in a string. */
function doublingSchema(depth: number): Record<string, unknown> {
  const $defs: Record<string, unknown> = { [`l${depth}`]: { type: 'string' } };
  for (let i = 0; i < depth; i++) $defs[`l${i}`] = { anyOf: [{ $ref: `#/$defs/l${i + 1}` }, { $ref: `#/$defs/l${i + 1}` }] };
  return { $defs, type: 'object', properties: { v: { $ref: '#/$defs/l0' } } };
}

describe.each(storeKinds)('event types and test sends on %s', (kind) => {
  let t: TestHookline;
  let r: Receiver;
  useHooklineAndReceiver(kind, (started, receiver) => ([t, r] = [started, receiver]));

  it('the admin key manages the catalog; an application key reads it', async () => {
    const example = { invoice: 'inv_example', amount: 4200 };
    const created = await t.api.post('/v1/event-types', { name: 'catalog.invoice.paid', description: 'An invoice was paid', example });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'catalog.invoice.paid', description: 'An invoice was paid', example, archived: false });
    const clash = await t.api.post('/v1/event-types', { name: 'catalog.invoice.paid' });
    expect(clash.status).toBe(409);
    expect(clash.body.error.message).toBe('An event type with that name already exists');
    expect((await t.api.post('/v1/event-types', { name: 'not a type' })).status).toBe(400);
    const reserved = await t.api.post('/v1/event-types', { name: 'hookline.test' });
    expect(reserved.status).toBe(400);
    expect(reserved.body.error.details).toEqual([{ path: 'name', message: expect.stringContaining('reserved') }]);

    const app = await createApp(t.api);
    const key = (await t.api.post(`/v1/apps/${app.id}/keys`, { name: 'reader' })).body.key as string;
    const appKey = apiClient(t.api.url, key);
    expect((await appKey.post('/v1/event-types', { name: 'catalog.other' })).status).toBe(403);
    expect((await appKey.get('/v1/event-types/catalog.invoice.paid')).body).toMatchObject({ name: 'catalog.invoice.paid', example });

    expect((await t.api.request('PATCH', '/v1/event-types/catalog.invoice.paid', { archived: true })).body.archived).toBe(true);
    const names = async (q: string) => ((await t.api.get(`/v1/event-types?limit=100${q}`)).body.data as { name: string }[]).map((e) => e.name);
    expect(await names('')).not.toContain('catalog.invoice.paid');
    expect(await names('&include_archived=true')).toContain('catalog.invoice.paid');
    expect((await t.api.get('/v1/event-types/catalog.nothing')).body.error).toMatchObject({ code: 'event_type_not_found', message: 'No event type with name "catalog.nothing"' });
    // A name too long is told so, not that it is malformed; a cursor that is no name is refused.
    const long = await t.api.post('/v1/event-types', { name: 'a'.repeat(300) });
    expect(long.body.error.details).toEqual([{ path: 'name', message: 'must be at most 256 characters' }]);
    expect((await t.api.get('/v1/event-types?cursor=a-b')).body.error.code).toBe('invalid_cursor');
    // `example: null` resets the example to the default, {}.
    expect((await t.api.request('PATCH', '/v1/event-types/catalog.invoice.paid', { example: null })).body.example).toEqual({});
  });

  it('a type with a JSON Schema refuses event data that does not satisfy it, with where and why', async () => {
    const schema = { type: 'object', required: ['order', 'amount'], properties: { order: { type: 'string', pattern: '^ord_' }, amount: { type: 'integer' } } };
    const example = { order: 'ord_example', amount: 100 };
    const noExample = await t.api.post('/v1/event-types', { name: 'schema.order.paid', schema });
    expect(noExample.status).toBe(400);
    expect(noExample.body.error).toMatchObject({ code: 'example_required', details: [{ path: 'example', message: "must have required property 'order'" }, { path: 'example', message: "must have required property 'amount'" }] });
    expect(noExample.body.error.message).toMatch(/default example, \{\}/);
    const badExample = await t.api.post('/v1/event-types', { name: 'schema.order.paid', schema, example: { order: 'x' } });
    expect(badExample.body.error.code).toBe('example_invalid');
    const broken = await t.api.post('/v1/event-types', { name: 'schema.order.paid', schema: { properties: { amount: { type: 'integr' } } } });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('invalid_schema');
    expect(broken.body.error.details).toContainEqual(expect.objectContaining({ path: 'schema.properties.amount.type' }));
    // A reference cycle that never moves into the data overflows the stack while checking (a
    // black-box pass got a 500 for it): checking the example finds it, and it is invalid_schema.
    for (const looping of [
      { type: 'object', $defs: { a: { allOf: [{ $ref: '#/$defs/a' }] } }, properties: { x: { $ref: '#/$defs/a' } } },
      { $dynamicRef: '#meta' },
    ]) {
      const refusedSchema = await t.api.post('/v1/event-types', { name: 'schema.order.paid', schema: looping, example: { x: 's' } });
      expect(refusedSchema.status, JSON.stringify(refusedSchema.body)).toBe(400);
      expect(refusedSchema.body.error).toMatchObject({ code: 'invalid_schema', message: expect.stringContaining('cannot be applied') });
    }
    // anyOf over one $ref, 18 deep: data that fails tries 2^18 paths (3.4 s an event at 20 deep,
    // as a black-box pass found). Timing failing values at create time refuses it; here only the
    // probes that replace the example's `v` reach it.
    const slow = await t.api.post('/v1/event-types', { name: 'schema.order.paid', schema: doublingSchema(18), example: { v: 's' } });
    expect(slow.status, JSON.stringify(slow.body)).toBe(400);
    expect(slow.body.error).toMatchObject({ code: 'invalid_schema', message: expect.stringContaining('too slow') });
    // A slow path no probe takes (`v` is not in the example) is stored; the first event that takes
    // it runs past its budget on the checker's thread, and is accepted unchecked. Checked on the
    // API's event loop, 2^26 paths took minutes and then the process's heap.
    expect((await t.api.post('/v1/event-types', { name: 'schema.hidden', schema: doublingSchema(26), example: {} })).status).toBe(201);
    const hiddenApp = await createApp(t.api);
    expect((await t.api.post(`/v1/apps/${hiddenApp.id}/events`, { type: 'schema.hidden', data: { v: 1 } })).status).toBe(202);
    expect((await t.api.post(`/v1/apps/${hiddenApp.id}/events`, { type: 'schema.hidden', data: { v: 2 } })).status).toBe(202);
    expect((await t.api.get('/healthz')).status).toBe(200);
    // Ordinary recursive schemas are not: a tree, and any JSON value.
    const tree = { type: 'object', properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } }, required: ['name'] };
    expect((await t.api.post('/v1/event-types', { name: 'schema.tree', schema: tree, example: { name: 'a', children: [{ name: 'b', children: [] }] } })).status).toBe(201);
    const anyJson = { $defs: { v: { anyOf: [{ type: ['null', 'boolean', 'number', 'string'] }, { type: 'array', items: { $ref: '#/$defs/v' } }, { type: 'object', additionalProperties: { $ref: '#/$defs/v' } }] } }, $ref: '#/$defs/v' };
    expect((await t.api.post('/v1/event-types', { name: 'schema.any', schema: anyJson, example: { a: [1, { b: null }] } })).status).toBe(201);
    const created = await t.api.post('/v1/event-types', { name: 'schema.order.paid', schema, example });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ schema, example });

    const app = await createApp(t.api);
    const post = (data: unknown, headers: Record<string, string> = {}) => t.api.post(`/v1/apps/${app.id}/events`, { type: 'schema.order.paid', data }, headers);
    expect((await post({ order: 'ord_1', amount: 5 })).status).toBe(202);
    const refused = await post({ order: 'x', amount: 'five' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: 'data_invalid',
      message: 'Event data does not satisfy the schema of event type "schema.order.paid"',
      details: [{ path: 'data.order', message: 'must match pattern "^ord_"' }, { path: 'data.amount', message: 'must be integer' }],
    });
    expect((await t.api.get(`/v1/apps/${app.id}/events?type=schema.order.paid`)).body.data).toHaveLength(1);

    // A schema change applies to the next event; a changed schema must still accept the example.
    const narrower = { ...schema, properties: { ...schema.properties, amount: { type: 'integer', maximum: 10 } } };
    const keyed = await post({ order: 'ord_2', amount: 50 }, { 'idempotency-key': 'schema-change' });
    expect(keyed.status).toBe(202);
    const refusedPatch = await t.api.request('PATCH', '/v1/event-types/schema.order.paid', { schema: narrower });
    expect(refusedPatch.body.error).toMatchObject({ code: 'example_invalid', details: [{ path: 'example.amount', message: 'must be <= 10' }] });
    expect((await t.api.request('PATCH', '/v1/event-types/schema.order.paid', { schema: narrower, example: { order: 'ord_example', amount: 1 } })).status).toBe(200);
    expect((await post({ order: 'ord_3', amount: 50 })).body.error.code).toBe('data_invalid');
    // An Idempotency-Key retry of an event accepted under the old schema still gets that event.
    const replay = await post({ order: 'ord_2', amount: 50 }, { 'idempotency-key': 'schema-change' });
    expect(replay.status).toBe(202);
    expect(replay.body.id).toBe(keyed.body.id);

    // null removes the schema; a type not in the catalog is never checked.
    const removed = await t.api.request('PATCH', '/v1/event-types/schema.order.paid', { schema: null });
    expect(removed.body.schema).toBeNull();
    expect((await post({ anything: true })).status).toBe(202);
    expect((await t.api.post(`/v1/apps/${app.id}/events`, { type: 'schema.uncatalogued', data: { x: 1 } })).status).toBe(202);
  });

  it('a test send delivers the example to that endpoint once, whatever it subscribes to, with trigger test', async () => {
    await t.api.post('/v1/event-types', { name: 'test.order.shipped', example: { order: 'ord_example' } });
    const app = await createApp(t.api);
    const ep = await createEndpoint(t.api, app.id, { url: `${r.url}/shipped`, event_types: ['invoice.*'] });
    const sent = await t.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/test`, { event_type: 'test.order.shipped' });
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ endpoint_id: ep.id, event_type: 'test.order.shipped', status: 'pending', test: true });
    const done = await waitUntil(() => deliveryOf(t.api, app.id, sent.body.id), (d) => d.status === 'succeeded', 20_000, 'test delivery');
    expect(done.attempts!.map((a) => [a.attempt_number, a.trigger])).toEqual([[1, 'test']]);
    const got = r.requests.filter((q) => q.path === '/shipped');
    expect(got).toHaveLength(1);
    expect(JSON.parse(got[0]!.body)).toMatchObject({ type: 'test.order.shipped', data: { order: 'ord_example' } });
    // Its event is in the application's list, marked as a test's; the producer's are not.
    const real = await sendEvent(t.api, app.id, { type: 'order.placed' });
    const listed = (await t.api.get(`/v1/apps/${app.id}/events`)).body.data as { id: string; test: boolean }[];
    expect(listed.map((e) => [e.id, e.test])).toEqual([[real.id, false], [done.event_id, true]]);

    // Without a type it sends hookline.test; a failed test is not retried.
    r.script({ status: 500 });
    const plain = await t.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/test`, {});
    const failed = await waitUntil(() => deliveryOf(t.api, app.id, plain.body.id), (d) => d.status === 'failed', 20_000, 'failed test delivery');
    expect(failed).toMatchObject({ event_type: 'hookline.test', attempt_count: 1 });
    expect(JSON.parse(r.requests.at(-1)!.body)).toMatchObject({ type: 'hookline.test', data: { message: expect.any(String) } });
    // The producer cannot send an event that passes for one of Hookline's own.
    const posing = await t.api.post(`/v1/apps/${app.id}/events`, { type: 'Hookline.test', data: {} });
    expect([posing.status, posing.body.error.details]).toEqual([400, [{ path: 'type', message: expect.stringContaining('reserved') }]]);
  });

  it('refuses an unknown or archived type and a disabled endpoint', async () => {
    await t.api.post('/v1/event-types', { name: 'test.old', example: {} });
    await t.api.request('PATCH', '/v1/event-types/test.old', { archived: true });
    const app = await createApp(t.api);
    const ep = await createEndpoint(t.api, app.id, { url: r.url });
    const path = `/v1/apps/${app.id}/endpoints/${ep.id}/test`;
    expect((await t.api.post(path, { event_type: 'test.missing' })).body.error.code).toBe('event_type_not_found');
    expect((await t.api.post(path, { event_type: 'test.old' })).body.error.code).toBe('event_type_archived');
    await t.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/disable`, {});
    expect((await t.api.post(path, {})).body.error.code).toBe('endpoint_disabled');
  });

  it('a test send whose workflow cannot start answers 503 and leaves its delivery failed, not pending', async () => {
    const refuse = overrideWorkflows({ start: () => Promise.reject(new Error('injected: Temporal unreachable')) });
    const down = await startWithEnv(await testEnv(kind), { wrapWorkflows: refuse });
    try {
      const app = await createApp(down.api);
      const ep = await createEndpoint(down.api, app.id, { url: `${r.url}/never` });
      const sent = await down.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/test`, {});
      expect(sent.status).toBe(503);
      expect(sent.body.error.code).toBe('temporal_unavailable');
      const listed = await down.api.get(`/v1/apps/${app.id}/endpoints/${ep.id}/deliveries`);
      expect(listed.body.data).toEqual([expect.objectContaining({ status: 'failed', failure_reason: 'not_started', attempt_count: 0 })]);
      expect(r.requests.filter((q) => q.path === '/never')).toHaveLength(0);
      // A recovery does not pick it up: the caller was told to try again.
      const recoverable = await down.hookline.store.deliveries.recoverable({ endpointId: ep.id, since: new Date(0), until: new Date(Date.now() + 60_000), after: null, limit: 10 });
      expect(recoverable).toEqual([]);
    } finally {
      await down.stop();
    }
  });

  it('a test send whose process died between its row and its workflow start is started by the next sweep, still a test', async () => {
    // The route's start never comes back (the process "dies" there); the sweep's goes through.
    let deliveryStarts = 0;
    const hangFirstDeliveryStart = (w: WorkflowStarter): WorkflowStarter => ({
      ...overrideWorkflows({})(w),
      start: ((workflow: string, options: WorkflowStartOptions) =>
        options.workflowId.startsWith('delivery/') && deliveryStarts++ === 0 ? new Promise(() => undefined) : w.start(workflow, options)) as WorkflowStarter['start'],
    });
    const crashed = await startWithEnv(await testEnv(kind, { HOOKLINE_DISPATCH_GRACE_MS: '0' }), { wrapWorkflows: hangFirstDeliveryStart });
    try {
      const app = await createApp(crashed.api);
      const ep = await createEndpoint(crashed.api, app.id, { url: `${r.url}/crashed-test`, event_types: ['invoice.*'] });
      const abandoned = new AbortController();
      const request = fetch(`${crashed.api.url}/v1/apps/${app.id}/endpoints/${ep.id}/test`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}` }, signal: abandoned.signal }).catch(() => undefined);
      const store = crashed.hookline.store;
      const [pending] = await waitUntil(() => store.deliveries.unstartedTests(new Date(Date.now() + 60_000), 10), (ds) => ds.length === 1, 10_000, 'the pending test delivery');
      abandoned.abort();
      await request;
      expect(await crashed.hookline.dispatcher!.sweep()).toBe(1);
      const done = await waitUntil(() => deliveryOf(crashed.api, app.id, pending!.id), (d) => d.status === 'succeeded', 20_000, 'the swept test send');
      expect(done.attempts!.map((a) => [a.attempt_number, a.trigger])).toEqual([[1, 'test']]);
      expect(r.requests.filter((q) => q.path === '/crashed-test')).toHaveLength(1);
      // Confirmed once started: later sweeps do not ask Temporal again.
      expect(await store.deliveries.unstartedTests(new Date(Date.now() + 60_000), 10)).toEqual([]);
      expect(await crashed.hookline.dispatcher!.sweep()).toBe(0);
      expect(deliveryStarts).toBe(2);
    } finally {
      await crashed.stop();
    }
  });
});
