/**
 * The sender against a real loopback receiver: what the activity's cancellation does to a POST.
 * (Timeouts, redirects, caps and the SSRF guard are covered end to end in `test/`.)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../../test/support/receiver';
import { capBody, createHttpSender, type HttpSender, type PostRequest } from './http-sender';

describe('createHttpSender and the cancellation signal', () => {
  let receiver: Receiver;
  let sender: HttpSender;
  beforeAll(async () => {
    receiver = await startReceiver();
    // Development mode: loopback may be connected to.
    sender = createHttpSender({ allowInsecure: true, allowSubnets: [] });
  });
  afterAll(async () => {
    await sender.close();
    await receiver.close();
  });

  const request = (path: string, extra: Partial<PostRequest> = {}): PostRequest => ({
    url: `${receiver.url}${path}`,
    headers: { 'content-type': 'application/json' },
    body: '{}',
    timeoutMs: 10_000,
    ...extra,
  });

  it('sends nothing when the signal is already aborted (the local activity timed out before the POST)', async () => {
    const gaveUp = AbortSignal.abort();
    const res = await sender.post(request('/never', { signal: gaveUp }));
    expect(res).toMatchObject({ statusCode: null, errorCode: 'timeout' });
    // A POST after it arrives alone: the first never left.
    expect(await sender.post(request('/after'))).toMatchObject({ statusCode: 200 });
    await receiver.waitFor(1);
    expect(receiver.requests.map((r) => r.path)).toEqual(['/after']);
  });

  it('stops waiting for the answer when the signal aborts mid-exchange, long before the endpoint timeout', async () => {
    receiver.script({ status: 200, delayMs: 5_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const res = await sender.post(request('/slow', { signal: controller.signal }));
    expect(res).toMatchObject({ statusCode: null, errorCode: 'timeout' });
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('keeps an answer whose status came in when its body is then cut off', async () => {
    // Headers and part of a body, then nothing: the status is the receiver's answer.
    const stalling = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const res = await sender.post({ ...request('/'), url: `http://127.0.0.1:${(stalling.address() as AddressInfo).port}/`, signal: controller.signal });
      // What had arrived is kept.
      expect(res).toMatchObject({ statusCode: 200, body: 'partial', bodyTruncated: true, errorCode: null, errorMessage: expect.stringContaining('could not be read whole') });
      const timedOut = await sender.post({ ...request('/'), url: `http://127.0.0.1:${(stalling.address() as AddressInfo).port}/`, timeoutMs: 300 });
      expect(timedOut).toMatchObject({ statusCode: 200, body: 'partial', bodyTruncated: true });
    } finally {
      stalling.closeAllConnections();
      await new Promise((resolve) => stalling.close(resolve));
    }
  });

  it('without a signal the endpoint timeout still ends the exchange', async () => {
    receiver.script({ status: 200, delayMs: 5_000 });
    const res = await sender.post(request('/slow-again', { timeoutMs: 200 }));
    expect(res).toMatchObject({ statusCode: null, errorCode: 'timeout' });
  });

  it('reads an answer with large headers up to 64 KiB, and says why it could not read a larger one', async () => {
    const big = createServer((req, res) => {
      res.writeHead(req.url === '/huge' ? 200 : 204, { 'x-padding': 'a'.repeat(req.url === '/huge' ? 80_000 : 40_000) }).end();
    });
    await new Promise<void>((resolve) => big.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(big.address() as AddressInfo).port}`;
      expect(await sender.post(request('', { url: `${url}/large` }))).toMatchObject({ statusCode: 204, errorCode: null });
      expect(await sender.post(request('', { url: `${url}/huge` }))).toMatchObject({ statusCode: null, errorCode: 'network', errorMessage: 'the response headers are larger than 64 KiB' });
    } finally {
      big.close();
    }
  });
});

describe('capBody', () => {
  const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
  it.each<[string, Buffer, number, string, boolean]>([
    ['under the cap', bytes('héllo'), 16, 'héllo', false],
    ['exactly the cap', bytes('abcd'), 4, 'abcd', false],
    ['ASCII past the cap', bytes('abcdef'), 4, 'abcd', true],
    ['a 2-byte character split by the cap is left out whole', bytes('abc', 'é', 'x'), 4, 'abc', true],
    ['a 2-byte character that ends at the cap is kept', bytes('ab', 'é', 'x'), 4, 'abé', true],
    ['a 4-byte character split after its first byte', bytes('a', '😀', 'b'), 2, 'a', true],
    ['a 4-byte character split after its third byte', bytes('a', '😀', 'b'), 4, 'a', true],
    ['a 3-byte character split after its second byte', bytes('ab', '€'), 3, 'ab', true],
    ['invalid UTF-8 before the cap is shown as U+FFFD', bytes('a', [0xff], 'b'), 16, 'a\ufffdb', false],
    ['stray continuation bytes at the cap: cut where the cap is', bytes('a', [0x80, 0x80, 0x80, 0x80, 0x80]), 5, 'a\ufffd\ufffd\ufffd\ufffd', true],
    ['NUL, which text columns cannot hold', bytes('a', [0], 'b'), 16, 'a\ufffdb', false],
  ])('%s', (_name, input, max, text, truncated) => {
    expect(capBody(input, max)).toEqual({ text, truncated });
  });
});
