/**
 * JSON text that goes into a response verbatim: an event's `data` as the producer wrote it
 * (`domain/json-text.ts`), which a `JSON.parse` and `JSON.stringify` round trip could change
 * (integers past 2^53 lose digits). Also keeps the raw text of the events route's request body.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ApiError } from './errors';
import { requireUtf8Charset } from './text-check';

/** Marks a placeholder in the serialized response; random per process, so no client string can forge one. */
const NONCE = `\u0000${randomBytes(16).toString('hex')}:`;
const escapeRegExp = (s: string) => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
const PLACEHOLDER = new RegExp(`"${escapeRegExp(JSON.stringify(NONCE).slice(1, -1))}(\\d+)"`, 'g');

/** The texts of the `RawJson` values met by the `stringifyWithRaw` call under way (JSON.stringify is synchronous). */
let collecting: string[] | undefined;

export class RawJson {
  constructor(readonly text: string) {}

  /** Inside `stringifyWithRaw`, a placeholder for the text; anywhere else, the parsed value. */
  toJSON(): unknown {
    if (!collecting) return JSON.parse(this.text);
    collecting.push(this.text);
    return `${NONCE}${collecting.length - 1}`;
  }
}

/** `JSON.stringify(body)`, with every `RawJson` in it written as its own text. */
export function stringifyWithRaw(body: unknown): string {
  const texts: string[] = [];
  collecting = texts;
  let out: string;
  try {
    out = JSON.stringify(body);
  } finally {
    collecting = undefined;
  }
  return texts.length === 0 ? out : out.replace(PLACEHOLDER, (_m, i: string) => texts[Number(i)]!);
}

const RAW_BODY = Symbol('hookline.rawBody');
type WithRawBody = IncomingMessage & { [RAW_BODY]?: string };

/**
 * The JSON parser's `verify` hook: keeps the body's text. The charset must be UTF-8 (415
 * otherwise), and bytes that are not UTF-8 are refused (400); the parser passes both statuses on.
 */
export function keepRawBody(req: IncomingMessage, _res: unknown, buf: Buffer, encoding: string): void {
  requireUtf8Charset(encoding);
  try {
    (req as WithRawBody)[RAW_BODY] = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    throw ApiError.invalidUtf8();
  }
}

export function rawBody(req: IncomingMessage): string | undefined {
  return (req as WithRawBody)[RAW_BODY];
}
