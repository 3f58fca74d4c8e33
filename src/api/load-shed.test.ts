import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { limitInFlight, ShedReason, type ShedOptions } from './load-shed';

/** A server whose every request waits until the test opens its gate. */
async function gatedServer(maxInFlight: number, extra: Omit<ShedOptions, 'maxInFlight'> = {}) {
  const gates: ServerResponse[] = [];
  const server = createServer(
    limitInFlight((_req, res) => void gates.push(res), { maxInFlight, ...extra }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const openGates = () => gates.splice(0).forEach((res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  const waitForGates = async (n: number) => {
    while (gates.length < n) await new Promise((r) => setTimeout(r, 10));
  };
  const close = () => {
    server.closeAllConnections();
    server.close();
  };
  return { base, openGates, waitForGates, close };
}

describe('limitInFlight', () => {
  let close = () => {};
  afterEach(() => close());

  it('answers 503 with Retry-After and the API error shape past the limit, and admits again once requests finish', async () => {
    const s = await gatedServer(2);
    close = s.close;
    const first = [fetch(`${s.base}/v1/apps`), fetch(`${s.base}/v1/apps/app_1/events`, { method: 'POST', body: '{"type":"a"}' })];
    await s.waitForGates(2);
    const shed = await fetch(`${s.base}/v1/apps`, { method: 'POST', body: JSON.stringify({ name: 'x'.repeat(10_000) }) });
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('1');
    expect(shed.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await shed.json()).toEqual({ error: { type: 'service_unavailable_error', code: 'overloaded', message: expect.any(String) } });
    s.openGates();
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200]);
    const again = fetch(`${s.base}/v1/apps`);
    await s.waitForGates(1);
    s.openGates();
    expect((await again).status).toBe(200);
  });

  it('neither counts nor sheds health probes and docs', async () => {
    const s = await gatedServer(1);
    close = s.close;
    const held = fetch(`${s.base}/v1/apps`);
    await s.waitForGates(1);
    expect((await fetch(`${s.base}/v1/apps`)).status).toBe(503);
    expect((await fetch(`${s.base}/v1?x=1`)).status).toBe(503);
    // Express would route these too, so they count.
    expect((await fetch(`${s.base}/V1/apps`)).status).toBe(503);
    const probes = ['/healthz', '/readyz', '/openapi.json', '/v1x'].map((path) => fetch(`${s.base}${path}`));
    await s.waitForGates(5);
    s.openGates();
    expect((await Promise.all([held, ...probes])).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it('sheds requests whose bodies it did not read without hanging or breaking later requests', async () => {
    const s = await gatedServer(1);
    close = s.close;
    const held = fetch(`${s.base}/v1/apps`);
    await s.waitForGates(1);
    for (let i = 0; i < 3; i++) {
      const shed = await fetch(`${s.base}/v1/apps/a/events`, { method: 'POST', body: 'y'.repeat(200_000) });
      expect(shed.status).toBe(503);
      await shed.arrayBuffer();
    }
    s.openGates();
    expect((await held).status).toBe(200);
  });

  it('sheds every limited request while the event loop is late, by reason, and admits again once it is not', async () => {
    let late = true;
    const reasons: ShedReason[] = [];
    const s = await gatedServer(10, { late: () => late, onShed: (reason) => reasons.push(reason) });
    close = s.close;
    expect((await fetch(`${s.base}/v1/apps`)).status).toBe(503);
    const probe = fetch(`${s.base}/healthz`);
    await s.waitForGates(1);
    late = false;
    const admitted = fetch(`${s.base}/v1/apps`);
    await s.waitForGates(2);
    s.openGates();
    expect((await Promise.all([probe, admitted])).map((r) => r.status)).toEqual([200, 200]);
    expect(reasons).toEqual([ShedReason.eventLoopDelay]);
  });
});
