/**
 * Tenancy and network security on real parts: application keys that see only their own
 * application, limits, the SSRF guard at send time (DNS rebinding), TLS with a test CA, and
 * delivery through a real CONNECT proxy process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resolver } from '../src/activities/guarded-lookup';
import { apiClient } from './support/api-client';
import { createApp, createEndpoint, deliveriesOf, deliveryOf, sendEvent } from './support/factories';
import { startTestHookline, storeKinds, type TestHookline } from './support/hookline';
import { makeTestPki, type TestPki } from './support/tls';
import { waitUntil } from './support/wait';

async function countRows(t: TestHookline): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['applications', 'endpoints', 'endpoint_secrets', 'events', 'deliveries', 'attempts', 'api_keys']) {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(t.hookline.store.db);
    out[table] = rows[0]!.n;
  }
  return out;
}

function httpsReceiver(creds: { key: string; cert: string }): Promise<{ port: number; hits: string[]; server: Server }> {
  const hits: string[] = [];
  const server = createHttpsServer(creds, (req, res) => {
    hits.push(req.url ?? '/');
    req.resume();
    req.on('end', () => res.writeHead(200).end('ok'));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as AddressInfo).port, hits, server })));
}

describe.each(storeKinds)('security on %s', (kind) => {
  describe('tenancy and limits', () => {
    let t: TestHookline;
    beforeAll(async () => {
      t = await startTestHookline(kind, { env: { HOOKLINE_MAX_ENDPOINTS_PER_APP: '3' } });
    });
    afterAll(async () => {
      await t?.stop();
    });

    it('an application key reaches only its own application: every other one is a 404 and nothing changes', async () => {
      const a = await createApp(t.api, { uid: `tenant-a-${kind}` });
      const b = await createApp(t.api, { uid: `tenant-b-${kind}`, retry_schedule: ['1h'] });
      const keyA = await t.api.post(`/v1/apps/${a.id}/keys`, { name: 'ci' });
      expect(keyA.status).toBe(201);
      expect(keyA.body.key).toMatch(/^hk_/);
      const keyB = await t.api.post(`/v1/apps/${b.id}/keys`, {});
      const asA = apiClient(t.api.url, keyA.body.key);
      const epB = await createEndpoint(t.api, b.id);
      const evtB = await sendEvent(t.api, b.id);
      // Settled: its first attempt is recorded and the next waits an hour, so the counts stay still.
      const [dlvB] = await waitUntil(() => deliveriesOf(t.api, b.id, evtB.id), (ds) => ds[0]?.attempt_count === 1, 20_000, 'B delivery');

      expect((await asA.get(`/v1/apps/${a.id}/endpoints`)).status).toBe(200);
      expect((await asA.get(`/v1/apps/${a.uid}`)).status).toBe(200);
      const before = await countRows(t);
      const matrix: [string, string, unknown?][] = [];
      for (const app of [b.id, b.uid!]) {
        matrix.push(
          ['GET', `/v1/apps/${app}`], ['PATCH', `/v1/apps/${app}`, { name: 'x' }], ['DELETE', `/v1/apps/${app}`],
          ['GET', `/v1/apps/${app}/endpoints`], ['POST', `/v1/apps/${app}/endpoints`, { url: 'https://example.com' }],
          ['PUT', `/v1/apps/${app}/endpoints/by-uid/mine`, { url: 'https://example.com' }],
          ['GET', `/v1/apps/${app}/endpoints/${epB.id}`], ['PATCH', `/v1/apps/${app}/endpoints/${epB.id}`, { description: 'x' }],
          ['DELETE', `/v1/apps/${app}/endpoints/${epB.id}`], ['POST', `/v1/apps/${app}/endpoints/${epB.id}/secret/rotate`, {}],
          ['GET', `/v1/apps/${app}/endpoints/${epB.id}/deliveries`],
          ['GET', `/v1/apps/${app}/events`], ['POST', `/v1/apps/${app}/events`, { type: 'a.b', data: {} }],
          ['GET', `/v1/apps/${app}/events/${evtB.id}`], ['GET', `/v1/apps/${app}/events/${evtB.id}/deliveries`],
          ['GET', `/v1/apps/${app}/deliveries`], ['GET', `/v1/apps/${app}/deliveries/${dlvB!.id}`], ['POST', `/v1/apps/${app}/deliveries/${dlvB!.id}/resend`],
          ['GET', `/v1/apps/${app}/keys`], ['POST', `/v1/apps/${app}/keys`, {}], ['DELETE', `/v1/apps/${app}/keys/${keyB.body.id}`],
        );
      }
      // B's resources under A's own path.
      matrix.push(
        ['GET', `/v1/apps/${a.id}/endpoints/${epB.id}`], ['PATCH', `/v1/apps/${a.id}/endpoints/${epB.id}`, { description: 'x' }],
        ['DELETE', `/v1/apps/${a.id}/endpoints/${epB.id}`], ['POST', `/v1/apps/${a.id}/endpoints/${epB.id}/secret/rotate`, {}],
        ['GET', `/v1/apps/${a.id}/endpoints/${epB.id}/deliveries`], ['GET', `/v1/apps/${a.id}/events/${evtB.id}`],
        ['GET', `/v1/apps/${a.id}/events/${evtB.id}/deliveries`], ['GET', `/v1/apps/${a.id}/deliveries/${dlvB!.id}`],
        ['POST', `/v1/apps/${a.id}/deliveries/${dlvB!.id}/resend`],
      );
      for (const [method, path, body] of matrix) {
        const res = await asA.request(method, path, body);
        expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(404);
        expect(res.body.error.type).toBe('not_found_error');
      }
      expect(await countRows(t)).toEqual(before);

      // Admin-only routes refuse an application key; its own keys are the admin's business.
      expect((await asA.get('/v1/apps')).status).toBe(403);
      expect((await asA.post(`/v1/apps/${a.id}/keys`, {})).status).toBe(403);
      // Revoked and unknown keys are 401.
      expect((await t.api.request('DELETE', `/v1/apps/${a.id}/keys/${keyA.body.id}`)).body.revoked_at).toEqual(expect.any(String));
      expect((await asA.get(`/v1/apps/${a.id}`)).status).toBe(401);
      expect((await apiClient(t.api.url, 'hk_unknown').get(`/v1/apps/${a.id}`)).status).toBe(401);
      const listed = await t.api.get(`/v1/apps/${b.id}/keys`);
      expect(listed.body.data[0]).toMatchObject({ id: keyB.body.id, prefix: keyB.body.key.slice(0, 10) });
      expect(JSON.stringify(listed.body)).not.toContain(keyB.body.key);
    });

    it("an application key cannot reach another application by naming that application's id as its own uid", async () => {
      const a = await createApp(t.api, { uid: `uid-a-${kind}` });
      const b = await createApp(t.api, { uid: `uid-b-${kind}` });
      const asA = apiClient(t.api.url, (await t.api.post(`/v1/apps/${a.id}/keys`, {})).body.key);
      const renamed = await asA.request('PATCH', `/v1/apps/${a.id}`, { uid: b.id });
      expect(renamed.status).toBe(400);
      expect(JSON.stringify(renamed.body.error.details)).toContain('must not start with \\"app_\\"');
      expect((await t.api.post('/v1/apps', { name: 'x', uid: 'ep_1' })).status).toBe(400);
      // A uid stored before that rule (written here behind the API) still grants nothing: an
      // `app_…` path segment is always an id, for the auth scope as for the store.
      await sql`update applications set uid = ${b.id} where id = ${a.id}`.execute(t.hookline.store.db);
      for (const path of [`/v1/apps/${b.id}`, `/v1/apps/${b.id}/events`, `/v1/apps/${b.id}/endpoints`]) {
        expect((await asA.get(path)).status, path).toBe(404);
      }
      expect((await asA.post(`/v1/apps/${b.id}/events`, { type: 'a.b', data: {} })).status).toBe(404);
      expect((await asA.get(`/v1/apps/${a.id}`)).body.uid).toBe(b.id);
    });

    it("an application key cannot change its application's uid (no probing or squatting other tenants' uids), and no application takes the operator's", async () => {
      const a = await createApp(t.api, { uid: `own-a-${kind}` });
      const b = await createApp(t.api, { uid: `own-b-${kind}` });
      const asA = apiClient(t.api.url, (await t.api.post(`/v1/apps/${a.id}/keys`, {})).body.key);
      for (const uid of [b.uid, `fresh-${kind}`, null]) {
        const res = await asA.request('PATCH', `/v1/apps/${a.id}`, { uid });
        expect(res.status, String(uid)).toBe(403);
        expect(res.body.error).toMatchObject({ type: 'permission_error', code: 'admin_key_required' });
      }
      expect((await asA.request('PATCH', `/v1/apps/${a.id}`, { uid: a.uid, name: 'renamed' })).body).toMatchObject({ uid: a.uid, name: 'renamed' });
      expect((await t.api.request('PATCH', `/v1/apps/${a.id}`, { uid: `moved-${kind}` })).body.uid).toBe(`moved-${kind}`);
      for (const [method, path] of [['PATCH', `/v1/apps/${a.id}`], ['POST', '/v1/apps']] as const) {
        const res = await t.api.request(method, path, { name: 'x', uid: 'hookline-operator' });
        expect(res.status).toBe(400);
        expect(JSON.stringify(res.body.error.details)).toContain('reserved');
      }
      // The operator application itself may repeat its own uid in a PATCH.
      await sql`update applications set uid = 'hookline-operator' where id = ${b.id}`.execute(t.hookline.store.db);
      expect((await t.api.request('PATCH', `/v1/apps/${b.id}`, { uid: 'hookline-operator', name: 'ops' })).body).toMatchObject({ uid: 'hookline-operator', name: 'ops' });
      // It is never renamed or deleted: workers find it by that uid.
      for (const [method, body] of [['PATCH', { uid: 'not-the-operator' }], ['PATCH', { uid: null }], ['DELETE', undefined]] as const) {
        const res = await t.api.request(method, `/v1/apps/${b.id}`, body);
        expect(res.status, method).toBe(409);
        expect(res.body.error.code).toBe('operator_application');
      }
      expect((await t.api.get(`/v1/apps/${b.id}`)).body.uid).toBe('hookline-operator');
      // Nor given application keys: its events name every tenant's ids, for the admin key only.
      const keyed = await t.api.post(`/v1/apps/${b.id}/keys`, { name: 'reader' });
      expect([keyed.status, keyed.body.error.code]).toEqual([409, 'operator_application']);
      await sql`update applications set uid = null where id = ${b.id}`.execute(t.hookline.store.db);
    });

    it('refuses an endpoint past the per-application limit and stores nothing', async () => {
      const app = await createApp(t.api);
      for (let i = 0; i < 3; i++) await createEndpoint(t.api, app.id);
      const before = await countRows(t);
      const res = await t.api.post(`/v1/apps/${app.id}/endpoints`, { url: 'https://example.com/4' });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('endpoint_limit_reached');
      expect(await countRows(t)).toEqual(before);
    });
  });

  it('rate-limits each key with 429 and Retry-After, storing nothing refused', async () => {
    const t = await startTestHookline(kind, { env: { HOOKLINE_API_RATE_LIMIT_PER_S: '0.5', HOOKLINE_API_RATE_BURST: '4' } });
    try {
      const app = await createApp(t.api); // 1 token
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await t.api.post(`/v1/apps/${app.id}/events`, { type: 'a.b', data: { i } })).status);
      expect(statuses).toEqual([202, 202, 202, 429]);
      const limited = await t.api.post(`/v1/apps/${app.id}/events`, { type: 'a.b', data: {} });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(limited.body.error.type).toBe('rate_limit_error');
      expect((await countRows(t)).events).toBe(3);
    } finally {
      await t.stop();
    }
  });

  describe('network guard', () => {
    let pki: TestPki;
    let t: TestHookline;
    let good: Awaited<ReturnType<typeof httpsReceiver>>;
    let selfSigned: Awaited<ReturnType<typeof httpsReceiver>>;
    let proxy: ChildProcess;
    let proxyPort: number;
    const proxied: string[] = [];
    const answers: Record<string, string[]> = { 'secure.test': ['127.0.0.1'], 'self.test': ['127.0.0.1'], 'private.test': ['10.1.2.3'] };
    let rebindCalls = 0;
    const resolve: Resolver = async (hostname) => {
      // rebind.test answers a public address first and loopback afterwards: a rebinding DNS server.
      // (127.0.0.1 is on the allow-list for the other tests, so it rebinds to 127.0.0.2.)
      if (hostname === 'rebind.test') return [{ address: rebindCalls++ === 0 ? '93.184.216.34' : '127.0.0.2', family: 4 }];
      const list = answers[hostname];
      if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      return list.map((address) => ({ address, family: 4 }));
    };

    beforeAll(async () => {
      pki = makeTestPki(['secure.test', 'self.test', 'rebind.test', 'private.test']);
      good = await httpsReceiver(pki.server);
      selfSigned = await httpsReceiver(pki.selfSigned);
      proxy = spawn(process.execPath, [join(__dirname, 'support', 'connect-proxy.mjs')], { env: { ...process.env, HOSTS: 'secure.test=127.0.0.1' }, stdio: ['ignore', 'pipe', 'inherit'] });
      proxyPort = await new Promise<number>((done) => proxy.stdout!.once('data', (d: Buffer) => done(Number(d.toString().split('\n')[0]))));
      proxy.stdout!.on('data', (d: Buffer) => proxied.push(...d.toString().split('\n').filter((l) => l.startsWith('{'))));
      // Production-like: https only, loopback blocked except through the operator's allow-list.
      t = await startTestHookline(kind, {
        env: { HOOKLINE_ALLOW_INSECURE_URLS: 'false', HOOKLINE_TLS_CA_FILE: pki.caFile, HOOKLINE_ALLOW_SUBNETS: '127.0.0.1/32' },
        resolve,
      });
    });
    afterAll(async () => {
      proxy?.kill();
      good?.server.close();
      selfSigned?.server.close();
      await t?.stop();
    });

    const lastAttempt = async (appId: string, eventId: string) => {
      const [d] = await waitUntil(() => deliveriesOf(t.api, appId, eventId), (ds) => ds.length === 1 && ds[0]!.attempt_count >= 1, 20_000, 'an attempt');
      return (await deliveryOf(t.api, appId, d!.id)).attempts![0]!;
    };

    it('refuses private and loopback literals on create, but accepts names without resolving them', async () => {
      const app = await createApp(t.api);
      for (const url of ['https://127.0.0.2/x', 'https://[::ffff:127.0.0.2]/x', 'https://169.254.169.254/latest', 'https://2130706434/', 'https://0x7f.2/', 'https://localhost/x', 'http://secure.test/x', 'https://[fd00::1]/x', 'https://100.64.0.1/x', 'https://example.com/\r\nX: y', 'https://example.com/\tx']) {
        const res = await t.api.post(`/v1/apps/${app.id}/endpoints`, { url });
        expect(res.status, url).toBe(400);
      }
      expect((await t.api.post(`/v1/apps/${app.id}/endpoints`, { url: 'https://does-not-resolve.invalid/hook' })).status).toBe(201);
    });

    it('delivers over HTTPS trusted through the test CA, and a self-signed receiver fails with tls', async () => {
      const app = await createApp(t.api, { retry_schedule: ['1h'] });
      await createEndpoint(t.api, app.id, { url: `https://secure.test:${good.port}/ok` });
      const ok = await sendEvent(t.api, app.id);
      expect(await lastAttempt(app.id, ok.id)).toMatchObject({ response_status: 200, error_code: null });
      expect(good.hits).toContain('/ok');

      const app2 = await createApp(t.api, { retry_schedule: ['1h'] });
      await createEndpoint(t.api, app2.id, { url: `https://self.test:${selfSigned.port}/self` });
      const bad = await sendEvent(t.api, app2.id);
      expect(await lastAttempt(app2.id, bad.id)).toMatchObject({ response_status: null, error_code: 'tls' });
      expect(selfSigned.hits).toHaveLength(0);
    });

    it('blocks at send time a name that rebinds to loopback, and one that resolves to a private address', async () => {
      const app = await createApp(t.api, { retry_schedule: ['1h'] });
      // What an earlier check saw: a public address.
      expect(await resolve('rebind.test', { family: 0 })).toEqual([{ address: '93.184.216.34', family: 4 }]);
      await createEndpoint(t.api, app.id, { url: `https://rebind.test:${good.port}/rebind` });
      const event = await sendEvent(t.api, app.id);
      const attempt = await lastAttempt(app.id, event.id);
      expect(attempt.error_code).toBe('ssrf_blocked');
      expect(good.hits).not.toContain('/rebind');

      const app2 = await createApp(t.api, { retry_schedule: ['1h'] });
      await createEndpoint(t.api, app2.id, { url: 'https://private.test/hook' });
      expect((await lastAttempt(app2.id, (await sendEvent(t.api, app2.id)).id)).error_code).toBe('ssrf_blocked');

      // A literal stored while the rules allowed it (an HOOKLINE_ALLOW_SUBNETS since removed) is
      // refused at send time, and recorded as ssrf_blocked too, not invalid_url.
      const app3 = await createApp(t.api, { retry_schedule: ['1h'] });
      const ep3 = await createEndpoint(t.api, app3.id, { url: 'https://example.com/hook' });
      await t.hookline.store.db.updateTable('endpoints').set({ url: 'https://127.0.0.2/hook' }).where('id', '=', ep3.id).execute();
      expect(await lastAttempt(app3.id, (await sendEvent(t.api, app3.id)).id)).toMatchObject({ error_code: 'ssrf_blocked', error_message: expect.stringContaining('127.0.0.2') });
    });

    it('delivers through a real CONNECT proxy, and still applies the SSRF rules to the target', async () => {
      const viaProxy = await startTestHookline(kind, {
        env: { HOOKLINE_ALLOW_INSECURE_URLS: 'false', HOOKLINE_TLS_CA_FILE: pki.caFile, HOOKLINE_ALLOW_SUBNETS: '127.0.0.1/32', HOOKLINE_EGRESS_PROXY_URL: `http://127.0.0.1:${proxyPort}` },
        resolve,
      });
      try {
        const app = await createApp(viaProxy.api, { retry_schedule: ['1h'] });
        await createEndpoint(viaProxy.api, app.id, { url: `https://secure.test:${good.port}/proxied` });
        const event = await sendEvent(viaProxy.api, app.id);
        const [d] = await waitUntil(() => deliveriesOf(viaProxy.api, app.id, event.id), (ds) => ds[0]?.status === 'succeeded', 20_000, 'proxied delivery');
        expect(d).toBeDefined();
        expect(good.hits).toContain('/proxied');
        expect(proxied).toContain(JSON.stringify({ connect: `secure.test:${good.port}` }));

        const app2 = await createApp(viaProxy.api, { retry_schedule: ['1h'] });
        await createEndpoint(viaProxy.api, app2.id, { url: 'https://private.test/hook' });
        const blocked = await sendEvent(viaProxy.api, app2.id);
        const [bd] = await waitUntil(() => deliveriesOf(viaProxy.api, app2.id, blocked.id), (ds) => ds[0]?.attempt_count === 1, 20_000, 'blocked attempt');
        expect((await deliveryOf(viaProxy.api, app2.id, bd!.id)).attempts![0]!.error_code).toBe('ssrf_blocked');
        expect(proxied.some((l) => l.includes('private.test'))).toBe(false);
      } finally {
        await viaProxy.stop();
      }
    });
  });
});
