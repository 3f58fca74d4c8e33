/**
 * Recovery end to end (PRODUCT.md §5): deliveries that failed while an endpoint was down, and the
 * ones skipped while it was disabled, are resent by a `recover` workflow once it is back.
 */
import { describe, expect, it } from 'vitest';
import { recoverWorkflowId } from '../src/workflows/recover';
import { createApp, createEndpoint, deliveriesOf, sendEvent } from './support/factories';
import { storeKinds, type TestHookline, useHooklineAndReceiver } from './support/hookline';
import { startReceiver, type Receiver } from './support/receiver';
import { waitUntil } from './support/wait';

describe.each(storeKinds)('recovery on %s', (kind) => {
  let t: TestHookline;
  let r: Receiver;
  useHooklineAndReceiver(kind, (started, receiver) => ([t, r] = [started, receiver]), {}, { status: 500 });

  it('resends the failed and skipped deliveries of the window, rate-limited, and reports progress', async () => {
    const app = await createApp(t.api, { retry_schedule: ['100ms'] });
    const ep = await createEndpoint(t.api, app.id, { url: r.url });
    const since = new Date(Date.now() - 1_000).toISOString();
    // Three deliveries fail for good while the endpoint answers 500 ...
    const failed = [];
    for (let i = 0; i < 3; i++) failed.push(await sendEvent(t.api, app.id));
    for (const e of failed) await waitUntil(() => deliveriesOf(t.api, app.id, e.id), (ds) => ds[0]?.status === 'failed', 20_000, 'failed delivery');
    // ... and two are skipped while it is disabled.
    await t.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/disable`, {});
    const refused = await t.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/recover`, { since });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('endpoint_disabled');
    const skipped = [await sendEvent(t.api, app.id), await sendEvent(t.api, app.id)];
    for (const e of skipped) await waitUntil(() => deliveriesOf(t.api, app.id, e.id), (ds) => ds[0]?.status === 'skipped', 20_000, 'skipped delivery');
    await t.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/enable`);
    r.setDefault({ status: 200 });
    const before = r.requests.length;

    const started = await t.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/recover`, { since, rate_per_s: 2 });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ id: expect.stringMatching(/^rcv_/), endpoint_id: ep.id, since, rate_per_s: 2, status: 'running', resent: 0 });
    const path = `/v1/apps/${app.id}/endpoints/${ep.id}/recoveries/${started.body.id}`;
    const done = await waitUntil(() => t.api.get(path), (res) => res.body.status === 'completed', 30_000, 'recovery completed');
    expect(done.body).toMatchObject({ status: 'completed', resent: 5 });

    const all = [...failed, ...skipped];
    for (const e of all) await waitUntil(() => deliveriesOf(t.api, app.id, e.id), (ds) => ds[0]?.status === 'succeeded', 20_000, 'recovered delivery');
    const resent = r.requests.slice(before);
    expect(new Set(resent.map((q) => q.headers['webhook-id']))).toEqual(new Set(all.map((e) => e.id)));
    // Two per second: five resends take at least two one-second waits.
    expect(resent.at(-1)!.at - resent[0]!.at).toBeGreaterThanOrEqual(1_500);
  });

  /** An endpoint whose receiver answers 500, and `n` events whose deliveries to it have failed for good. */
  async function failedDeliveries(n: number) {
    const app = await createApp(t.api, { retry_schedule: ['50ms'] });
    const down = await startReceiver({ status: 500 });
    const ep = await createEndpoint(t.api, app.id, { url: down.url });
    const since = new Date(Date.now() - 1_000).toISOString();
    const events = [];
    for (let i = 0; i < n; i++) events.push(await sendEvent(t.api, app.id));
    for (const e of events) await waitUntil(() => deliveriesOf(t.api, app.id, e.id), (ds) => ds[0]?.status === 'failed', 20_000, 'failed delivery');
    return { app, ep, down, since, events };
  }

  it('reports a running recovery through its query, and one terminated by an operator as stopped', async () => {
    const { app, ep, down, since } = await failedDeliveries(3);
    try {
      // One per second: three resends keep it running for two seconds.
      const started = await t.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/recover`, { since, rate_per_s: 1 });
      const path = `/v1/apps/${app.id}/endpoints/${ep.id}/recoveries/${started.body.id}`;
      expect((await t.api.get(path)).body.status).toBe('running');
      await waitUntil(() => t.api.get(path).then((r) => r.body), (b) => b.resent >= 1, 10_000, 'the first resend');
      await t.hookline.client.workflow.getHandle(recoverWorkflowId(started.body.id)).terminate('operator stopped it');
      // Read without a worker: the count its pages kept in the memo.
      const stopped = (await t.api.get(path)).body;
      expect(stopped).toMatchObject({ id: started.body.id, status: 'stopped' });
      expect(stopped.resent).toBeGreaterThanOrEqual(1);
      expect(stopped.resent).toBeLessThan(3);
    } finally {
      await down.close();
    }
  });

  it('overlapping recoveries of one endpoint resend each delivery once, even when it fails again', async () => {
    const { app, ep, down, since, events } = await failedDeliveries(4);
    try {
      const before = down.requests.length;
      // Three at once, then a fourth once the first three are done: every resend fails again, as
      // when a tenant starts recoveries in a loop against an endpoint still down.
      const start = () => t.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/recover`, { since, rate_per_s: 100 });
      const finished = (id: string) => waitUntil(() => t.api.get(`/v1/apps/${app.id}/endpoints/${ep.id}/recoveries/${id}`).then((res) => res.body), (b) => b.status === 'completed', 20_000, 'recovery completed');
      const overlapping = await Promise.all([start(), start(), start()]);
      const done = await Promise.all(overlapping.map((res) => finished(res.body.id as string)));
      expect(done.reduce((sum, b) => sum + (b.resent as number), 0)).toBe(4);
      for (const e of events) await waitUntil(() => deliveriesOf(t.api, app.id, e.id), (ds) => ds[0]?.status === 'failed' && ds[0].attempt_count === 3, 20_000, 'resent delivery failed again');
      const later = await start();
      expect(await finished(later.body.id as string)).toMatchObject({ resent: 4 });
      for (const e of events) await waitUntil(() => deliveriesOf(t.api, app.id, e.id), (ds) => ds[0]?.status === 'failed' && ds[0].attempt_count === 4, 20_000, 'resent again');
      // 4 deliveries, each resent once by the three overlapping recoveries and once by the later one.
      expect(down.requests.length - before).toBe(8);
    } finally {
      await down.close();
    }
  });

  it('refuses a bad window, and answers 404 for a recovery of another endpoint or none at all', async () => {
    const app = await createApp(t.api);
    const ep = await createEndpoint(t.api, app.id, { url: r.url });
    const other = await createEndpoint(t.api, app.id, { url: r.url });
    const now = new Date().toISOString();
    const bad = await t.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/recover`, { since: now, until: now });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_time_range');
    // A malformed time is told so once, not also that it is before 1970.
    const malformed = await t.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/recover`, { since: 'yesterday' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.details).toHaveLength(1);
    // A future `since` with `until` left out is told what `until` was taken to be.
    const future = await t.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/recover`, { since: '2999-01-01T00:00:00Z' });
    expect(future.body.error).toMatchObject({ code: 'invalid_time_range', message: expect.stringContaining('`until` is now') });
    // Year 0 is valid ISO 8601 but not a PostgreSQL time: it was accepted and its recovery never ended.
    const yearZero = await t.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/recover`, { since: '0000-01-01T00:00:00Z' });
    expect(yearZero.status).toBe(400);
    expect(yearZero.body.error.details).toContainEqual(expect.objectContaining({ path: 'since', message: 'must be 1970-01-01T00:00:00Z or later' }));
    const started = await t.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/recover`, { since: new Date(Date.now() - 60_000).toISOString() });
    expect(started.status).toBe(202);
    expect((await t.api.get(`/v1/apps/${app.id}/endpoints/${other.id}/recoveries/${started.body.id}`)).status).toBe(404);
    const none = await t.api.get(`/v1/apps/${app.id}/endpoints/${ep.id}/recoveries/rcv_01M838KDBENE2CD8HEZ8403BKN`);
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe('recovery_not_found');
    await waitUntil(() => t.api.get(`/v1/apps/${app.id}/endpoints/${ep.id}/recoveries/${started.body.id}`), (res) => res.body.status === 'completed', 20_000, 'empty recovery completed');
  });
});
