/** Serves the Express app and closes it cleanly. */
import type { Express } from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

export function listen(app: Express, host: string, port: number): Promise<ApiServer> {
  return new Promise((resolve, reject) => {
    const server: Server = app.listen(port, host, () => {
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
    server.once('error', reject);
  });
}
