/**
 * A receiver that always answers 500, for P5: every delivery to it fails its first attempt and
 * parks on a retry timer. It only counts; the counting receiver in support.ts always answers 204.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FailingReceiver {
  url: string;
  readonly count: number;
  close(): Promise<void>;
}

export async function startFailingReceiver(): Promise<FailingReceiver> {
  const state = { count: 0 };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      state.count++;
      res.writeHead(500, { 'content-type': 'text/plain' }).end('bench: failing on purpose');
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get count() {
      return state.count;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
