/** Serves the API's request listener and closes it cleanly. */
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export function listen(handler: RequestListener, host: string, port: number): Promise<ApiServer> {
  return new Promise((resolve, reject) => {
    const server = createServer(handler);
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
    // Idle keep-alive connections outlive the client's and a load balancer's (60 s is common), so
    // the other side closes them first: with Node's 5 s default, a request sent on a socket the
    // server is just closing fails with ECONNRESET.
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
    server.once('error', reject);
  });
}
