/**
 * The producer client (src/client) against a real stack, and its retry rule against a loopback
 * server that answers 503 first.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHooklineClient, HooklineApiError, verifyWebhook } from '../src/client';
import { ADMIN_KEY, startTestHookline, type TestHookline } from './support/hookline';
import { startReceiver, type Receiver } from './support/receiver';
import { waitUntil } from './support/wait';

describe('the producer client', () => {
  let t: TestHookline;
  let r: Receiver;
  beforeAll(async () => {
    t = await startTestHookline('pglite');
    r = await startReceiver();
  });
  afterAll(async () => {
    await r?.close();
    await t?.stop();
  });

  it('creates, sends, reads and resends through the API, and the consumer verifies what arrives', async () => {
    const hookline = createHooklineClient({ baseUrl: `${t.api.url}/`, apiKey: ADMIN_KEY });
    const app = await hookline.apps.create({ name: 'client test', uid: 'client-test' });
    expect((await hookline.apps.get('client-test')).id).toBe(app.id);
    const ep = await hookline.endpoints.create(app.id, { url: r.url, event_types: ['invoice.*'] });
    const first = await hookline.events.send(app.id, { type: 'invoice.paid', data: { amount: 42 } }, { idempotencyKey: 'client-1' });
    const again = await hookline.events.send(app.id, { type: 'invoice.paid', data: { amount: 42 } }, { idempotencyKey: 'client-1' });
    expect(again.id).toBe(first.id);

    const [delivery] = (await waitUntil(() => hookline.events.deliveries(app.id, first.id), (p) => p.data[0]?.status === 'succeeded', 20_000, 'delivered')).data;
    const detail = await hookline.deliveries.get(app.id, delivery!.id);
    expect(detail.attempts?.[0]).toMatchObject({ attempt_number: 1, response_status: 200 });
    const received = r.requests.at(-1)!;
    expect(() => verifyWebhook({ scheme: 'standard', secret: ep.secret!, headers: received.headers, body: received.body })).not.toThrow();

    await hookline.deliveries.resend(app.id, delivery!.id);
    await r.waitFor(2, 20_000);
    expect((await hookline.endpoints.stats(app.id, ep.id)).attempts).toBeGreaterThanOrEqual(1);
    expect((await hookline.endpoints.deliveries(app.id, ep.id)).data.map((d) => d.endpoint_id)).toContain(ep.id);
  });

  it('creates or updates an endpoint by uid, and manages application keys', async () => {
    const hookline = createHooklineClient({ baseUrl: t.api.url, apiKey: ADMIN_KEY });
    const app = await hookline.apps.create({ name: 'client keys' });
    const created = await hookline.endpoints.putByUid(app.id, 'customer-7', { url: `${r.url}/seven` });
    expect(created).toMatchObject({ uid: 'customer-7', secret: expect.stringMatching(/^whsec_/) });
    const updated = await hookline.endpoints.putByUid(app.id, 'customer-7', { url: `${r.url}/seven-b` });
    expect(updated).toMatchObject({ id: created.id, url: `${r.url}/seven-b` });

    const key = await hookline.keys.create(app.id, { name: 'portal' });
    expect(key.key).toMatch(/^hk_/);
    const asApp = createHooklineClient({ baseUrl: t.api.url, apiKey: key.key! });
    expect((await asApp.apps.get(app.id)).id).toBe(app.id);
    expect((await hookline.keys.list(app.id)).data.map((k) => k.id)).toEqual([key.id]);
    expect((await hookline.keys.revoke(app.id, key.id)).revoked_at).not.toBeNull();
    await expect(asApp.apps.get(app.id)).rejects.toMatchObject({ status: 401 });
  });

  it('throws HooklineApiError with the API\'s type and code', async () => {
    const hookline = createHooklineClient({ baseUrl: t.api.url, apiKey: ADMIN_KEY });
    const err = await hookline.apps.get('app_01M838KCW4CZ91T8WBYWG4A192').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HooklineApiError);
    expect(err).toMatchObject({ status: 404, type: 'not_found_error', code: 'application_not_found' });
    const denied = await createHooklineClient({ baseUrl: t.api.url, apiKey: 'hk_wrong' }).apps.list().catch((e: unknown) => e);
    expect(denied).toMatchObject({ status: 401, code: 'invalid_api_key' });
  });

  it('retries a send after 503 with Retry-After, with the same idempotency key; never retries a 400', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      if (seen.length === 1 || req.url?.endsWith('/busy')) res.writeHead(503, { 'retry-after': '0', 'content-type': 'application/json' }).end('{"error":{"type":"service_unavailable_error","code":"overloaded","message":"busy"}}');
      else if (req.url?.endsWith('/bad')) res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"type":"invalid_request_error","code":"validation_failed","message":"no"}}');
      else res.writeHead(202, { 'content-type': 'application/json' }).end('{"id":"evt_x"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const hookline = createHooklineClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'k' });
      expect(await hookline.events.send('app_1', { type: 'a.b', data: {} })).toEqual({ id: 'evt_x' });
      expect(seen).toHaveLength(2);
      expect(seen[0]!['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
      expect(seen[1]!['idempotency-key']).toBe(seen[0]!['idempotency-key']);
      await expect(hookline.events.get('app_1', 'bad')).rejects.toMatchObject({ status: 400, code: 'validation_failed' });
      expect(seen).toHaveLength(3);
      // Retry-After sets the wait, not the number of retries: two (the default), then the 503.
      await expect(hookline.events.get('app_1', 'busy')).rejects.toMatchObject({ status: 503, code: 'overloaded' });
      expect(seen).toHaveLength(6);
    } finally {
      server.close();
    }
  });

  it("a proxy's error page is a HooklineApiError with its status, retried only where a repeat is safe", async () => {
    const seen: string[] = [];
    const page = (status: number) => [status, { 'content-type': 'text/html' }, `<html><body>${status} Bad Gateway</body></html>`] as const;
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      const [status, headers, body] = seen.length === 1 ? page(502) : req.method === 'PATCH' ? page(504) : req.url?.endsWith('/text') ? [200, { 'content-type': 'text/plain' }, 'ok'] : [200, { 'content-type': 'application/json' }, '{"id":"app_x"}'];
      res.writeHead(status, headers).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const hookline = createHooklineClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'k' });
      // A GET is safe to repeat: the 502 is retried.
      expect(await hookline.apps.get('app_x')).toEqual({ id: 'app_x' });
      expect(seen).toEqual(['GET /v1/apps/app_x', 'GET /v1/apps/app_x']);
      // A PATCH is not: the proxy's page becomes the error, with its status.
      const err = await hookline.apps.update('app_x', { name: 'y' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HooklineApiError);
      expect(err).toMatchObject({ status: 504, type: 'api_error', code: 'http_504', message: expect.stringContaining('504 Bad Gateway') });
      expect(seen).toHaveLength(3);
      await expect(hookline.apps.get('text')).rejects.toMatchObject({ status: 200, code: 'invalid_response' });
    } finally {
      server.close();
    }
  });

  it('an answer whose body breaks off is retried where a repeat is safe, else a HooklineApiError with its status', async () => {
    let served = 0;
    const server = createServer((req, res) => {
      served++;
      req.resume();
      if (served === 2) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"app_x"}');
      // The status and headers arrive; the body stops after a few of its 100 bytes.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"id":');
      setTimeout(() => res.socket?.destroy(), 50);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const hookline = createHooklineClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'k' });
      expect(await hookline.apps.get('app_x')).toEqual({ id: 'app_x' });
      expect(served).toBe(2);
      await expect(hookline.apps.update('app_x', { name: 'y' })).rejects.toMatchObject({ name: 'HooklineApiError', status: 200, code: 'invalid_response' });
      expect(served).toBe(3);
    } finally {
      server.close();
    }
  });

  it('retries an endpoint create after a lost answer, and waits while the first try runs, with one idempotency key', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      if (seen.length === 1) return req.socket.destroy(); // the answer is lost
      if (seen.length <= 4) return res.writeHead(409, { 'content-type': 'application/json', 'retry-after': '0' }).end('{"error":{"type":"conflict_error","code":"idempotency_key_in_use","message":"running"}}');
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"ep_x"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      // One retry, for the lost answer: the waits while the first try runs have a budget of their own.
      const hookline = createHooklineClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'k', maxRetries: 1 });
      expect(await hookline.endpoints.create('app_1', { url: 'https://example.com/hook' })).toEqual({ id: 'ep_x' });
      expect(seen).toHaveLength(5);
      expect(new Set(seen.map((h) => h['idempotency-key'])).size).toBe(1);
      expect(seen[0]!['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
      // The caller's own key is the one sent.
      await hookline.apps.create({ name: 'x' }, { idempotencyKey: 'acme-app-1' });
      expect(seen[5]!['idempotency-key']).toBe('acme-app-1');
    } finally {
      server.close();
    }
  });
});
