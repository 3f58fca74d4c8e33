/**
 * `Retry-After` (RFC 9110 §10.2.3) as PRODUCT.md §3 uses it: on 429, 502, 503 and 504 the
 * receiver's hint moves the next scheduled attempt, within [scheduled delay, 2 × scheduled delay].
 */
const S = 1000;

/** The statuses whose `Retry-After` we honour (§3); every other status keeps the schedule. */
export const RETRY_AFTER_STATUSES: readonly number[] = [429, 502, 503, 504];

const DELTA_SECONDS = /^\d+$/;

const MONTHS: Record<string, number> = {
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
};
const MONTH = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

// The three forms RFC 9110 §5.6.7 says a recipient must accept. We match them ourselves instead
// of calling Date.parse: its non-ISO behaviour is implementation-defined, it reads the asctime
// form (which has no zone) as local time, and it turns garbage such as "1" or "May 5" into dates.
// Case is ignored: a server that sends "gmt" still means GMT, and leniency here cannot do harm
// because the result is clamped anyway.
/** `Sun, 06 Nov 1994 08:49:37 GMT` */
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`, 'i');
/** `Sunday, 06-Nov-94 08:49:37 GMT` (obsolete) */
const RFC_850 = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`, 'i');
/** `Sun Nov  6 08:49:37 1994` (obsolete, ANSI C asctime; the day is space-padded) */
const ASCTIME = new RegExp(`^${DAY} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`, 'i');

/**
 * RFC 9110 §5.6.7: a two-digit year that appears to be more than 50 years in the future means the
 * most recent past year with the same last two digits.
 */
function fullYear(twoDigits: number, now: Date): number {
  const nowYear = now.getUTCFullYear();
  const candidate = Math.floor(nowYear / 100) * 100 + twoDigits;
  return candidate > nowYear + 50 ? candidate - 100 : candidate;
}

/** Builds the UTC instant, or undefined when a field is out of range (31 Feb, 25:00, …). */
function utc(year: number, month: string, day: number, hour: number, minute: number, second: number): number | undefined {
  const monthIndex = MONTHS[month.toLowerCase()];
  // Second 60 is a leap second, which the grammar allows; it lands on the next minute.
  if (monthIndex === undefined || hour > 23 || minute > 59 || second > 60) return undefined;
  // setUTCFullYear, unlike Date.UTC, does not read years 0–99 as 1900–1999. Checking the date
  // back refuses 31 Feb instead of silently rolling it into March.
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  if (date.getUTCMonth() !== monthIndex || date.getUTCDate() !== day) return undefined;
  return date.getTime() + ((hour * 60 + minute) * 60 + second) * S;
}

/** Milliseconds since the epoch of an HTTP-date in any of its three forms, or undefined. */
function parseHttpDate(text: string, now: Date): number | undefined {
  let m = IMF_FIXDATE.exec(text);
  if (m) return utc(Number(m[3]), m[2]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  m = RFC_850.exec(text);
  if (m) return utc(fullYear(Number(m[3]), now), m[2]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  m = ASCTIME.exec(text);
  if (m) return utc(Number(m[6]), m[1]!, Number(m[2]!.trim()), Number(m[3]), Number(m[4]), Number(m[5]));
  return undefined;
}

/**
 * The wait a `Retry-After` header asks for, in milliseconds from `now`: delta-seconds ("120") or
 * an HTTP-date. A date in the past means "now" (0). Anything else, including negative or
 * fractional seconds, is undefined, so the caller falls back to its schedule.
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (DELTA_SECONDS.test(text)) {
    // A huge delta is still a valid "come back much later"; saturate instead of reaching
    // Infinity, which would not survive JSON (Temporal payloads, attempt rows).
    return Math.min(Number(text) * S, Number.MAX_SAFE_INTEGER);
  }
  const at = parseHttpDate(text, now);
  if (at === undefined) return undefined;
  return Math.max(0, at - now.getTime());
}

export interface RetryAfterInput {
  /** The attempt's HTTP status; null or undefined when there was no response (timeout, DNS, …). */
  status: number | null | undefined;
  /** `parseRetryAfter` of the response's header. */
  retryAfterMs: number | undefined;
  /** The delay the schedule chose for the next attempt, jitter included. */
  scheduledDelayMs: number;
}

/**
 * The delay before the next attempt once the receiver's `Retry-After` hint is taken into account.
 *
 * The hint is clamped to [scheduledDelayMs, 2 × scheduledDelayMs]: a server can only push the
 * next attempt later, never earlier, and never by more than double. "Never earlier" keeps one
 * overloaded receiver (or a misconfigured `Retry-After: 0`) from turning the schedule into a
 * tight loop; "never more than double" keeps the whole schedule, and so the time until a
 * delivery is given up, within a known bound whatever the server says. The hint never adds an
 * attempt: when the schedule is spent there is no next attempt to move.
 */
export function applyRetryAfter({ status, retryAfterMs, scheduledDelayMs }: RetryAfterInput): number {
  if (status === null || status === undefined || !RETRY_AFTER_STATUSES.includes(status)) return scheduledDelayMs;
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs)) return scheduledDelayMs;
  return Math.min(2 * scheduledDelayMs, Math.max(scheduledDelayMs, retryAfterMs));
}
