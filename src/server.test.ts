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

  it('closing lets a request under way finish and answer, and ends its connection after', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    server = await listen(
      (_req, res) => {
        void held.then(() => res.end('finished'));
      },
      '127.0.0.1',
      0,
    );
    const answer = fetch(`${server.url}/x`, { method: 'POST', body: '{}' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closed = server.close();
    setTimeout(release, 200);
    const res = await answer;
    expect([res.status, res.headers.get('connection'), await res.text()]).toEqual([200, 'close', 'finished']);
    await closed;
    server = undefined;
  });

  it('past the drain, beforeCut makes the stragglers answer; one that still does not is cut', async () => {
    let cut!: () => void;
    const cutting = new Promise<void>((resolve) => (cut = resolve));
    server = await listen(
      (req, res) => {
        if (req.url === '/answers-at-cut') void cutting.then(() => res.writeHead(503).end('aborted'));
      },
      '127.0.0.1',
      0,
    );
    const answered = fetch(`${server.url}/answers-at-cut`);
    const neverAnswered = fetch(`${server.url}/never`).then(
      () => 'answered',
      () => 'cut',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    let cuts = 0;
    await server.close({ drainMs: 200, beforeCut: () => (cuts++, cut()) });
    server = undefined;
    const res = await answered;
    expect([res.status, await res.text()]).toEqual([503, 'aborted']);
    expect(await neverAnswered).toBe('cut');
    expect(cuts).toBe(1);
  });

  it('lets a request that arrives whole in time through', async () => {
    server = await listen((req, res) => res.end(`${req.method} ok`), '127.0.0.1', 0, 300);
    const res = await fetch(`${server.url}/x`, { method: 'POST', body: '{}' });
    expect(await res.text()).toBe('POST ok');
  });
});
