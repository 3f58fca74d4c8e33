/**
 * `Idempotency-Key` on the POSTs other than events (src/api/idempotent.ts): a retry of a request
 * whose answer was lost gets that answer, not a second application, endpoint, key or send.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from './support/api-client';
import { createApp, createEndpoint, sendEvent } from './support/factories';
import { startTestHookline, storeKinds, type TestHookline } from './support/hookline';
import { startReceiver, type Receiver } from './support/receiver';
import { waitUntil } from './support/wait';

describe.each(storeKinds)('Idempotency-Key on %s', (kind) => {
  let t: TestHookline;
  let r: Receiver;
  beforeAll(async () => {
    r = await startReceiver();
    t = await startTestHookline(kind);
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    await r?.close();
  });
  const keyed = (api: ApiClient, path: string, body: unknown, key: string) => api.request('POST', path, body, { 'idempotency-key': key });

  it('a repeated application create answers with the first application', async () => {
    const key = randomUUID();
    const name = `idem ${key}`;
    const first = await keyed(t.api, '/v1/apps', { name, metadata: { a: '1', b: '2' } }, key);
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    // Key order aside, the same body.
    const again = await keyed(t.api, '/v1/apps', { metadata: { b: '2', a: '1' }, name }, key);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);

    const other = await keyed(t.api, '/v1/apps', { name: `${name} 2` }, key);
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    // Without the key, a create is a create.
    expect((await t.api.post('/v1/apps', { name })).body.id).not.toBe(first.body.id);
  });

  it('a repeated endpoint create returns the same endpoint and its secret; a refused one frees the key', async () => {
    const app = await createApp(t.api);
    const key = randomUUID();
    const refused = await keyed(t.api, `/v1/apps/${app.id}/endpoints`, { url: 'not a url' }, key);
    expect(refused.status).toBe(400);
    const first = await keyed(t.api, `/v1/apps/${app.id}/endpoints`, { url: `${r.url}/idem` }, key);
    expect(first.status).toBe(201);
    const again = await keyed(t.api, `/v1/apps/${app.id}/endpoints`, { url: `${r.url}/idem` }, key);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toMatchObject({ id: first.body.id, secret: first.body.secret });
    expect((await t.api.get(`/v1/apps/${app.id}/endpoints`)).body.data).toHaveLength(1);
  });

  it('a repeated key create returns the same key, which works', async () => {
    const app = await createApp(t.api);
    const key = randomUUID();
    const first = await keyed(t.api, `/v1/apps/${app.id}/keys`, { name: 'ci' }, key);
    const again = await keyed(t.api, `/v1/apps/${app.id}/keys`, { name: 'ci' }, key);
    expect(again.body).toEqual(first.body);
    expect((await t.api.get(`/v1/apps/${app.id}/keys`)).body.data).toHaveLength(1);
    expect((await apiClient(t.api.url, first.body.key).get(`/v1/apps/${app.id}`)).status).toBe(200);
  });

  it("an application's keys share its keys; another application's are apart", async () => {
    const [a, b] = [await createApp(t.api), await createApp(t.api)];
    const keyOf = async (appId: string) => apiClient(t.api.url, (await t.api.post(`/v1/apps/${appId}/keys`, {})).body.key);
    const [a1, a2, b1] = [await keyOf(a.id), await keyOf(a.id), await keyOf(b.id)];
    const key = randomUUID();
    const first = await keyed(a1, `/v1/apps/${a.id}/endpoints`, { url: `${r.url}/scoped` }, key);
    expect((await keyed(a2, `/v1/apps/${a.id}/endpoints`, { url: `${r.url}/scoped` }, key)).body.id).toBe(first.body.id);
    const other = await keyed(b1, `/v1/apps/${b.id}/endpoints`, { url: `${r.url}/scoped` }, key);
    expect(other.status).toBe(201);
    expect(other.body.id).not.toBe(first.body.id);
  });

  it('a repeated test send and a repeated resend each send once', async () => {
    const app = await createApp(t.api);
    const ep = await createEndpoint(t.api, app.id, { url: `${r.url}/once` });
    const key = randomUUID();
    const test = await keyed(t.api, `/v1/apps/${app.id}/endpoints/${ep.id}/test`, {}, key);
    expect(test.status).toBe(202);
    const testAgain = await keyed(t.api, `/v1/apps/${app.id}/endpoints/${ep.id}/test`, {}, key);
    expect(testAgain.headers.get('idempotent-replayed')).toBe('true');
    expect(testAgain.body.id).toBe(test.body.id);

    const event = await sendEvent(t.api, app.id);
    const [delivery] = await waitUntil(() => t.api.get(`/v1/apps/${app.id}/events/${event.id}/deliveries`).then((res) => res.body.data), (ds) => ds[0]?.status === 'succeeded', 30_000, 'the delivery');
    const resendKey = randomUUID();
    const resend = () => keyed(t.api, `/v1/apps/${app.id}/deliveries/${delivery.id}/resend`, undefined, resendKey);
    const [first, again] = [await resend(), await resend()];
    expect([first.status, again.status]).toEqual([202, 202]);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    await waitUntil(() => t.api.get(`/v1/apps/${app.id}/deliveries/${delivery.id}`).then((res) => res.body.attempt_count), (n) => n === 2, 30_000, 'the resend');
    // Time for a second resend, if one had been made, to arrive.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(r.requests.filter((q) => q.path === '/once')).toHaveLength(3); // the test send, the event, one resend
  });
});
