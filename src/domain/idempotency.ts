import { isDeepStrictEqual } from 'node:util';
import { numberLiterals } from './json-text';

/**
 * Whether a request under an `Idempotency-Key` repeats the event that key first created. A repeat
 * gets the first event back (PRODUCT.md §2); the same key with another event is a producer bug
 * (a key reused across events, or derived from too little), and answering it with the first
 * event would silently drop the second. Stripe refuses such a request, and the IETF
 * Idempotency-Key draft answers it 422.
 */
export interface EventRequest {
  type: string;
  /** JSON text as stored: whitespace between tokens dropped (`compactJson`). */
  dataJson: string;
  previousDataJson: string | null;
  channels: string[] | null;
  endpointIds: string[] | null;
}

/** The request fields, by their API names, in which `request` differs from `first`. */
export function idempotencyMismatch(first: EventRequest, request: EventRequest): string[] {
  const fields: string[] = [];
  if (first.type !== request.type) fields.push('type');
  if (!sameJson(first.dataJson, request.dataJson)) fields.push('data');
  if (!sameJson(first.previousDataJson, request.previousDataJson)) fields.push('previous_data');
  if (!sameSet(first.channels, request.channels)) fields.push('channels');
  if (!sameSet(first.endpointIds, request.endpointIds)) fields.push('endpoint_ids');
  return fields;
}

/**
 * Equal text, or equal values: a client that serializes the same object again may order its keys
 * or write its numbers differently. Parsed, two numbers past a double's precision compare equal
 * (12345678901234567890 and …891), while Hookline keeps and delivers every digit: so the number
 * literals must match too, by value where a double holds them exactly, else as written.
 */
function sameJson(a: string | null, b: string | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  if (!isDeepStrictEqual(JSON.parse(a), JSON.parse(b))) return false;
  const numbers = (text: string) => numberLiterals(text).map(exactNumber).sort();
  return isDeepStrictEqual(numbers(a), numbers(b));
}

/** A number literal by its value (4.2e3 and 4200 alike) when a double holds it exactly, else as written. */
function exactNumber(literal: string): string {
  const digits = literal.replace(/^-/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  const value = Number(literal);
  return digits.length <= 15 && Number.isFinite(value) ? String(value) : literal.toLowerCase();
}

/** Channels and endpoint ids are sets: their order and repeats do not change which endpoints get the event. */
function sameSet(a: readonly string[] | null, b: readonly string[] | null): boolean {
  if (a === null || b === null) return a === b;
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((item) => right.has(item));
}
