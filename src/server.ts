/** Serves the API's request listener and closes it cleanly. */
import { createServer, STATUS_CODES, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ApiServer {
  url: string;
  /**
   * Stops taking connections and lets the requests under way finish, for up to `drainMs`. Then
   * `beforeCut` runs (to make the stragglers answer: abort what they wait on), they get
   * `CUT_GRACE_MS` more to answer, and what is still open is closed.
   */
  close(opts?: { drainMs?: number; beforeCut?: () => void }): Promise<void>;
}

/**
 * How long a closing server waits for the requests under way (`close`). Its Temporal calls have
 * 5 s (15 s for a signal-with-start) and its statements 10 s: past this they are aborted, so that
 * drain, cut and the rest of a shutdown fit within a supervisor's usual 10 s stop timeout.
 */
export const DRAIN_MS = 5_000;
/** After `beforeCut`, how long the stragglers get to send their answers. */
const CUT_GRACE_MS = 1_000;

const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/**
 * A request must arrive whole (headers and body) within this. Node's default is 5 minutes, for
 * which a client trickling a body holds its socket and an in-flight slot; the largest event
 * body (about 0.6 MB) takes far less on any link that can deliver webhooks.
 */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * What Node answers itself, before any handler (headers over 16 KB, a request past its time,
 * bytes that are not HTTP), in the API's error shape instead of a bare status line.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // A response already under way cannot be replaced (Node's own handler checks the same).
  const underWay = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (err.code === 'ECONNRESET' || !socket.writable || underWay) {
    socket.destroy();
    return;
  }
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'The request headers are too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'The request did not arrive whole in time']
        : [400, 'bad_request', 'The request is not valid HTTP'];
  const body = JSON.stringify({ error: { type: 'invalid_request_error', code, message } });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

export function listen(handler: RequestListener, host: string, port: number, requestTimeoutMs = REQUEST_TIMEOUT_MS): Promise<ApiServer> {
  return new Promise((resolve, reject) => {
    // Answers not yet sent: once the server is closing, each goes out with `connection: close`,
    // so its connection ends with it instead of idling on.
    const unanswered = new Set<ServerResponse>();
    let closing = false;
    const tracked: RequestListener = (req, res) => {
      if (closing) res.shouldKeepAlive = false;
      unanswered.add(res);
      res.once('close', () => unanswered.delete(res));
      handler(req, res);
    };
    // Checked at most every 5 s (Node's default is 30 s), so a request is cut within 5 s of its limit.
    const server = createServer({ requestTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.min(5_000, requestTimeoutMs) }, tracked);
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
        close: ({ drainMs = DRAIN_MS, beforeCut } = {}) =>
          new Promise<void>((done) => {
            closing = true;
            for (const res of unanswered) if (!res.headersSent) res.shouldKeepAlive = false;
            const timers: NodeJS.Timeout[] = [];
            server.close(() => {
              timers.forEach(clearTimeout);
              done();
            });
            server.closeIdleConnections();
            timers.push(
              setTimeout(() => {
                beforeCut?.();
                timers.push(setTimeout(() => server.closeAllConnections(), CUT_GRACE_MS));
              }, drainMs),
            );
          }),
      });
    });
    // Idle keep-alive connections outlive the client's and a load balancer's (60 s is common), so
    // the other side closes them first: with Node's 5 s default, a request sent on a socket the
    // server is just closing fails with ECONNRESET.
    // (headersTimeout keeps its default, at most the request timeout: it counts from a request's
    // first byte, not over idle time, and Node swaps the two limits when it is the larger.)
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.on('clientError', answerClientError);
    server.once('error', reject);
  });
}
