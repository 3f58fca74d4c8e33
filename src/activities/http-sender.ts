/**
 * The one HTTP client that talks to receivers: undici with pooled keep-alive connections,
 * no redirects followed, a hard timeout over the whole exchange, and at most 16 KiB read back.
 */
import { Agent, request, type Dispatcher } from 'undici';
import type { AttemptErrorCode } from '../domain/model';
import { classifyRequestError, describeRequestError } from './classify';

export const MAX_RESPONSE_BODY_BYTES = 16 * 1024;

/** Response headers worth keeping on an attempt: enough to debug, never the whole set. */
const KEPT_RESPONSE_HEADERS = ['content-type', 'content-length', 'retry-after', 'location', 'server', 'date', 'x-request-id', 'request-id'];

export interface PostRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

export interface PostResponse {
  durationMs: number;
  statusCode: number | null;
  headers: Record<string, string>;
  body: string;
  bodyTruncated: boolean;
  errorCode: AttemptErrorCode | null;
  errorMessage: string | null;
}

export interface HttpSender {
  post(req: PostRequest): Promise<PostResponse>;
  close(): Promise<void>;
}

async function readCapped(body: Dispatcher.ResponseData['body']): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > MAX_RESPONSE_BODY_BYTES) {
      body.destroy();
      break;
    }
  }
  const all = Buffer.concat(chunks);
  return { text: all.subarray(0, MAX_RESPONSE_BODY_BYTES).toString('utf8'), truncated: all.length > MAX_RESPONSE_BODY_BYTES };
}

function keptHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of KEPT_RESPONSE_HEADERS) {
    const value = headers[name];
    if (value !== undefined) kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}

export function createHttpSender(dispatcher: Dispatcher = new Agent({ connect: { timeout: 10_000 }, keepAliveTimeout: 10_000 })): HttpSender {
  return {
    async post({ url, headers, body, timeoutMs }) {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      try {
        const res = await request(url, { method: 'POST', headers, body, dispatcher, signal: AbortSignal.timeout(timeoutMs) });
        const { text, truncated } = await readCapped(res.body);
        return {
          durationMs: elapsed(),
          statusCode: res.statusCode,
          headers: keptHeaders(res.headers),
          body: text,
          bodyTruncated: truncated,
          errorCode: null,
          errorMessage: null,
        };
      } catch (err) {
        return {
          durationMs: elapsed(),
          statusCode: null,
          headers: {},
          body: '',
          bodyTruncated: false,
          errorCode: classifyRequestError(err),
          errorMessage: describeRequestError(err),
        };
      }
    },
    close: () => dispatcher.close(),
  };
}
