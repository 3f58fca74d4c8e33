/**
 * Text with an unpaired UTF-16 surrogate (`"\ud800"` in JSON) cannot be stored as it is: the
 * PostgreSQL driver writes it as U+FFFD without a word, and PostgreSQL refuses it in JSON. The
 * API refuses it up front instead (`400 invalid_value`), in every field of a request body. An
 * event's `data` is not walked: it is stored as the text the producer wrote (`json-text.ts`),
 * where such an escape is plain ASCII.
 */
import { isUtf8 } from 'node:buffer';
import type { RequestHandler } from 'express';
import { firstRepeatedKey } from '../domain/json-text';
import { ApiError, detailPath, ErrorType } from './errors';

const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether any string in `value` (keys included) holds an unpaired surrogate. Iterative: bodies may nest deep. */
export function holdsUnpairedSurrogate(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (UNPAIRED_SURROGATE.test(v)) return true;
    } else if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, item] of Object.entries(v)) {
        if (UNPAIRED_SURROGATE.test(k)) return true;
        stack.push(item);
      }
    }
  }
  return false;
}

export const refuseUnpairedSurrogates: RequestHandler = (req, _res, next) => {
  if (holdsUnpairedSurrogate(req.body as unknown)) {
    throw new ApiError(400, ErrorType.invalidRequest, 'invalid_value', 'Text in the request body holds an unpaired UTF-16 surrogate (a \\uD800–\\uDFFF escape without its pair), which cannot be stored');
  }
  next();
};

/**
 * The JSON parser's `verify` hook for bodies other than events (which keep their text, see
 * raw-json.ts): the bytes must be UTF-8, which the parser would otherwise decode with U+FFFD for
 * each bad byte, and no object may repeat a key.
 */
export function checkBodyText(_req: unknown, _res: unknown, buf: Buffer, encoding: string): void {
  requireUtf8Charset(encoding);
  if (!isUtf8(buf)) throw ApiError.invalidUtf8();
  let repeated: (string | number)[] | null;
  try {
    repeated = firstRepeatedKey(buf.toString('utf8'));
  } catch {
    return; // Not JSON: the parser, which runs next, answers 400 invalid_json.
  }
  if (repeated !== null) throw ApiError.repeatedKey(detailPath('', repeated));
}

/**
 * The parser takes any `utf-…` charset (UTF-16 too); only UTF-8 is JSON's interchange encoding,
 * and the one Hookline stores and delivers.
 */
export function requireUtf8Charset(encoding: string): void {
  if (encoding && encoding.toLowerCase() !== 'utf-8' && encoding.toLowerCase() !== 'utf8') {
    throw ApiError.unsupportedEncoding();
  }
}
