/** The per-key limits in front of every /v1 route, on a real server. */
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, type ApiServer } from '../server';
import { rateLimitPerKey, type Principal } from './auth';

describe('rateLimitPerKey: requests open at once', () => {
  let server: ApiServer | undefined;
  afterEach(async () => {
    await server?.close();
  });

  /** A server whose requests stay open until `release()`; the `x-key` header names the principal. */
  async function holdingServer(maxInFlightPerAppKey: number) {
    const waiting: (() => void)[] = [];
    const app = express();
    app.use(async (req, res, next) => {
      // A slow key lookup, as `authenticate` can have.
      if (req.get('x-slow-auth')) await new Promise((resolve) => setTimeout(resolve, 200));
      const key = req.get('x-key')!;
      res.locals.principal = (key === 'admin' ? { kind: 'admin' } : { kind: 'app', keyId: key, appId: 'app_1', appUid: null }) satisfies Principal;
      next();
    });
    app.use(rateLimitPerKey({ rate: { perS: 1000, burst: 1000 }, maxInFlightPerAppKey }));
    app.get('/hold', (_req, res) => {
      if (res.closed) return; // its client has gone
      waiting.push(() => {
        if (!res.closed) res.json({ ok: true });
      });
    });
    server = await listen(app, '127.0.0.1', 0);
    const url = server.url;
    return {
      get: (key: string) => fetch(`${url}/hold`, { headers: { 'x-key': key } }),
      async held(count: number) {
        while (waiting.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
      },
      release: () => waiting.splice(0).forEach((answer) => answer()),
    };
  }

  it('refuses an application key past its open requests with 429, and lets other keys and the admin key through', async () => {
    const s = await holdingServer(2);
    const open = [s.get('k1'), s.get('k1')];
    await s.held(2);
    const refused = await s.get('k1');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ error: { type: 'rate_limit_error', code: 'too_many_in_flight' } });
    // Another application key, and the admin key (the global budget only), are not held back.
    const others = [s.get('k2'), s.get('admin'), s.get('admin'), s.get('admin')];
    await s.held(6);
    s.release();
    expect((await Promise.all([...open, ...others])).map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    // Once its requests ended, the key may open as many again.
    const again = [s.get('k1'), s.get('k1')];
    await s.held(2);
    s.release();
    expect((await Promise.all(again)).map((r) => r.status)).toEqual([200, 200]);
  });

  it('counts nothing for a client that left while its key was being looked up', async () => {
    const s = await holdingServer(1);
    const controller = new AbortController();
    const left = fetch(`${server!.url}/hold`, { headers: { 'x-key': 'k1', 'x-slow-auth': '1' }, signal: controller.signal }).catch(() => 'left');
    setTimeout(() => controller.abort(), 50);
    expect(await left).toBe('left');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Let in (held open by the server), not refused with a 429 for a slot the first one never freed.
    const next = s.get('k1');
    expect(await Promise.race([next.then((res) => res.status), s.held(1).then(() => 'held')])).toBe('held');
    s.release();
    expect((await next).status).toBe(200);
  });

  it('frees the slot of a request the client gave up on', async () => {
    const s = await holdingServer(1);
    const controller = new AbortController();
    const abandoned = fetch(`${server!.url}/hold`, { headers: { 'x-key': 'k1' }, signal: controller.signal }).catch(() => 'aborted');
    await s.held(1);
    controller.abort();
    expect(await abandoned).toBe('aborted');
    // The server sees the socket close; the key's slot is back.
    let status = 429;
    for (let i = 0; i < 50 && status === 429; i++) {
      const res = s.get('k1');
      await new Promise((resolve) => setTimeout(resolve, 20));
      s.release();
      status = (await res).status;
    }
    expect(status).toBe(200);
  });
});
