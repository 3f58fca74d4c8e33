/**
 * Signatures real receivers accept: one endpoint per scheme, verified by code Hookline did not
 * write (the official standardwebhooks library; Stripe-style and hex recipes in JavaScript and in
 * a Python process), rotation during retries, custom headers, and secrets that never leak.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../src/client';
import { createApp, createEndpoint, deliveriesOf, deliveryOf, sendEvent } from './support/factories';
import { startTestHookline, storeKinds, type TestHookline } from './support/hookline';
import { startReceiver, type Receiver } from './support/receiver';
import { waitUntil } from './support/wait';

/** Stripe's documented recipe: split the header, HMAC "{t}.{raw body}" with the secret string. */
function stripeRecipe(header: string, body: string, secret: string): boolean {
  const parts = header.split(',').map((p) => p.split('=') as [string, string]);
  const t = parts.find(([k]) => k === 't')?.[1];
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return parts.filter(([k]) => k === 'v1').some(([, v]) => v.length === expected.length && timingSafeEqual(Buffer.from(v), Buffer.from(expected)));
}

/** The plain hex recipe: HMAC of the raw body with the secret string. */
function hexRecipe(header: string, body: string, secret: string): boolean {
  return header === createHmac('sha256', secret).update(body).digest('hex');
}

async function startPythonReceiver(scheme: string, header: string, secret: string): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn('python3', [join(__dirname, 'support', 'receivers', 'verify_receiver.py'), scheme, header, secret], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    proc.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
    proc.once('error', reject);
  });
  return { url: `http://127.0.0.1:${port}`, proc };
}

