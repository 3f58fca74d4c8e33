/** The API server's own limits, on a real socket. */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, type ApiServer } from './server';

describe('listen', () => {
  let server: ApiServer | undefined;
  afterEach(async () => {
    await server?.close();
  });

  it('cuts off a request whose body trickles in past the request timeout with a 408, and frees its socket', async () => {
    let handled = 0;
    server = await listen(
      (req, res) => {
        handled++;
        req.resume();
        req.on('end', () => res.end('read'));
      },
      '127.0.0.1',
      0,
      300,
    );
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('POST /v1/apps/x/events HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{');
    // A byte every 100 ms: the socket is never idle, but the request never completes.
    const trickle = setInterval(() => socket.write(' '), 100);
    await closed;
    clearInterval(trickle);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { type: 'invalid_request_error', code: 'request_timeout' } });
    expect(handled).toBe(1);
  });

  it('answers headers past Node\'s limit with a 431 in the API\'s error shape, before any handler', async () => {
    let handled = 0;
    server = await listen(
      (_req, res) => {
        handled++;
        res.end();
      },
      '127.0.0.1',
      0,
    );
    const res = await fetch(`${server.url}/v1/apps`, { headers: { 'x-big': 'x'.repeat(20_000) } });
    expect(res.status).toBe(431);
    expect(await res.json()).toMatchObject({ error: { code: 'headers_too_large' } });
    expect(handled).toBe(0);
  });

  it('lets a request that arrives whole in time through', async () => {
    server = await listen((req, res) => res.end(`${req.method} ok`), '127.0.0.1', 0, 300);
    const res = await fetch(`${server.url}/x`, { method: 'POST', body: '{}' });
    expect(await res.text()).toBe('POST ok');
  });
});
