/**
 * Rules for an endpoint's custom headers and its `signature_header` (PRODUCT.md §2, §7). Every
 * check returns a human message naming the header, or undefined when it is fine. Messages name
 * the header but never echo a value: custom header values are write-only (often `Authorization`).
 */
export const MAX_HEADER_NAME_LENGTH = 256;
export const MAX_HEADER_VALUE_LENGTH = 4096;
/** Enough for auth, tenant and tracing headers; beyond that a request is more likely abuse than need. */
export const MAX_CUSTOM_HEADERS = 32;

/**
 * Names Hookline sets itself or that control framing and the connection, compared in lower case.
 * Beyond §7's `host` and `content-length`: `content-type`, `content-encoding` and `user-agent`
 * describe the body and sender we control (§3); the hop-by-hop headers of RFC 9110 §7.6.1 plus
 * `expect` and `trailer` would let a customer break the framing, and undici refuses several anyway.
 */
export const RESERVED_HEADER_NAMES: readonly string[] = [
  'host',
  'content-length',
  'content-type',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'user-agent',
];

/** `webhook-id`, `webhook-timestamp`, `webhook-signature` and any future Standard Webhooks header. */
export const RESERVED_HEADER_PREFIX = 'webhook-';

// RFC 9110 §5.6.2: token = 1*tchar; tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" /
// "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function isHttpToken(name: string): boolean {
  return TOKEN.test(name);
}

/** JSON quoting shows CR, LF and NUL visibly instead of letting them break a log line; long names are cut. */
function quote(name: string): string {
  const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  return JSON.stringify(shown);
}

/** Length, token and reserved-name checks shared by custom header names and `signature_header`. */
function baseNameProblem(name: string, what: string): string | undefined {
  if (name.length === 0) return `${what} name is empty`;
  if (name.length > MAX_HEADER_NAME_LENGTH) {
    return `${what} ${quote(name)} is longer than ${MAX_HEADER_NAME_LENGTH} characters`;
  }
  if (!isHttpToken(name)) {
    return `${what} ${quote(name)} is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_\`|~ only)`;
  }
  const lower = name.toLowerCase();
  if (lower.startsWith(RESERVED_HEADER_PREFIX)) {
    return `${what} ${quote(name)} is reserved: webhook-* headers are set by Hookline`;
  }
  if (RESERVED_HEADER_NAMES.includes(lower)) return `${what} ${quote(name)} is reserved and set by Hookline`;
  return undefined;
}

/** A custom header name: a token, not reserved, and not the endpoint's own signature header. */
export function headerNameProblem(name: string, signatureHeader?: string | null): string | undefined {
  const problem = baseNameProblem(name, 'header');
  if (problem) return problem;
  if (signatureHeader && name.toLowerCase() === signatureHeader.toLowerCase()) {
    return `header ${quote(name)} is reserved: it is this endpoint's signature header`;
  }
  return undefined;
}

/**
 * A custom header value: no CR, LF or NUL (header injection, §7), and otherwise what RFC 9110
 * allows in a field value (visible characters, space, tab and Latin-1 obs-text), which is also
 * what undici will send; anything else would fail every attempt at send time instead of now.
 */
export function headerValueProblem(value: string, name?: string): string | undefined {
  const subject = name === undefined ? 'header value' : `value of header ${quote(name)}`;
  if (value.includes('\r')) return `${subject} contains a carriage return (CR)`;
  if (value.includes('\n')) return `${subject} contains a line feed (LF)`;
  if (value.includes('\0')) return `${subject} contains a NUL character`;
  if (value.length > MAX_HEADER_VALUE_LENGTH) return `${subject} is longer than ${MAX_HEADER_VALUE_LENGTH} characters`;
  if (/[^\t\x20-\x7e\x80-\xff]/.test(value)) return `${subject} contains control or non-Latin-1 characters`;
  return undefined;
}

/** The endpoint's `signature_header` (for `stripe` and `hex`): a token that collides with nothing Hookline sets. */
export function signatureHeaderProblem(name: string): string | undefined {
  return baseNameProblem(name, 'signature_header');
}

/**
 * A whole custom-header map: every name and value, at most MAX_CUSTOM_HEADERS, and no two names
 * that differ only in case (HTTP names are case-insensitive, so one would silently drop the other).
 */
export function customHeadersProblem(
  headers: Readonly<Record<string, string>>,
  signatureHeader?: string | null,
): string | undefined {
  const names = Object.keys(headers);
  if (names.length > MAX_CUSTOM_HEADERS) return `at most ${MAX_CUSTOM_HEADERS} custom headers are allowed`;
  const seen = new Set<string>();
  for (const name of names) {
    const problem = headerNameProblem(name, signatureHeader) ?? headerValueProblem(headers[name] ?? '', name);
    if (problem) return problem;
    const lower = name.toLowerCase();
    if (seen.has(lower)) return `header ${quote(name)} is given more than once (names are case-insensitive)`;
    seen.add(lower);
  }
  return undefined;
}
