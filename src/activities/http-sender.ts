/**
 * The one HTTP client that talks to receivers: undici with pooled keep-alive connections,
 * no redirects followed, a hard timeout over the whole exchange, and at most 16 KiB read back.
 */
import { rootCertificates } from 'node:tls';
import { promisify } from 'node:util';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import type { ParsedSubnet } from '../domain/address-rules';
import type { AttemptErrorCode } from '../domain/model';
import { classifyRequestError, describeRequestError } from './classify';
import { createGuardedLookup, type Resolver } from './guarded-lookup';

export const MAX_RESPONSE_BODY_BYTES = 16 * 1024;

/**
 * The most response-header bytes read from a receiver. With Node's default (16 KiB), a receiver
 * whose answer carries more (large cookies, or policy headers a proxy adds) failed every attempt,
 * 2xx or not. Past this the answer cannot be read, and the attempt fails saying why.
 */
export const MAX_RESPONSE_HEADER_BYTES = 64 * 1024;

/** Response headers worth keeping on an attempt: enough to debug, never the whole set. */
const KEPT_RESPONSE_HEADERS = ['content-type', 'content-length', 'retry-after', 'location', 'server', 'date', 'x-request-id', 'request-id'];

export interface PostRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /**
   * Aborts the exchange early: the activity's cancellation, which fires when its local activity
   * times out. A POST must not start, or go on, after the workflow has given up on its try and
   * is about to make another.
   */
  signal?: AbortSignal;
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

/**
 * Reads up to 16 KiB of a response body. A body that stalls or breaks off (the timeout, the
 * activity's cancellation, a reset) keeps what had arrived, marked truncated, with the error.
 */
async function readCapped(body: Dispatcher.ResponseData['body']): Promise<{ text: string; truncated: boolean; error?: unknown }> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size > MAX_RESPONSE_BODY_BYTES) {
        body.destroy();
        break;
      }
    }
  } catch (error) {
    return { ...capBody(Buffer.concat(chunks)), truncated: true, error };
  }
  return capBody(Buffer.concat(chunks));
}

/**
 * The first 16 KiB of `bytes` as text. The cut falls on a character boundary (a character split
 * by it is left out whole, not shown as U+FFFD). Decoding replaces invalid UTF-8 with U+FFFD; NUL
 * is valid UTF-8 but PostgreSQL text cannot hold it, and a body the store refuses would fail the
 * attempt's record on every try.
 */
export function capBody(bytes: Buffer, max = MAX_RESPONSE_BODY_BYTES): { text: string; truncated: boolean } {
  let end = Math.min(bytes.length, max);
  // UTF-8 continuation bytes are 10xxxxxx; a character is at most 4 bytes.
  for (let back = 0; end < bytes.length && back < 3 && (bytes[end]! & 0xc0) === 0x80; back++) end--;
  if (end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end = Math.min(bytes.length, max);
  return { text: bytes.subarray(0, end).toString('utf8').replaceAll('\u0000', '\ufffd'), truncated: bytes.length > max };
}

function keptHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of KEPT_RESPONSE_HEADERS) {
    const value = headers[name];
    if (value !== undefined) kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}

export interface SenderOptions {
  /** Development mode: loopback and private addresses may be connected to. */
  allowInsecure: boolean;
  allowSubnets: readonly ParsedSubnet[];
  /** Extra CA certificates (PEM) trusted beside the system's roots. */
  extraCaPem?: string | undefined;
  /** An HTTP CONNECT proxy every delivery goes through (static source IPs). */
  proxyUrl?: string | undefined;
  /** DNS resolution; injectable so tests can play a rebinding DNS server. */
  resolve?: Resolver;
}

/**
 * Without a proxy, the SSRF guard is the socket's own lookup: the address checked is the address
 * connected to. Through a proxy the proxy connects, so the target name is resolved and checked
 * here first; the proxy resolves it again, which an operator who runs the proxy should restrict
 * to public addresses too (see README).
 */
export function createHttpSender(opts: SenderOptions): HttpSender {
  const lookup = createGuardedLookup({ allowInsecure: opts.allowInsecure, allowSubnets: opts.allowSubnets, ...(opts.resolve && { resolve: opts.resolve }) });
  const tls = opts.extraCaPem ? { ca: [...rootCertificates, opts.extraCaPem] } : {};
  const dispatcher: Dispatcher = opts.proxyUrl
    ? new ProxyAgent({ uri: opts.proxyUrl, requestTls: tls, connect: { timeout: 10_000 }, maxHeaderSize: MAX_RESPONSE_HEADER_BYTES })
    : new Agent({ connect: { timeout: 10_000, lookup, ...tls }, keepAliveTimeout: 10_000, maxHeaderSize: MAX_RESPONSE_HEADER_BYTES });
  const checkTarget = opts.proxyUrl ? promisify(lookup) : undefined;
  return {
    async post({ url, headers, body, timeoutMs, signal }) {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      try {
        if (checkTarget) await checkTarget(new URL(url).hostname.replace(/^\[|\]$/g, ''), {});
        const deadline = AbortSignal.timeout(timeoutMs);
        const res = await request(url, { method: 'POST', headers, body, dispatcher, signal: signal ? AbortSignal.any([deadline, signal]) : deadline });
        // The status has come in: it is the answer, even if the body then stalls or is cut off
        // (by the timeout or the cancellation), which is recorded as a truncated body.
        const read = await readCapped(res.body);
        return {
          durationMs: elapsed(),
          statusCode: res.statusCode,
          headers: keptHeaders(res.headers),
          body: read.text,
          bodyTruncated: read.truncated,
          errorCode: null,
          errorMessage: read.error === undefined ? null : `the response body could not be read whole: ${describeRequestError(read.error)}`,
        };
      } catch (err) {
        return {
          durationMs: elapsed(),
          statusCode: null,
          headers: {},
          body: '',
          bodyTruncated: false,
          errorCode: classifyRequestError(err),
          errorMessage: headersOverflowed(err) ? `the response headers are larger than ${MAX_RESPONSE_HEADER_BYTES / 1024} KiB` : describeRequestError(err),
        };
      }
    },
    close: () => dispatcher.close(),
  };
}

const headersOverflowed = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === 'UND_ERR_HEADERS_OVERFLOW';
