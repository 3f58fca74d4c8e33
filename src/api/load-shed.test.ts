import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { limitInFlight } from './load-shed';

describe('limitInFlight', () => {
  it('answers 503 with Retry-After past the limit, and admits again once requests finish', async () => {
    const app = express();
    const gates: (() => void)[] = [];
    app.use(limitInFlight(2));
    app.get('/slow', (_req, res) => {
      gates.push(() => res.json({ ok: true }));
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`;
    try {
      const first = [fetch(url), fetch(url)];
      while (gates.length < 2) await new Promise((r) => setTimeout(r, 10));
      const shed = await fetch(url);
      expect(shed.status).toBe(503);
      expect(shed.headers.get('retry-after')).toBe('1');
      expect(await shed.json()).toMatchObject({ error: { type: 'service_unavailable_error', code: 'overloaded' } });
      gates.splice(0).forEach((open) => open());
      expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200]);
      const again = fetch(url);
      while (gates.length < 1) await new Promise((r) => setTimeout(r, 10));
      gates.splice(0).forEach((open) => open());
      expect((await again).status).toBe(200);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
