/**
 * The exact JSON text of a request body's top-level members, so an event's `data` reaches its
 * receivers as the producer wrote it (PRODUCT.md §3: `raw` sends `data` exactly as given).
 * `JSON.parse` and `JSON.stringify` would change it: integers past 2^53 lose digits, `1.0`
 * becomes `1`, escapes are rewritten. Here numbers keep their literal, strings their escapes, and
 * objects their key order (and any duplicate keys). Only whitespace between tokens is dropped.
 *
 * The text must be one that `JSON.parse` accepted: this scans token boundaries, it does not
 * validate, and on text that is not JSON its result means nothing.
 */

const QUOTE = 0x22; // "
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;

function isSpace(c: number): boolean {
  // JSON's four whitespace characters, and a byte-order mark a decoder may leave at the start.
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0xfeff;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** The index just past the string literal that opens at `i`. */
function endOfString(text: string, i: number): number {
  for (i++; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i + 1;
  }
  return i;
}

/** The index just past the value that starts at `i` (a string, an object, an array or a literal). */
function endOfValue(text: string, i: number): number {
  const first = text.charCodeAt(i);
  if (first === QUOTE) return endOfString(text, i);
  if (first === 0x7b || first === 0x5b) {
    let depth = 0;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        i = endOfString(text, i);
        continue;
      }
      if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) depth--;
      i++;
      if (depth === 0) return i;
    }
    return i;
  }
  // A number, true, false or null: up to the next delimiter.
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === COMMA || c === 0x7d || c === 0x5d || isSpace(c)) break;
    i++;
  }
  return i;
}

/** The number literals of JSON `text`, as written, in document order (strings skipped). */
export function numberLiterals(text: string): string[] {
  return text.match(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g)?.filter((token) => token.charCodeAt(0) !== QUOTE) ?? [];
}

/** JSON text without the whitespace between its tokens; strings are kept as they are. */
export function compactJson(text: string): string {
  // `$1` keeps a string and empties whitespace (its group is unset): no callback per token.
  return text.replace(/("[^"\\]*(?:\\.[^"\\]*)*")|[ \t\n\r\ufeff]+/g, '$1');
}

/**
 * The compact text of each of `keys` that the object `text` has at its top level. When a key
 * appears twice, the last one counts, as in `JSON.parse`. Empty if `text` is not an object.
 */
export function topLevelMembers(text: string, keys: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== 0x7b) return found;
  i = skipSpace(text, i + 1);
  while (i < text.length && text.charCodeAt(i) === QUOTE) {
    const keyEnd = endOfString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipSpace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) break;
    const start = skipSpace(text, i + 1);
    const end = endOfValue(text, start);
    if (keys.includes(key)) found.set(key, compactJson(text.slice(start, end)));
    i = skipSpace(text, end);
    if (text.charCodeAt(i) !== COMMA) break;
    i = skipSpace(text, i + 1);
  }
  return found;
}

interface Frame {
  object: boolean;
  keys: Set<string>;
  /** The key whose value is being read (objects), or the item's index (arrays). */
  at: string | number;
  expectKey: boolean;
}

/**
 * The path (keys and indexes) of the first key that an object in `text` repeats, or null. `JSON.parse`
 * keeps the last one, while receivers' parsers disagree (some keep the first, some refuse the
 * document): kept as written, such data would mean different things to the schema check and to
 * its receivers. Iterative, so nesting depth costs no stack.
 */
export function firstRepeatedKey(text: string): (string | number)[] | null {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === QUOTE) {
      const end = endOfString(text, i);
      if (top?.object && top.expectKey) {
        const key = JSON.parse(text.slice(i, end)) as string;
        if (top.keys.has(key)) return [...stack.slice(0, -1).map((f) => f.at), key];
        top.keys.add(key);
        top.at = key;
        top.expectKey = false;
      }
      i = end - 1;
    } else if (c === 0x7b || c === 0x5b) {
      stack.push({ object: c === 0x7b, keys: new Set(), at: c === 0x7b ? '' : 0, expectKey: c === 0x7b });
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
    } else if (c === COMMA && top) {
      if (top.object) top.expectKey = true;
      else top.at = (top.at as number) + 1;
    }
  }
  return null;
}
