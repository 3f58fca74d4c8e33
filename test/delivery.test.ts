/**
 * The path of one event on real parts: API → store → Temporal fan-out → delivery workflows →
 * signed POSTs to loopback receivers, verified with the official `standardwebhooks` library.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryWorkflowId } from '../src/workflows/delivery';
import { createApp, createEndpoint, deliveriesOf, deliveryOf, sendEvent } from './support/factories';
import { ADMIN_KEY, startTestHookline, storeKinds, type TestHookline } from './support/hookline';
import { startReceiver, type Receiver } from './support/receiver';
import { waitUntil } from './support/wait';

describe.each(storeKinds)('delivery on %s', (kind) => {
  let t: TestHookline;
  const receivers: Receiver[] = [];
  const receiver = async () => {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  };

  beforeAll(async () => {
    t = await startTestHookline(kind);
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await t?.stop();
  });

  it('delivers one event to three endpoints, each verified by standardwebhooks, with the same id and bytes on a retry', async () => {
    const app = await createApp(t.api);
    const rs = [await receiver(), await receiver(), await receiver()];
    rs[0]!.script({ status: 500 }); // the first endpoint fails once, so its body is sent twice
    const endpoints = await Promise.all(rs.map((r) => createEndpoint(t.api, app.id, { url: `${r.url}/hook` })));
    const event = await sendEvent(t.api, app.id, { type: 'invoice.paid', data: { z: 1, a: [1, 2, { nested: 'ü' }] } });

    const [first, second] = await rs[0]!.waitFor(2);
    await rs[1]!.waitFor(1);
    await rs[2]!.waitFor(1);
    for (const [i, r] of rs.entries()) {
      const wh = new Webhook(endpoints[i]!.secret);
      for (const req of r.requests) {
        const verified = wh.verify(req.body, req.headers as Record<string, string>) as { id: string; type: string; data: unknown };
        expect(verified).toMatchObject({ id: event.id, type: 'invoice.paid', data: { z: 1, a: [1, 2, { nested: 'ü' }] } });
        expect(req.headers['webhook-id']).toBe(event.id);
        expect(req.headers['content-type']).toBe('application/json');
        expect(req.headers['user-agent']).toMatch(/^Hookline\//);
      }
    }
    expect(second!.body).toBe(first!.body);
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);

    const deliveries = await waitUntil(() => deliveriesOf(t.api, app.id, event.id), (ds) => ds.length === 3 && ds.every((d) => d.status === 'succeeded'), 20_000, 'three succeeded deliveries');
    const retried = deliveries.find((d) => d.endpoint_id === endpoints[0]!.id)!;
    const detail = await deliveryOf(t.api, app.id, retried.id);
    expect(detail.attempt_count).toBe(2);
    expect(detail.attempts!.map((a) => [a.attempt_number, a.response_status, a.trigger])).toEqual([
      [2, 200, 'scheduled'],
      [1, 500, 'scheduled'],
    ]);
  });

  it('delivers data as the producer wrote it: large integers, number literals, escapes and key order, in both payload formats', async () => {
    // JSON.parse and JSON.stringify would turn 12345678901234567890 into 12345678901234567000 and 1.0 into 1.
    const dataText = '{"id":12345678901234567890,"amount":1.0,"rate":1e-7,"z":"\\u00e9","a":[-0]}';
    const previousText = '{"id":9007199254740993}';
    const posted = `{ "type": "invoice.paid",\n  "data": ${dataText.replace(/,/g, ', ')},\n  "previous_data": ${previousText} }`;
    for (const format of ['envelope', 'raw'] as const) {
      const app = await createApp(t.api, { payload_format: format });
      const r = await receiver();
      const ep = await createEndpoint(t.api, app.id, { url: `${r.url}/exact` });
      const res = await fetch(`${t.api.url}/v1/apps/${app.id}/events`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: posted });
      const accepted = await res.text();
      expect(res.status, accepted).toBe(202);
      expect(accepted).toContain(`"data":${dataText}`);
      const eventId = (JSON.parse(accepted) as { id: string }).id;
      const [got] = await r.waitFor(1);
      new Webhook(ep.secret).verify(got!.body, got!.headers as Record<string, string>);
      if (format === 'raw') expect(got!.body).toBe(dataText);
      else expect(got!.body).toContain(`"data":${dataText},"previous_data":${previousText}}`);
      // Reads show the same digits.
      const read = await fetch(`${t.api.url}/v1/apps/${app.id}/events/${eventId}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }).then((x) => x.text());
      expect(read).toContain(`"data":${dataText},"previous_data":${previousText}`);
      const listed = await fetch(`${t.api.url}/v1/apps/${app.id}/events`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }).then((x) => x.text());
      expect(listed).toContain(`"data":${dataText}`);
    }
  });

  it('retries after a timeout and ends failed when the schedule is spent', async () => {
    const app = await createApp(t.api, { retry_schedule: ['100ms', '200ms'] });
    const slow = await receiver();
    slow.script({ delayMs: 1_500 }); // longer than the endpoint's timeout
    const ok = await createEndpoint(t.api, app.id, { url: slow.url, timeout_ms: 300 });
    const failing = await receiver();
    failing.setDefault({ status: 503, body: 'down' });
    const bad = await createEndpoint(t.api, app.id, { url: failing.url });
    const event = await sendEvent(t.api, app.id);

    const ds = await waitUntil(
      () => deliveriesOf(t.api, app.id, event.id),
      (list) => list.length === 2 && list.every((d) => d.status !== 'pending'),
      20_000,
      'both deliveries finished',
    );
    const timedOut = await deliveryOf(t.api, app.id, ds.find((d) => d.endpoint_id === ok.id)!.id);
    expect(timedOut.status).toBe('succeeded');
    expect(timedOut.attempts!.at(-1)).toMatchObject({ attempt_number: 1, error_code: 'timeout', response_status: null });

    const exhausted = await deliveryOf(t.api, app.id, ds.find((d) => d.endpoint_id === bad.id)!.id);
    expect(exhausted).toMatchObject({ status: 'failed', attempt_count: 3, failure_reason: 'schedule_exhausted', next_attempt_at: null });
    expect(exhausted.attempts!.map((a) => a.response_status)).toEqual([503, 503, 503]);
    expect(failing.requests).toHaveLength(3);
  });

  it('resend cuts a pending wait short, and revives a failed delivery with a manual attempt', async () => {
    const app = await createApp(t.api, { retry_schedule: ['1h'] });
    const r = await receiver();
    r.script({ status: 500 });
    await createEndpoint(t.api, app.id, { url: r.url });
    const event = await sendEvent(t.api, app.id);
    const [waiting] = await waitUntil(() => deliveriesOf(t.api, app.id, event.id), (ds) => ds[0]?.attempt_count === 1, 20_000, 'first attempt');
    expect(waiting!.status).toBe('pending');
    expect(Date.parse(waiting!.next_attempt_at!)).toBeGreaterThan(Date.now() + 40 * 60_000); // 1h ± 20%

    const resent = await t.api.post(`/v1/apps/${app.id}/deliveries/${waiting!.id}/resend`);
    expect(resent.status).toBe(202);
    const done = await waitUntil(() => deliveryOf(t.api, app.id, waiting!.id), (d) => d.status === 'succeeded', 20_000, 'resent delivery');
    expect(done.attempts!.map((a) => [a.attempt_number, a.trigger, a.response_status])).toEqual([
      [2, 'manual', 200],
      [1, 'scheduled', 500],
    ]);

    // A delivery that failed for good comes back with one manual attempt.
    const app2 = await createApp(t.api, { retry_schedule: ['50ms'] });
    const r2 = await receiver();
    r2.setDefault({ status: 500 });
    const ep2 = await createEndpoint(t.api, app2.id, { url: r2.url });
    const event2 = await sendEvent(t.api, app2.id);
    const [failed] = await waitUntil(() => deliveriesOf(t.api, app2.id, event2.id), (ds) => ds[0]?.status === 'failed', 20_000, 'failed delivery');
    // Failed for good means its workflow has ended too (a resend that lands while the last attempt's
    // task is still completing re-runs that attempt instead: see the README).
    expect(await t.hookline.client.workflow.getHandle(deliveryWorkflowId(event2.id, ep2.id)).result()).toEqual({ status: 'failed', attempts: 2 });
    r2.setDefault({ status: 204 });
    expect((await t.api.post(`/v1/apps/${app2.id}/deliveries/${failed!.id}/resend`)).status).toBe(202);
    const revived = await waitUntil(() => deliveryOf(t.api, app2.id, failed!.id), (d) => d.status === 'succeeded', 20_000, 'revived delivery');
    expect(revived.attempts![0]).toMatchObject({ attempt_number: 3, trigger: 'manual', response_status: 204 });
  });

  it('never follows a redirect: the attempt fails with redirect and the target is not called', async () => {
    const app = await createApp(t.api, { retry_schedule: ['1h'] });
    const target = await receiver();
    const r = await receiver();
    r.setDefault({ status: 302, headers: { location: `${target.url}/elsewhere` } });
    await createEndpoint(t.api, app.id, { url: r.url });
    const event = await sendEvent(t.api, app.id);
    const [d] = await waitUntil(() => deliveriesOf(t.api, app.id, event.id), (ds) => ds[0]?.attempt_count === 1, 20_000, 'first attempt');
    const detail = await deliveryOf(t.api, app.id, d!.id);
    expect(detail.attempts![0]).toMatchObject({ response_status: 302, error_code: 'redirect' });
    expect(detail.status).toBe('pending');
    expect(target.requests).toHaveLength(0);
  });

  it('records a response body holding NUL bytes (which PostgreSQL text cannot hold) with U+FFFD in their place', async () => {
    const app = await createApp(t.api, { retry_schedule: ['1h'] });
    const r = await receiver();
    r.setDefault({ status: 500, body: 'bad\u0000body' });
    await createEndpoint(t.api, app.id, { url: r.url });
    const event = await sendEvent(t.api, app.id);
    const [d] = await waitUntil(() => deliveriesOf(t.api, app.id, event.id), (ds) => ds[0]?.attempt_count === 1, 20_000, 'first attempt');
    expect((await deliveryOf(t.api, app.id, d!.id)).attempts![0]).toMatchObject({ response_status: 500, response_body: 'bad\ufffdbody' });
    expect(r.requests).toHaveLength(1);
  });

  it('an Idempotency-Key repeat returns the first event and delivers once; the key with another event is a 422', async () => {
    const app = await createApp(t.api);
    const r = await receiver();
    const ep = await createEndpoint(t.api, app.id, { url: r.url });
    const url = `${app.id}/events`;
    const key = { 'idempotency-key': 'order-42' };
    const first = await t.api.request('POST', `/v1/apps/${url}`, '{"type":"invoice.paid","data":{"invoice":"in_1","amount":4200},"endpoint_ids":["' + ep.id + '","' + ep.id + '"]}', key);
    expect(first.status).toBe(202);
    // The same event, serialized again: other whitespace, key order and endpoint id repeats.
    const repeat = await t.api.request('POST', `/v1/apps/${url}`, '{ "endpoint_ids": ["' + ep.id + '"], "data": { "amount": 4200, "invoice": "in_1" }, "type": "invoice.paid" }', key);
    expect(repeat.status, JSON.stringify(repeat.body)).toBe(202);
    expect(repeat.body.id).toBe(first.body.id);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');

    const other = await t.api.post(`/v1/apps/${url}`, { type: 'other.type', data: { invoice: 'in_1', amount: 4201 }, endpoint_ids: [ep.id] }, key);
    expect(other.status).toBe(422);
    expect(other.body.error).toMatchObject({ type: 'invalid_request_error', code: 'idempotency_key_reused', details: [{ path: 'type' }, { path: 'data' }] });
    expect(other.body.error.message).toContain(first.body.id);
    const untargeted = await t.api.post(`/v1/apps/${url}`, { type: 'invoice.paid', data: { invoice: 'in_1', amount: 4200 } }, key);
    expect(untargeted.status).toBe(422);
    expect(untargeted.body.error.details).toEqual([expect.objectContaining({ path: 'endpoint_ids' })]);

    await r.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(r.requests).toHaveLength(1);
    const events = await t.api.get(`/v1/apps/${url}`);
    expect(events.body.data).toHaveLength(1);
  });
});

describe('a worker with a workflow cache of 4', () => {
  let t: TestHookline;
  const rs: Receiver[] = [];
  beforeAll(async () => {
    t = await startTestHookline('pglite', { env: { HOOKLINE_WORKER_MAX_CACHED_WORKFLOWS: '4' } });
  });
  afterAll(async () => {
    await Promise.all(rs.map((r) => r.close()));
    await t?.stop();
  });

  it('replays evicted deliveries when their timers fire, without repeating their recorded attempts', async () => {
    const app = await createApp(t.api, { retry_schedule: ['6s'] });
    // Eight endpoints, each on a receiver that fails its first request. One event per endpoint,
    // each sent once the one before is parked on its timer, so at most three runs are busy at a
    // time (the last fan-out, this one, its delivery): the parked ones are evicted from the
    // cache of four and replayed when they wake. (With more runs busy than the cache holds, a
    // run can be evicted during its local attempt, and that attempt then runs again: at least
    // once, recorded once; a cache of 2 showed it.)
    const events: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await startReceiver();
      r.script({ status: 500 });
      rs.push(r);
      const ep = await createEndpoint(t.api, app.id, { url: r.url });
      events.push((await sendEvent(t.api, app.id, { endpoint_ids: [ep.id] })).id);
      await r.waitFor(1, 10_000);
    }

    const all = async () => (await Promise.all(events.map((id) => deliveriesOf(t.api, app.id, id)))).flat();
    const ds = await waitUntil(all, (list) => list.length === 8 && list.every((d) => d.status !== 'pending'), 30_000, 'eight finished deliveries');
    expect(ds.map((d) => [d.status, d.attempt_count])).toEqual(Array.from({ length: 8 }, () => ['succeeded', 2]));
    // A replay that re-ran a recorded (local) attempt would show up here as a third request.
    expect(rs.map((r) => r.requests.length)).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
  });
});
