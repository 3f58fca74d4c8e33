#!/usr/bin/env node
// A minimal HTTP CONNECT proxy, run as its own process by the tests. It resolves names through
// HOSTS (e.g. "secure.test=127.0.0.1,other=127.0.0.1") so test-only names work, and prints one
// JSON line per tunnel it opens. Its port is the first line on stdout.
import { createServer } from 'node:http';
import { connect } from 'node:net';

const hosts = Object.fromEntries((process.env.HOSTS ?? '').split(',').filter(Boolean).map((p) => p.split('=')));
const server = createServer((_req, res) => res.writeHead(405).end());
server.on('connect', (req, clientSocket, head) => {
  const [host, port] = req.url.split(':');
  process.stdout.write(`${JSON.stringify({ connect: req.url })}\n`);
  const upstream = connect(Number(port), hosts[host] ?? host, () => {
    clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    upstream.write(head);
    upstream.pipe(clientSocket);
    clientSocket.pipe(upstream);
  });
  upstream.on('error', () => clientSocket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
  clientSocket.on('error', () => upstream.destroy());
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
