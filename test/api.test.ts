/**
 * The API's contract: CRUD, pagination, auth, OpenAPI, and a table of bad requests that each get
 * their 4xx in the one error shape and leave the store exactly as it was.
 */
import { connect } from 'node:net';
import { sql } from 'kysely';
import { generateAppKey } from '../src/domain/keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from './support/api-client';
import { createApp, createEndpoint, sendEvent } from './support/factories';
import { ADMIN_KEY, startTestHookline, storeKinds, type TestHookline } from './support/hookline';
import { sample } from './support/metrics';
import { waitUntil } from './support/wait';

describe.each(storeKinds)('API on %s', (kind) => {
  let t: TestHookline;
  beforeAll(async () => {
    t = await startTestHookline(kind);
  });
  afterAll(async () => {
    await t?.stop();
  });

  // Not attempts: a request makes none itself (only through an event, which is counted), and
  // earlier tests' deliveries may still be retrying while the rows are counted.
  const tables = ['applications', 'endpoints', 'events', 'deliveries'] as const;
  async function counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const table of tables) {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(t.hookline.store.db);
      out[table] = rows[0]!.n;
    }
    return out;
  }

  it('creates, reads, lists, updates and deletes applications and endpoints', async () => {
    const app = await createApp(t.api, { uid: 'acme-crud', metadata: { plan: 'pro' } });
    expect((await t.api.get(`/v1/apps/acme-crud`)).body.id).toBe(app.id);
    const patched = await t.api.request('PATCH', `/v1/apps/${app.id}`, { name: 'Acme Inc', retry_schedule: 'short', payload_format: 'raw', disable_policy: { type: 'failure_rate', threshold: 0.5 } });
    // A policy given in part reads back whole: what applies.
    const policy = { type: 'failure_rate', threshold: 0.5, window_s: 86_400, min_attempts: 10 };
    expect(patched.body).toMatchObject({ name: 'Acme Inc', retry_schedule: 'short', payload_format: 'raw', uid: 'acme-crud', disable_policy: policy });

    const ep = await createEndpoint(t.api, app.id, { url: 'https://example.com/hook', event_types: ['invoice.*'], channels: ['eu'], uid: 'cust-1', timeout_ms: 5000 });
    expect(ep.secret).toMatch(/^whsec_/);
    const got = await t.api.get(`/v1/apps/${app.id}/endpoints/${ep.id}`);
    expect(got.body).toMatchObject({ id: ep.id, url: 'https://example.com/hook', event_types: ['invoice.*'], channels: ['eu'], timeout_ms: 5000, status: 'active' });
    expect(got.body.secret).toBeUndefined();
    const upd = await t.api.request('PATCH', `/v1/apps/${app.id}/endpoints/${ep.id}`, { event_types: ['*'], channels: null, retry_schedule: ['1s', '2s'] });
    expect(upd.body).toMatchObject({ event_types: ['*'], channels: null, retry_schedule: ['1s', '2s'] });

    expect((await t.api.request('DELETE', `/v1/apps/${app.id}/endpoints/${ep.id}`)).status).toBe(204);
    expect((await t.api.get(`/v1/apps/${app.id}/endpoints/${ep.id}`)).status).toBe(404);
    expect((await t.api.request('DELETE', `/v1/apps/${app.id}`)).status).toBe(204);
    expect((await t.api.get(`/v1/apps/${app.id}`)).status).toBe(404);
  });

  it('paginates newest first with a cursor', async () => {
    const app = await createApp(t.api);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await sendEvent(t.api, app.id, { endpoint_ids: null })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: any } = await t.api.get(`/v1/apps/${app.id}/events?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((e: { id: string }) => e.id));
      cursor = res.body.next_cursor;
      expect(res.body.has_more).toBe(cursor !== null);
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it('filters lists by creation time ([since, until), with Z or an offset), delivery event type and endpoint status', async () => {
    const app = await createApp(t.api);
    const ep = await createEndpoint(t.api, app.id, { event_types: ['*'] });
    const idle = await createEndpoint(t.api, app.id);
    await t.api.post(`/v1/apps/${app.id}/endpoints/${idle.id}/disable`, {});
    const pause = () => new Promise((r) => setTimeout(r, 60));
    const e1 = await sendEvent(t.api, app.id, { type: 'order.created', endpoint_ids: [ep.id] });
    await pause();
    const e2 = await sendEvent(t.api, app.id, { type: 'order.paid', endpoint_ids: [ep.id] });
    await pause();
    const e3 = await sendEvent(t.api, app.id, { type: 'order.created', endpoint_ids: [ep.id] });
    const at = (e: Record<string, unknown>, deltaMs: number) => new Date(new Date(String(e.created_at)).getTime() + deltaMs).toISOString();
    const ids = async (path: string) => {
      const res = await t.api.get(path);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.data.map((x: { id: string }) => x.id);
    };
    expect(await ids(`/v1/apps/${app.id}/events?since=${at(e2, -20)}`)).toEqual([e3.id, e2.id]);
    expect(await ids(`/v1/apps/${app.id}/events?until=${at(e2, -20)}`)).toEqual([e1.id]);
    expect(await ids(`/v1/apps/${app.id}/events?since=${at(e2, -20)}&until=${at(e3, -20)}&type=order.paid`)).toEqual([e2.id]);
    // The same instant written with an offset.
    const offset = new Date(new Date(String(e2.created_at)).getTime() - 20 + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
    expect(await ids(`/v1/apps/${app.id}/events?since=${encodeURIComponent(offset)}`)).toEqual([e3.id, e2.id]);
    expect((await t.api.get(`/v1/apps/${app.id}/events?since=${at(e3, 0)}&until=${at(e1, 0)}`)).body.error.code).toBe('invalid_time_range');
    // A `+` left unencoded arrives as a space: the 400 says how to write it.
    const unencoded = await t.api.get(`/v1/apps/${app.id}/events?since=${offset}`);
    expect(unencoded.status).toBe(400);
    expect(JSON.stringify(unencoded.body.error.details)).toContain('write + as %2B');

    // Fan-outs may create the deliveries in another order than the events came: match by event.
    const all = (await waitUntil(() => t.api.get(`/v1/apps/${app.id}/deliveries`), (res) => res.body.data.length === 3, 20_000, 'three deliveries')).body.data as { id: string; event_id: string }[];
    const of = (...events: { id: string }[]) => all.filter((d) => events.some((e) => e.id === d.event_id)).map((d) => d.id);
    expect(await ids(`/v1/apps/${app.id}/deliveries?event_type=order.created`)).toEqual(of(e1, e3));
    expect(await ids(`/v1/apps/${app.id}/endpoints/${ep.id}/deliveries?event_type=order.paid`)).toEqual(of(e2));
    expect(await ids(`/v1/apps/${app.id}/deliveries?until=${at(e1, -1_000)}`)).toEqual([]);
    expect(await ids(`/v1/apps/${app.id}/endpoints?status=disabled`)).toEqual([idle.id]);
    expect(await ids(`/v1/apps/${app.id}/endpoints?status=active`)).toEqual([ep.id]);
  });

  it('an item\'s own created_at bounds it exactly: since includes it, until leaves it out (events committed together, and their deliveries)', async () => {
    // One attempt each, then an hour's wait: nothing of this test is still writing when the next one counts rows.
    const app = await createApp(t.api, { retry_schedule: ['1h'] });
    const ep = await createEndpoint(t.api, app.id);
    // Concurrent posts share one group commit: the database's clock would give them one created_at.
    const events = await Promise.all(Array.from({ length: 20 }, () => sendEvent(t.api, app.id, { endpoint_ids: [ep.id] })));
    const deliveries = (await waitUntil(() => t.api.get(`/v1/apps/${app.id}/deliveries?limit=100`), (res) => res.body.data.length === 20, 20_000, 'twenty deliveries')).body.data as { id: string; created_at: string; updated_at: string }[];
    // A new row's updated_at is its created_at, never earlier.
    expect(ep.updated_at).toBe(ep.created_at);
    for (const d of deliveries) expect(Date.parse(d.updated_at)).toBeGreaterThanOrEqual(Date.parse(d.created_at));
    const ids = async (path: string) => ((await t.api.get(path)).body.data as { id: string }[]).map((x) => x.id);
    const items = [...events.map((e) => ({ id: e.id, created_at: String(e.created_at), list: 'events' })), ...deliveries.map((d) => ({ ...d, list: 'deliveries' }))];
    for (const item of items) {
      const at = encodeURIComponent(item.created_at);
      expect(await ids(`/v1/apps/${app.id}/${item.list}?limit=100&since=${at}`), `${item.id} since its created_at`).toContain(item.id);
      expect(await ids(`/v1/apps/${app.id}/${item.list}?limit=100&until=${at}`), `${item.id} until its created_at`).not.toContain(item.id);
    }
    await waitUntil(() => t.api.get(`/v1/apps/${app.id}/deliveries?limit=100`), (res) => res.body.data.every((d: { attempt_count: number }) => d.attempt_count === 1), 20_000, 'first attempts');
  });

  it('PUT …/endpoints/by-uid/{uid} creates the endpoint once (201 with its secret), then updates it (200), keeping what is left out', async () => {
    const app = await createApp(t.api);
    const path = `/v1/apps/${app.id}/endpoints/by-uid/job-42`;
    const created = await t.api.request('PUT', path, { url: 'http://127.0.0.1:9/first', description: 'job 42', headers: { authorization: 'Bearer x' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ uid: 'job-42', url: 'http://127.0.0.1:9/first', description: 'job 42', secret: expect.stringMatching(/^whsec_/) });
    const again = await t.api.request('PUT', path, { url: 'http://127.0.0.1:9/second', secret: created.body.secret });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toMatchObject({ id: created.body.id, uid: 'job-42', url: 'http://127.0.0.1:9/second', description: 'job 42', header_names: ['authorization'] });
    expect(again.body.secret).toBeUndefined();
    expect((await t.api.get(`/v1/apps/${app.id}/endpoints`)).body.data).toHaveLength(1);

    const otherSecret = await t.api.request('PUT', path, { url: 'http://127.0.0.1:9/second', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' });
    expect(otherSecret.status).toBe(409);
    expect(otherSecret.body.error.code).toBe('secret_differs');
    // An update may leave the url out; only a create needs it.
    const described = await t.api.request('PUT', path, { description: 'no url' });
    expect(described.status, JSON.stringify(described.body)).toBe(200);
    expect(described.body).toMatchObject({ url: 'http://127.0.0.1:9/second', description: 'no url' });
    const noUrl = await t.api.request('PUT', `/v1/apps/${app.id}/endpoints/by-uid/job-43`, { description: 'no url' });
    expect(noUrl.status).toBe(400);
    expect(noUrl.body.error.details).toEqual([{ path: 'url', message: 'required to create the endpoint' }]);
    expect((await t.api.request('PUT', `/v1/apps/${app.id}/endpoints/by-uid/ep_x`, { url: 'http://127.0.0.1:9/x' })).status).toBe(400);

    // A stripe endpoint's own secret, with the scheme left out: it is checked against the
    // endpoint's scheme, not the default one. On create, the secret must suit the scheme.
    const stripeSecret = 'sk_live_webhook_secret_0123456789';
    const stripePath = `/v1/apps/${app.id}/endpoints/by-uid/job-stripe`;
    expect((await t.api.request('PUT', stripePath, { url: 'http://127.0.0.1:9/s', secret: stripeSecret })).body.error.details).toEqual([{ path: 'secret', message: expect.stringContaining('not a valid standard secret') }]);
    expect((await t.api.request('PUT', stripePath, { url: 'http://127.0.0.1:9/s', signature_scheme: 'stripe', secret: stripeSecret })).status).toBe(201);
    const kept = await t.api.request('PUT', stripePath, { url: 'http://127.0.0.1:9/s2', secret: stripeSecret });
    expect(kept.status, JSON.stringify(kept.body)).toBe(200);
    expect(kept.body).toMatchObject({ url: 'http://127.0.0.1:9/s2', signature_scheme: 'stripe' });
    // A secret the endpoint could never sign with is a 400, not a conflict with the one it has.
    const malformed = await t.api.request('PUT', stripePath, { secret: 'short' });
    expect([malformed.status, malformed.body.error.details]).toEqual([400, [{ path: 'secret', message: expect.stringContaining('not a valid stripe secret') }]]);
  });

  it("an endpoint's uid stands for its id in every endpoint path, as an application's does", async () => {
    const app = await createApp(t.api, { uid: `acme-${Date.now()}` });
    const created = (await t.api.request('PUT', `/v1/apps/${app.uid}/endpoints/by-uid/job-7`, { url: 'http://127.0.0.1:9/seven' })).body;
    const byUid = `/v1/apps/${app.uid}/endpoints/job-7`;
    expect((await t.api.get(byUid)).body).toMatchObject({ id: created.id, uid: 'job-7' });
    expect((await t.api.request('PATCH', byUid, { description: 'seven' })).body).toMatchObject({ id: created.id, description: 'seven' });
    expect((await t.api.post(`${byUid}/disable`, {})).body).toMatchObject({ id: created.id, status: 'disabled' });
    expect((await t.api.post(`${byUid}/enable`)).body).toMatchObject({ id: created.id, status: 'active' });
    expect((await t.api.get(`${byUid}/stats`)).body).toMatchObject({ endpoint_id: created.id });
    expect((await t.api.get(`${byUid}/deliveries`)).status).toBe(200);
    const missing = await t.api.get(`/v1/apps/${app.uid}/endpoints/job-8`);
    expect([missing.status, missing.body.error.message]).toEqual([404, 'No endpoint with uid "job-8"']);
    expect((await t.api.request('DELETE', byUid)).status).toBe(204);
    expect((await t.api.get(`/v1/apps/${app.id}/endpoints/${created.id}`)).status).toBe(404);
  });

  it('a rotation refuses a secret already signing (but switches back to it at once with grace 0), and bounds the live secrets', async () => {
    const app = await createApp(t.api);
    const ep = await createEndpoint(t.api, app.id, { signature_scheme: 'stripe', secret: 'stripe-secret-0000000000' });
    const rotate = (body: Record<string, unknown>) => t.api.post(`/v1/apps/${app.id}/endpoints/${ep.id}/secret/rotate`, body);
    expect((await rotate({ secret: 'stripe-secret-1111111111' })).status).toBe(200);
    for (const secret of ['stripe-secret-1111111111', 'stripe-secret-0000000000']) {
      const again = await rotate({ secret });
      expect(again.status, secret).toBe(409);
      expect(again.body.error.code).toBe('secret_in_use');
    }
    expect((await rotate({ secret: 'stripe-secret-0000000000', grace_period_s: 0 })).status).toBe(200);
    expect(await t.hookline.store.endpoints.unexpiredSecrets(ep.id)).toEqual(['stripe-secret-0000000000']);
    for (let i = 2; i <= 10; i++) expect((await rotate({})).status).toBe(200);
    const eleventh = await rotate({});
    expect(eleventh.status).toBe(409);
    expect(eleventh.body.error.code).toBe('too_many_secrets');
    expect((await rotate({ grace_period_s: 0 })).status).toBe(200);
    expect(await t.hookline.store.endpoints.unexpiredSecrets(ep.id)).toHaveLength(1);
  });

  it('names each unknown query parameter or body field in the 400', async () => {
    const app = await createApp(t.api);
    const query = await t.api.get(`/v1/apps/${app.id}/events?typo=1&limit=5&other=2`);
    expect(query.status).toBe(400);
    expect(query.body.error.details).toEqual([
      { path: 'typo', message: 'not a known field or parameter' },
      { path: 'other', message: 'not a known field or parameter' },
    ]);
    const body = await t.api.post('/v1/apps', { name: 'x', colour: 'red' });
    expect(body.body.error.details).toEqual([{ path: 'colour', message: 'not a known field or parameter' }]);
  });

  it('a route that takes no body answers 415 to one that is not JSON', async () => {
    const app = await createApp(t.api);
    const ep = await createEndpoint(t.api, app.id);
    const res = await fetch(`${t.api.url}/v1/apps/${app.id}/endpoints/${ep.id}/enable`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'text/plain' }, body: 'hi' });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');
  });

  it('serves health, readiness and an OpenAPI document generated from the request schemas', async () => {
    expect((await fetch(`${t.api.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.api.url}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { store: 'ok', temporal: 'ok' } });
    const doc = (await (await fetch(`${t.api.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/apps', '/v1/apps/{app}/endpoints/{endpoint}', '/v1/apps/{app}/events', '/v1/apps/{app}/deliveries/{delivery}/resend']));
    expect(doc.paths['/v1/apps/{app}/events']).toHaveProperty('post');
    expect(Object.keys(doc.components.schemas.CreateEvent!.properties!)).toEqual(['type', 'data', 'previous_data', 'channels', 'endpoint_ids']);
    // Every operation has its own operationId, which generated clients name their calls after.
    const operationIds = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => (op as { operationId?: string }).operationId));
    expect(operationIds.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(operationIds).size).toBe(operationIds.length);
    expect((doc.paths['/v1/apps/{app}/events'] as Record<string, { operationId: string }>).post!.operationId).toBe('createEvent');
    // Nulls the API takes are declared: null removes an endpoint's own schedule and its headers.
    const updateEndpoint = doc.components.schemas.UpdateEndpoint!.properties!;
    expect(JSON.stringify(updateEndpoint.retry_schedule)).toContain('"null"');
    expect(JSON.stringify(updateEndpoint.headers)).toContain('"null"');
    const docs = await fetch(`${t.api.url}/docs`);
    expect(docs.headers.get('content-type')).toMatch(/text\/html/);
    const html = await docs.text();
    expect(html).toContain('POST /v1/apps/{app}/events');
    expect(html).toContain('<code>idempotency-key</code>');
  });

  it('serves Prometheus metrics at /metrics, with route patterns and no tenant ids in the labels', async () => {
    const app = await createApp(t.api);
    await sendEvent(t.api, app.id, { endpoint_ids: null });
    const keyed = { endpoint_ids: null, data: { invoice: 'in_metrics' } };
    await sendEvent(t.api, app.id, keyed, { 'idempotency-key': 'metrics-1' });
    await sendEvent(t.api, app.id, keyed, { 'idempotency-key': 'metrics-1' });
    // Answered before the route ran (no key: 401) still counts under the route's pattern.
    expect((await fetch(`${t.api.url}/v1/apps/${app.id}/endpoints`)).status).toBe(401);
    expect((await t.api.get('/v1/no-such-route')).status).toBe(404);
    const res = await fetch(`${t.api.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(sample(text, 'hookline_api_request_duration_seconds_count', { method: 'POST', route: '/v1/apps/:app/events', status: '202' })).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'hookline_api_request_duration_seconds_count', { method: 'GET', route: '/v1/apps/:app/endpoints', status: '401' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'hookline_api_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'hookline_events_accepted_total', { result: 'created' })).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'hookline_events_accepted_total', { result: 'replayed' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'hookline_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(text).not.toContain(app.id);
  });

  it('refuses requests without a valid admin key', async () => {
    const anonymous = await fetch(`${t.api.url}/v1/apps`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { type: 'authentication_error', code: 'missing_api_key' } });
    const wrong = await apiClient(t.api.url, 'hk_wrong').get('/v1/apps');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_api_key');
    // A key of the right shape that was never issued: looked up, and refused the same way.
    const unknown = await apiClient(t.api.url, generateAppKey()).get('/v1/apps');
    expect([unknown.status, unknown.body.error.code]).toEqual([401, 'invalid_api_key']);
  });

  it('answers every bad request with its 4xx and stores nothing', async () => {
    const app = await createApp(t.api);
    const ep = await createEndpoint(t.api, app.id);
    const otherApp = await createApp(t.api);
    const otherEp = await createEndpoint(t.api, otherApp.id);
    const big = { blob: 'x'.repeat(256 * 1024) };
    const cases: [string, string, string, unknown, number, string][] = [
      ['malformed JSON', 'POST', '/v1/apps', '{"name":', 400, 'invalid_json'],
      ['body is not an object', 'POST', '/v1/apps', [1, 2], 400, 'validation_failed'],
      ['missing name', 'POST', '/v1/apps', {}, 400, 'validation_failed'],
      ['unknown field', 'POST', '/v1/apps', { name: 'x', colour: 'red' }, 400, 'validation_failed'],
      ["an endpoint_id filter on an endpoint's own deliveries", 'GET', `/v1/apps/${app.id}/endpoints/${ep.id}/deliveries?endpoint_id=${otherEp.id}`, undefined, 400, 'validation_failed'],
      ['wrong field type', 'POST', '/v1/apps', { name: 42 }, 400, 'validation_failed'],
      ['unknown preset', 'POST', '/v1/apps', { name: 'x', retry_schedule: 'hourly' }, 400, 'validation_failed'],
      ['empty schedule', 'POST', '/v1/apps', { name: 'x', retry_schedule: [] }, 400, 'validation_failed'],
      ['schedule step over 7 days', 'POST', '/v1/apps', { name: 'x', retry_schedule: ['8d'] }, 400, 'validation_failed'],
      ['bad uid', 'POST', '/v1/apps', { name: 'x', uid: 'has space' }, 400, 'validation_failed'],
      ['unknown app', 'POST', '/v1/apps/app_01M838KCW4CZ91T8WBYWG4A192/endpoints', { url: 'https://example.com' }, 404, 'application_not_found'],
      ['bad endpoint URL', 'POST', `/v1/apps/${app.id}/endpoints`, { url: 'not a url' }, 400, 'validation_failed'],
      ['endpoint URL with credentials', 'POST', `/v1/apps/${app.id}/endpoints`, { url: 'https://u:p@example.com' }, 400, 'validation_failed'],
      ['ftp endpoint URL', 'POST', `/v1/apps/${app.id}/endpoints`, { url: 'ftp://example.com' }, 400, 'validation_failed'],
      ['bad event-type pattern', 'POST', `/v1/apps/${app.id}/endpoints`, { url: 'https://example.com', event_types: ['*.paid'] }, 400, 'validation_failed'],
      ['timeout over 30 s', 'POST', `/v1/apps/${app.id}/endpoints`, { url: 'https://example.com', timeout_ms: 60_000 }, 400, 'validation_failed'],
      ['secret not whsec_', 'POST', `/v1/apps/${app.id}/endpoints`, { url: 'https://example.com', secret: 'plain' }, 400, 'validation_failed'],
      ['no endpoint with that uid', 'GET', `/v1/apps/${app.id}/endpoints/nope`, undefined, 404, 'endpoint_not_found'],
      ['unknown endpoint', 'PATCH', `/v1/apps/${app.id}/endpoints/${otherEp.id}`, { description: 'x' }, 404, 'endpoint_not_found'],
      ['another app\'s endpoint', 'DELETE', `/v1/apps/${app.id}/endpoints/${otherEp.id}`, undefined, 404, 'endpoint_not_found'],
      ['bad event type', 'POST', `/v1/apps/${app.id}/events`, { type: 'invoice..paid', data: {} }, 400, 'validation_failed'],
      ['data is a string', 'POST', `/v1/apps/${app.id}/events`, { type: 'a.b', data: 'text' }, 400, 'validation_failed'],
      ['missing data', 'POST', `/v1/apps/${app.id}/events`, { type: 'a.b' }, 400, 'validation_failed'],
      ['oversized data', 'POST', `/v1/apps/${app.id}/events`, { type: 'a.b', data: big }, 413, 'payload_too_large'],
      ['oversized previous_data', 'POST', `/v1/apps/${app.id}/events`, { type: 'a.b', data: {}, previous_data: big }, 413, 'payload_too_large'],
      ['body past the hard limit', 'POST', `/v1/apps/${app.id}/events`, { type: 'a.b', data: { blob: 'x'.repeat(1024 * 1024) } }, 413, 'payload_too_large'],
      ['endpoint_ids of another app', 'POST', `/v1/apps/${app.id}/events`, { type: 'a.b', data: {}, endpoint_ids: [otherEp.id] }, 400, 'unknown_endpoint'],
      ['malformed endpoint_ids', 'POST', `/v1/apps/${app.id}/events`, { type: 'a.b', data: {}, endpoint_ids: ['x'] }, 400, 'validation_failed'],
      ['bad channel', 'POST', `/v1/apps/${app.id}/events`, { type: 'a.b', data: {}, channels: ['a b'] }, 400, 'validation_failed'],
      ['unknown event', 'GET', `/v1/apps/${app.id}/events/evt_01M838KD3CHFQGT1S3B7N6488A`, undefined, 404, 'event_not_found'],
      ['unknown delivery', 'POST', `/v1/apps/${app.id}/deliveries/dlv_01M838KDBENE2CD8HEZ8403BKN/resend`, undefined, 404, 'delivery_not_found'],
      ['bad limit', 'GET', `/v1/apps/${app.id}/events?limit=0`, undefined, 400, 'validation_failed'],
      ['a limit in hex', 'GET', `/v1/apps/${app.id}/events?limit=0x10`, undefined, 400, 'validation_failed'],
      ['a limit in exponent form', 'GET', `/v1/apps/${app.id}/deliveries?limit=1e1`, undefined, 400, 'validation_failed'],
      ['a pattern as a type filter', 'GET', `/v1/apps/${app.id}/events?type=invoice.*`, undefined, 400, 'validation_failed'],
      ['a pattern as an event_type filter', 'GET', `/v1/apps/${app.id}/deliveries?event_type=*`, undefined, 400, 'validation_failed'],
      // JSON.parse reads it as Infinity: the schema would check another value than the one stored.
      ['a number past a double in data', 'POST', `/v1/apps/${app.id}/events`, '{"type":"a.b","data":{"n":1e999}}', 400, 'validation_failed'],
      ['POST to /metrics', 'POST', '/metrics', undefined, 405, 'method_not_allowed'],
      ['DELETE of /openapi.json', 'DELETE', '/openapi.json', undefined, 405, 'method_not_allowed'],
      ['foreign cursor', 'GET', `/v1/apps/${app.id}/events?cursor=ep_123`, undefined, 400, 'invalid_cursor'],
      // Not an id, though it has the prefix: read as one it gave an empty page, as if the list had ended.
      ['malformed cursor', 'GET', `/v1/apps/${app.id}/events?cursor=evt_0`, undefined, 400, 'invalid_cursor'],
      ['bad status filter', 'GET', `/v1/apps/${app.id}/deliveries?status=lost`, undefined, 400, 'validation_failed'],
      ['unknown route', 'GET', '/v1/nothing', undefined, 404, 'route_not_found'],
      ['a method the path does not take', 'PUT', `/v1/apps/${app.id}`, { name: 'x' }, 405, 'method_not_allowed'],
      ['a method the path does not take, in capitals', 'PUT', `/V1/APPS/${app.id}`, { name: 'x' }, 405, 'method_not_allowed'],
      ['DELETE of an event', 'DELETE', `/v1/apps/${app.id}/events/evt_01M838KD3CHFQGT1S3B7N6488A`, undefined, 405, 'method_not_allowed'],
      ['duplicate app uid', 'POST', '/v1/apps', { name: 'x', uid: String(app.uid ?? 'dup') }, 409, 'already_exists'],
      // Values the database cannot hold are the request's fault: 400, never 500.
      ['NUL in a name', 'POST', '/v1/apps', { name: 'a\u0000b' }, 400, 'invalid_value'],
      ['NUL in metadata', 'POST', '/v1/apps', { name: 'x', metadata: { k: 'a\u0000' } }, 400, 'invalid_value'],
      ['unpaired surrogate in metadata', 'POST', '/v1/apps', { name: 'x', metadata: { k: '\ud800' } }, 400, 'invalid_value'],
      ['NUL in an endpoint description', 'PATCH', `/v1/apps/${app.id}/endpoints/${ep.id}`, { description: '\u0000' }, 400, 'invalid_value'],
      ['NUL in a cursor', 'GET', `/v1/apps/${app.id}/events?cursor=evt_%00`, undefined, 400, 'invalid_cursor'],
      ['NUL in a type filter', 'GET', `/v1/apps/${app.id}/events?type=%00`, undefined, 400, 'validation_failed'],
      ['NUL in an app path', 'GET', '/v1/apps/%00', undefined, 400, 'invalid_value'],
      ['data nested 5,000 deep', 'POST', `/v1/apps/${app.id}/events`, `{"type":"a.b","data":${'['.repeat(5000)}${']'.repeat(5000)}}`, 400, 'validation_failed'],
      ['example nested 100 deep', 'POST', '/v1/event-types', { name: 'deep.example', example: JSON.parse(`${'['.repeat(100)}${']'.repeat(100)}`) }, 400, 'validation_failed'],
      ['uid shaped like an id', 'POST', '/v1/apps', { name: 'x', uid: 'app_01M838KCW4CZ91T8WBYWG4A192' }, 400, 'validation_failed'],
      // Unknown query parameters are refused, not ignored (the deliveries list filters by event_type).
      ['a filter the list does not have', 'GET', `/v1/apps/${app.id}/deliveries?type=a.b`, undefined, 400, 'validation_failed'],
      ['a bracketed filter', 'GET', `/v1/apps/${app.id}/deliveries?status[]=failed`, undefined, 400, 'validation_failed'],
      ['a query on a route without one', 'GET', `/v1/apps/${app.id}/endpoints/${ep.id}?expand=all`, undefined, 400, 'validation_failed'],
      // A route that takes no body refuses one with fields, or a null.
      ['fields on a route that takes none', 'POST', `/v1/apps/${app.id}/endpoints/${ep.id}/enable`, { x: 1 }, 400, 'validation_failed'],
      ['a null body on a route that takes none', 'POST', `/v1/apps/${app.id}/deliveries/dlv_01M838KDBENE2CD8HEZ8403BKN/resend`, null, 400, 'validation_failed'],
      // The driver would store these as U+FFFD in text columns.
      ['unpaired surrogate in a name', 'POST', '/v1/apps', { name: '\ud800x' }, 400, 'invalid_value'],
      ['unpaired surrogate in a description', 'POST', '/v1/event-types', { name: 'lone.surrogate', description: 'x\udc00' }, 400, 'invalid_value'],
      ['a __proto__ header name', 'POST', `/v1/apps/${app.id}/endpoints`, { url: 'https://example.com', headers: JSON.parse('{"__proto__":"x"}') }, 400, 'validation_failed'],
      ['a __proto__ metadata key', 'POST', '/v1/apps', { name: 'x', metadata: JSON.parse('{"__proto__":"x"}') }, 400, 'validation_failed'],
      // Kept as written, a repeated key would mean different things to the schema and to receivers.
      ['a repeated key in data', 'POST', `/v1/apps/${app.id}/events`, '{"type":"a.b","data":{"amount":-1,"amount":5}}', 400, 'duplicate_key'],
      ['a repeated key deep in previous_data', 'POST', `/v1/apps/${app.id}/events`, '{"type":"a.b","data":{},"previous_data":{"l":[{"k":1,"k":2}]}}', 400, 'duplicate_key'],
      ['a repeated key in the event envelope', 'POST', `/v1/apps/${app.id}/events`, '{"type":"a.b","data":{},"type":"c.d"}', 400, 'duplicate_key'],
      ['a repeated key in another body', 'POST', '/v1/apps', '{"name":"x","name":"y"}', 400, 'duplicate_key'],
      ['a key cut off', 'POST', '/v1/apps', '{"abc', 400, 'invalid_json'],
      ['a bad escape in a key', 'POST', '/v1/apps', '{"\\q":1}', 400, 'invalid_json'],
      ['an empty event type filter', 'GET', `/v1/apps/${app.id}/events?type=`, undefined, 400, 'validation_failed'],
      ['an empty delivery event_type filter', 'GET', `/v1/apps/${app.id}/deliveries?event_type=`, undefined, 400, 'validation_failed'],
      ['a uid no URL can address', 'POST', '/v1/apps', { name: 'x', uid: '..' }, 400, 'validation_failed'],
      ['a signature header with the standard scheme', 'POST', `/v1/apps/${app.id}/endpoints`, { url: 'https://example.com', signature_header: 'Acme-Signature' }, 400, 'validation_failed'],
    ];
    await t.api.request('PATCH', `/v1/apps/${app.id}`, { uid: 'dup' });
    expect(ep.id).toBeDefined();

    const before = await counts();
    for (const [name, method, path, body, status, code] of cases) {
      const res = await t.api.request(method, path, body);
      expect(res.status, `${name}: ${JSON.stringify(res.body)}`).toBe(status);
      expect(res.body, name).toMatchObject({ error: { type: expect.any(String), code, message: expect.any(String) } });
    }
    const longKey = await t.api.post(`/v1/apps/${app.id}/events`, { type: 'a.b', data: {} }, { 'idempotency-key': 'k'.repeat(257) });
    expect(longKey.status).toBe(400);
    expect(longKey.body.error.message).toMatch(/headers/);
    // An empty key is a mistake, not "no key": refused rather than sent without idempotency.
    const emptyKey = await t.api.post(`/v1/apps/${app.id}/events`, { type: 'a.b', data: {} }, { 'idempotency-key': '' });
    expect(emptyKey.status, JSON.stringify(emptyKey.body)).toBe(400);
    // Two Idempotency-Key headers would be joined into a third key, "a, b": refused.
    const twice = await rawRequest(t.api.url, [`POST /v1/apps/${app.id}/events HTTP/1.1`, 'host: x', `authorization: Bearer ${ADMIN_KEY}`, 'content-type: application/json', 'idempotency-key: a', 'idempotency-key: b', 'content-length: 24', 'connection: close', '', '{"type":"a.b","data":{}}']);
    expect(twice).toMatch(/^HTTP\/1\.1 400/);
    expect(twice).toContain('sent more than once');
    // Two Authorization headers: Node would keep the first, so which key counts would depend on order.
    const twoKeys = await rawRequest(t.api.url, [`GET /v1/apps/${app.id} HTTP/1.1`, 'host: x', `authorization: Bearer ${ADMIN_KEY}`, 'authorization: Bearer hk_junk', 'connection: close', '', '']);
    expect(twoKeys).toMatch(/^HTTP\/1\.1 400/);
    expect(twoKeys).toContain('authorization');
    // A path segment that is not an `app_…` id is read as a uid, and the 404 says which it was.
    expect((await t.api.get('/v1/apps/no-such-uid')).body.error).toMatchObject({ code: 'application_not_found', message: 'No application with uid "no-such-uid"' });
    expect((await t.api.get('/v1/apps/app_0000000000000000000000000/endpoints')).body.error).toMatchObject({ code: 'application_not_found', message: 'No application with id "app_0000000000000000000000000"' });
    // Bytes that are not UTF-8 are refused, not decoded as U+FFFD and stored so.
    for (const [path, body] of [[`/v1/apps/${app.id}/events`, '{"type":"a.b","data":{"raw":"\xff"}}'], ['/v1/apps', '{"name":"\xff"}']] as const) {
      const res = await fetch(`${t.api.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: Buffer.from(body, 'latin1') });
      expect(res.status, path).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'invalid_encoding' } });
    }
    // Another utf-… charset than UTF-8 is refused, on events as elsewhere.
    for (const path of [`/v1/apps/${app.id}/events`, '/v1/apps']) {
      const res = await fetch(`${t.api.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json; charset=utf-16le' }, body: Buffer.from('{"name":"x"}', 'utf16le') });
      expect(res.status, path).toBe(415);
      expect(await res.json()).toMatchObject({ error: { code: 'unsupported_encoding' } });
    }
    // A 405 names the methods the path takes, as the document declares them.
    const wrongMethod = await t.api.request('PUT', `/v1/apps/${app.id}/endpoints/${ep.id}`, { url: 'https://example.com' });
    expect(wrongMethod.headers.get('allow')).toBe('DELETE, GET, HEAD, OPTIONS, PATCH');
    // OPTIONS answers with the same list on every known path, authenticated or not, and 404 elsewhere.
    for (const [path, allow] of [[`/v1/apps/${app.id}/endpoints/${ep.id}`, 'DELETE, GET, HEAD, OPTIONS, PATCH'], ['/healthz', 'GET, HEAD, OPTIONS'], ['/metrics', 'GET, HEAD, OPTIONS']] as const) {
      const options = await fetch(`${t.api.url}${path}`, { method: 'OPTIONS' });
      expect([options.status, options.headers.get('allow'), await options.text()], path).toEqual([204, allow, '']);
    }
    const unknown = await fetch(`${t.api.url}/v1/nothing-here`, { method: 'OPTIONS' });
    expect([unknown.status, ((await unknown.json()) as { error: { code: string } }).error.code]).toEqual([404, 'route_not_found']);
    const asText = await t.api.request('POST', '/v1/apps', 'name=x', { 'content-type': 'text/plain' });
    expect(asText.status).toBe(415);
    expect(asText.body.error.code).toBe('unsupported_media_type');
    expect(await counts()).toEqual(before);
  });

  it('answers a retried event whose endpoint was deleted since with the first event, not a 400', async () => {
    const app = await createApp(t.api);
    const ep = await createEndpoint(t.api, app.id);
    const body = { type: 'a.b', data: { n: 1 }, endpoint_ids: [ep.id] };
    const first = await t.api.post(`/v1/apps/${app.id}/events`, body, { 'idempotency-key': 'retry-after-delete' });
    expect(first.status).toBe(202);
    expect((await t.api.request('DELETE', `/v1/apps/${app.id}/endpoints/${ep.id}`)).status).toBe(204);
    const again = await t.api.post(`/v1/apps/${app.id}/events`, body, { 'idempotency-key': 'retry-after-delete' });
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    // Without the key it is a new event naming an endpoint that does not exist.
    expect((await t.api.post(`/v1/apps/${app.id}/events`, body)).body.error.code).toBe('unknown_endpoint');
  });

  it('keeps event data as the producer sent it, including a "__proto__" key', async () => {
    const app = await createApp(t.api);
    const raw = '{"type":"a.b","data":{"__proto__":{"x":1},"b":[1,{"c":null}]}}';
    const created = await t.api.request('POST', `/v1/apps/${app.id}/events`, raw);
    expect(created.status).toBe(202);
    const read = await t.api.get(`/v1/apps/${app.id}/events/${created.body.id}`);
    expect(JSON.stringify(read.body.data)).toBe('{"__proto__":{"x":1},"b":[1,{"c":null}]}');
  });

  it('limits data and previous_data each on its own, not their sum', async () => {
    const app = await createApp(t.api);
    const near = (c: string) => ({ blob: c.repeat(200 * 1024) });
    const created = await t.api.post(`/v1/apps/${app.id}/events`, { type: 'a.b', data: near('n'), previous_data: near('o') });
    expect(created.status, JSON.stringify(created.body.error)).toBe(202);
    const read = await t.api.get(`/v1/apps/${app.id}/events/${created.body.id}`);
    expect([read.body.data.blob.length, read.body.previous_data.blob.length]).toEqual([200 * 1024, 200 * 1024]);
  });

  it('reads a POST without a body as {}: optional bodies may be left out, required fields are named', async () => {
    const app = await createApp(t.api);
    const ep = await createEndpoint(t.api, app.id);
    const disabled = await t.api.request('POST', `/v1/apps/${app.id}/endpoints/${ep.id}/disable`);
    expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);
    expect(disabled.body.status).toBe('disabled');
    const noName = await t.api.request('POST', '/v1/apps');
    expect(noName.status).toBe(400);
    expect(noName.body.error.details).toEqual([expect.objectContaining({ path: 'name' })]);

    // A resend to a disabled endpoint is refused like a test send or a recovery (it could only fail).
    const event = await t.hookline.store.events.insertTest(app.id, { type: 'a.b', data: {}, endpointIds: [ep.id] });
    const [d] = await t.hookline.store.deliveries.createForEvent({ id: event.id, appId: app.id, type: 'a.b' }, [{ id: ep.id, status: 'disabled' }]);
    const resend = await t.api.post(`/v1/apps/${app.id}/deliveries/${d!.id}/resend`);
    expect(resend.status).toBe(409);
    expect(resend.body.error.code).toBe('endpoint_disabled');
  });

  it('documents which bodies are required and the errors every route can answer', async () => {
    const doc = (await (await fetch(`${t.api.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { requestBody?: { required: boolean }; responses: Record<string, unknown> }>> };
    expect(doc.paths['/v1/apps']!.post!.requestBody!.required).toBe(true);
    expect(doc.paths['/v1/apps/{app}/endpoints/{endpoint}/test']!.post!.requestBody!.required).toBe(false);
    expect(Object.keys(doc.paths['/v1/apps/{app}/endpoints/by-uid/{uid}']!.put!.responses)).toEqual(expect.arrayContaining(['200', '201']));
    // 409 and 422: an Idempotency-Key still in use, or reused for another request.
    expect(Object.keys(doc.paths['/v1/apps']!.post!.responses).sort()).toEqual(['201', '400', '401', '403', '404', '409', '413', '415', '422', '429', '503']);
    expect(doc.paths['/v1/apps']!.post!.responses['201']).toHaveProperty('headers.idempotent-replayed');
    expect(JSON.stringify(doc.paths['/v1/apps/{app}/deliveries/{delivery}/resend']!.post)).toContain('idempotency-key');
    expect(JSON.stringify(doc.paths['/v1/apps/{app}/endpoints/{endpoint}/enable']!.post)).not.toContain('idempotency-key');
    // A route's own conflicts and limits, besides the errors every route can answer.
    expect(Object.keys(doc.paths['/v1/apps/{app}/events']!.post!.responses)).toContain('422');
    expect(Object.keys(doc.paths['/v1/apps/{app}/endpoints']!.post!.responses)).toEqual(expect.arrayContaining(['409', '422']));
    expect(Object.keys(doc.paths['/v1/apps/{app}/endpoints/{endpoint}/secret/rotate']!.post!.responses)).toContain('409');
    expect(Object.keys(doc.paths['/v1/apps/{app}/events']!.get!.responses)).not.toContain('409');
    // A route without a body still refuses one (413, 415); GET ignores it.
    expect(Object.keys(doc.paths['/v1/apps/{app}/endpoints/{endpoint}/enable']!.post!.responses)).toEqual(expect.arrayContaining(['413', '415']));
    expect(Object.keys(doc.paths['/v1/apps/{app}/events/{event}']!.get!.responses)).not.toContain('415');
    expect(doc.paths['/v1/apps/{app}/events']!.post!.responses['202']).toHaveProperty('headers.idempotent-replayed');
    expect(doc.paths['/v1/apps/{app}/events']!.post!.responses['429']).toHaveProperty('headers.retry-after');
    // The endpoint's own deliveries take no endpoint_id filter (it would be ignored).
    expect(JSON.stringify(doc.paths['/v1/apps/{app}/endpoints/{endpoint}/deliveries']!.get)).not.toContain('endpoint_id');
  });
});

/** Sends `lines` as one raw HTTP request (fetch cannot repeat a header) and returns the whole answer. */
function rawRequest(url: string, lines: string[]): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.end(lines.join('\r\n')));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}
