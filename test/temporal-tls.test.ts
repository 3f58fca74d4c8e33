/**
 * Hookline reaches a Temporal cluster over TLS with a client certificate (mTLS). A TLS proxy on
 * loopback, whose certificate a test CA signs and which demands a client certificate from that
 * CA, stands in front of the test dev server (which speaks plaintext). A whole delivery runs
 * through it; without the client certificate, or without the CA, the start fails.
 */
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp, createEndpoint, deliveriesOf, sendEvent } from './support/factories';
import { startWithEnv, testEnv } from './support/hookline';
import { startReceiver, type Receiver } from './support/receiver';
import { makeTestPki, type TestPki } from './support/tls';
import { waitUntil } from './support/wait';

/** Terminates TLS (HTTP/2 by ALPN, as gRPC asks) and pipes the bytes to `target`. */
async function tlsProxy(pki: TestPki, target: string): Promise<{ address: string; clients: () => number; refused: () => number; close: () => Promise<void> }> {
  const at = target.lastIndexOf(':');
  const [host, port] = [target.slice(0, at), Number(target.slice(at + 1))];
  let clients = 0;
  let refused = 0;
  const server: Server = createServer(
    { ...pki.server, ca: readFileSync(pki.caFile), requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'] },
    (socket) => {
      clients++;
      const upstream = connect(port, host);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    },
  );
  // A handshake either side gave up on: no client certificate, or a server the client does not trust.
  server.on('tlsClientError', () => refused++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: listening } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${listening}`,
    clients: () => clients,
    refused: () => refused,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('Temporal over TLS', () => {
  let pki: TestPki;
  let proxy: Awaited<ReturnType<typeof tlsProxy>>;
  let r: Receiver;
  beforeAll(async () => {
    pki = makeTestPki(['temporal.test']);
    proxy = await tlsProxy(pki, inject('temporalAddress'));
    r = await startReceiver();
  });
  afterAll(async () => {
    await r?.close();
    await proxy?.close();
  });

  const tlsEnv = (extra: Record<string, string> = {}) =>
    testEnv('pglite', {
      TEMPORAL_ADDRESS: proxy.address,
      TEMPORAL_TLS_CA_FILE: pki.caFile,
      TEMPORAL_TLS_CERT_FILE: pki.client.certFile,
      TEMPORAL_TLS_KEY_FILE: pki.client.keyFile,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
      ...extra,
    });

  it('delivers an event with the client and the worker connected through mTLS', async () => {
    const t = await startWithEnv(await tlsEnv());
    try {
      const app = await createApp(t.api);
      await createEndpoint(t.api, app.id, { url: `${r.url}/over-tls` });
      const event = await sendEvent(t.api, app.id);
      await waitUntil(() => deliveriesOf(t.api, app.id, event.id), (ds) => ds[0]?.status === 'succeeded', 30_000, 'delivery over TLS');
      expect(r.requests.filter((q) => q.path === '/over-tls')).toHaveLength(1);
      // The SDK's two connections (client and worker) both went through the proxy.
      expect(proxy.clients()).toBeGreaterThanOrEqual(2);
    } finally {
      await t.stop();
    }
  });

  it.each([
    ['without the client certificate', { TEMPORAL_TLS_CERT_FILE: '', TEMPORAL_TLS_KEY_FILE: '' }],
    ['without the CA that signed the server', { TEMPORAL_TLS_CA_FILE: '' }],
  ])('does not start %s', async (_name, drop) => {
    const refusedBefore = proxy.refused();
    await expect(startWithEnv(await tlsEnv(drop))).rejects.toThrow('Failed to connect');
    expect(proxy.refused()).toBeGreaterThan(refusedBefore);
  }, 60_000);
});