describe.each(storeKinds)('signatures on %s', (kind) => {
  let t: TestHookline;
  const logs: string[] = [];
  const receivers: Receiver[] = [];
  const pythons: ChildProcess[] = [];
  const secrets: string[] = [];
  const headerValues: string[] = [];
  const responses: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (logs.push(chunk.toString()), done()) });
    t = await startTestHookline(kind, { logger: pino({ level: 'debug' }, sink) });
  });
  afterAll(async () => {
    pythons.forEach((p) => p.kill());
    await Promise.all(receivers.map((r) => r.close()));
    await t?.stop();
  });
  const receiver = async (b?: Parameters<typeof startReceiver>[0]) => {
    const r = await startReceiver(b);
    receivers.push(r);
    return r;
  };
  /** Reads through the API and remembers every body, to scan for secrets at the end. */
  const read = async (path: string) => {
    const res = await t.api.get(path);
    responses.push(JSON.stringify(res.body));
    return res;
  };

  it('signs each scheme so that independent verifiers accept it, in JavaScript and in Python', async () => {
    const app = await createApp(t.api);
    const js = await receiver();
    const stripeSecret = 'sk_acme_0123456789abcdefXYZ';
    const hexSecret = 'hex-secret-with-enough-length';
    const custom = 'Bearer customer-token-3f9a';
    headerValues.push(custom);
    const std = await createEndpoint(t.api, app.id, { url: `${js.url}/standard`, headers: { Authorization: custom } });
    const stripe = await createEndpoint(t.api, app.id, { url: `${js.url}/stripe`, signature_scheme: 'stripe', signature_header: 'Acme-Signature', secret: stripeSecret });
    await createEndpoint(t.api, app.id, { url: `${js.url}/hex`, signature_scheme: 'hex', signature_header: 'X-Webhook-Signature', secret: hexSecret });
    const pyStripe = await startPythonReceiver('stripe', 'Acme-Signature', stripeSecret);
    const pyHex = await startPythonReceiver('hex', 'X-Webhook-Signature', hexSecret);
    pythons.push(pyStripe.proc, pyHex.proc);
    await createEndpoint(t.api, app.id, { url: pyStripe.url, signature_scheme: 'stripe', signature_header: 'Acme-Signature', secret: stripeSecret });
    await createEndpoint(t.api, app.id, { url: pyHex.url, signature_scheme: 'hex', signature_header: 'X-Webhook-Signature', secret: hexSecret });
    secrets.push(std.secret, stripeSecret, hexSecret);
    expect(stripe.secret).toBe(stripeSecret);

    const event = await sendEvent(t.api, app.id, { data: { amount: 4200, note: 'naïve ☕' } });
    await js.waitFor(3);
    const byPath = (p: string) => js.requests.find((q) => q.path === p)!;
    const s = byPath('/standard');
    expect(new Webhook(std.secret).verify(s.body, s.headers as Record<string, string>)).toMatchObject({ id: event.id });
    expect(s.headers.authorization).toBe(custom);
    const st = byPath('/stripe');
    expect(stripeRecipe(String(st.headers['acme-signature']), st.body, stripeSecret)).toBe(true);
    expect(st.headers['webhook-id']).toBe(event.id);
    const hx = byPath('/hex');
    expect(hexRecipe(String(hx.headers['x-webhook-signature']), hx.body, hexSecret)).toBe(true);
    expect(() => verifyWebhook({ scheme: 'hex', secret: hexSecret, headers: hx.headers, body: hx.body, signatureHeader: 'X-Webhook-Signature' })).not.toThrow();

    // The Python receivers answer 200 only for a good signature, so success means they verified it.
    const ds = await waitUntil(() => deliveriesOf(t.api, app.id, event.id), (list) => list.length === 5 && list.every((d) => d.status !== 'pending'), 20_000, 'five deliveries');
    expect(ds.map((d) => d.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);

    const got = await read(`/v1/apps/${app.id}/endpoints/${std.id}`);
    expect(got.body.header_names).toEqual(['Authorization']);
    expect(got.body.headers).toBeUndefined();
    await read(`/v1/apps/${app.id}/endpoints`);
    for (const d of ds) await read(`/v1/apps/${app.id}/deliveries/${d.id}`);
  });

  it('rotation while a delivery retries: both secrets during the grace period, only the new one after it', async () => {
    const app = await createApp(t.api, { retry_schedule: ['1h', '1h'] });
    const r = await receiver();
    r.script({ status: 500 }, { status: 500 });
    const std = await createEndpoint(t.api, app.id, { url: `${r.url}/std` });
    const stripeSecret = 'sk_rotate_old_0123456789';
    const stripe = await createEndpoint(t.api, app.id, { url: `${r.url}/stripe`, signature_scheme: 'stripe', signature_header: 'Acme-Signature', secret: stripeSecret, retry_schedule: ['1h', '1h'] });
    const event = await sendEvent(t.api, app.id);
    const ds = await waitUntil(() => deliveriesOf(t.api, app.id, event.id), (list) => list.length === 2 && list.every((d) => d.attempt_count === 1), 20_000, 'first attempts');

    const rotated = await t.api.post(`/v1/apps/${app.id}/endpoints/${std.id}/secret/rotate`, { grace_period_s: 3 });
    expect(rotated.status).toBe(200);
    const newStripe = 'sk_rotate_new_9876543210';
    expect((await t.api.post(`/v1/apps/${app.id}/endpoints/${stripe.id}/secret/rotate`, { secret: newStripe, grace_period_s: 3 })).status).toBe(200);
    secrets.push(std.secret, rotated.body.secret, stripeSecret, newStripe);

    const resendAll = async (count: number) => {
      for (const d of ds) expect((await t.api.post(`/v1/apps/${app.id}/deliveries/${d.id}/resend`)).status).toBe(202);
      await r.waitFor(count);
    };
    await resendAll(4); // within the grace period
    const during = r.requests.slice(2, 4);
    const stdDuring = during.find((q) => q.path === '/std')!;
    const stripeDuring = during.find((q) => q.path === '/stripe')!;
    expect(String(stdDuring.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(() => new Webhook(std.secret).verify(stdDuring.body, stdDuring.headers as Record<string, string>)).not.toThrow();
    expect(() => new Webhook(rotated.body.secret).verify(stdDuring.body, stdDuring.headers as Record<string, string>)).not.toThrow();
    const stripeHeader = String(stripeDuring.headers['acme-signature']);
    expect(stripeHeader.match(/v1=/g)).toHaveLength(2);
    expect(stripeRecipe(stripeHeader, stripeDuring.body, stripeSecret)).toBe(true);
    expect(stripeRecipe(stripeHeader, stripeDuring.body, newStripe)).toBe(true);
    // Receivers that keep only the last v1= must get the secret they are moving to.
    expect(stripeRecipe(stripeHeader.replace(/v1=[0-9a-f]+,/, ''), stripeDuring.body, newStripe)).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, 3_200)); // the grace period ends
    const before = r.requests.length;
    await resendAll(before + 2);
    const after = r.requests.slice(before);
    const stdAfter = after.find((q) => q.path === '/std')!;
    expect(() => new Webhook(std.secret).verify(stdAfter.body, stdAfter.headers as Record<string, string>)).toThrow();
    expect(() => new Webhook(rotated.body.secret).verify(stdAfter.body, stdAfter.headers as Record<string, string>)).not.toThrow();
    const stripeAfter = after.find((q) => q.path === '/stripe')!;
    expect(stripeRecipe(String(stripeAfter.headers['acme-signature']), stripeAfter.body, stripeSecret)).toBe(false);
    expect(stripeRecipe(String(stripeAfter.headers['acme-signature']), stripeAfter.body, newStripe)).toBe(true);
    for (const d of ds) expect((await deliveryOf(t.api, app.id, d.id)).status).not.toBe('failed');
  });

  it('refuses bad schemes, secrets and headers', async () => {
    const app = await createApp(t.api);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ signature_scheme: 'md5' }, /signature_scheme/],
      [{ secret: 'whsec_short' }, /secret/],
      [{ signature_scheme: 'stripe', secret: 'short' }, /secret/],
      [{ signature_scheme: 'hex', secret: 'x'.repeat(129) }, /secret/],
      [{ signature_scheme: 'stripe', signature_header: 'Webhook-Signature' }, /signature_header/],
      [{ signature_scheme: 'stripe', signature_header: 'Bad Header' }, /signature_header/],
      [{ headers: { Host: 'evil.example' } }, /Host/],
      [{ headers: { 'Content-Length': '1' } }, /Content-Length/],
      [{ headers: { 'webhook-id': 'x' } }, /webhook-id/],
      [{ headers: { 'X-Ok': 'a\r\nInjected: 1' } }, /X-Ok/],
      [{ headers: { 'X-Ok': 'a\nb' } }, /X-Ok/],
      [{ headers: { 'X-Ok': 'a\u0000b' } }, /X-Ok/],
      [{ headers: { 'Bad Name': 'v' } }, /Bad Name/],
      [{ signature_scheme: 'hex', signature_header: 'X-Sig', headers: { 'x-sig': 'v' } }, /x-sig/i],
    ];
    for (const [body, mentions] of bad) {
      const res = await t.api.post(`/v1/apps/${app.id}/endpoints`, { url: 'https://example.com/hook', ...body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(res.body.error), JSON.stringify(body)).toMatch(mentions);
    }
    expect((await t.api.get(`/v1/apps/${app.id}/endpoints`)).body.data).toHaveLength(0);

    // A stripe secret cannot sign as standard; a generated whsec_ secret can sign any scheme.
    const stripe = await createEndpoint(t.api, app.id, { url: 'https://example.com/s', signature_scheme: 'stripe', secret: 'sk_some_stripe_secret_1234' });
    const toStandard = await t.api.request('PATCH', `/v1/apps/${app.id}/endpoints/${stripe.id}`, { signature_scheme: 'standard' });
    expect(toStandard.status).toBe(400);
    expect(toStandard.body.error.message).toMatch(/rotate/);
    const generated = await createEndpoint(t.api, app.id, { url: 'https://example.com/g' });
    const toHex = await t.api.request('PATCH', `/v1/apps/${app.id}/endpoints/${generated.id}`, { signature_scheme: 'hex' });
    expect(toHex.body).toMatchObject({ signature_scheme: 'hex', signature_header: 'X-Hookline-Signature' });
  });

  it('no secret or custom header value appears in histories, logs, other API responses or the store in plaintext', async () => {
    expect(secrets.length).toBeGreaterThan(0);
    const needles = [...secrets, ...headerValues];
    // Every event of every workflow this instance ran.
    const histories: string[] = [];
    for await (const w of t.hookline.client.workflow.list({ query: `TaskQueue = '${t.env.HOOKLINE_TASK_QUEUE}'` })) {
      const history = await t.hookline.client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
      histories.push(JSON.stringify(history));
    }
    expect(histories.length).toBeGreaterThan(5);
    const db = t.hookline.store.db;
    // Every table there is, so a table added later is searched too.
    const { rows: tableRows } = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(db);
    const tables = tableRows.map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['applications', 'endpoints', 'endpoint_secrets', 'events', 'deliveries', 'attempts', 'api_keys']));
    const dump: string[] = [];
    for (const table of tables) {
      const { rows } = await sql`select * from ${sql.table(table)}`.execute(db);
      dump.push(JSON.stringify(rows));
    }
    for (const needle of needles) {
      const b64 = Buffer.from(needle).toString('base64');
      for (const [where, text] of [['histories', histories.join('\n')], ['logs', logs.join('')], ['responses', responses.join('\n')], ['store', dump.join('\n')]] as const) {
        expect(text.includes(needle), `${where} contain a secret`).toBe(false);
        expect(text.includes(b64), `${where} contain a secret in base64`).toBe(false);
      }
    }
  });
});
