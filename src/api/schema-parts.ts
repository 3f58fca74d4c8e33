/**
 * Pieces the API's request and response schemas share: ids and uids, metadata, channels,
 * timestamps, retry schedules, pages, and the application path parameter.
 */
import { IdPrefix, isId, uidProblem } from '../domain/ids';
import { MAX_SCHEDULE_STEPS, scheduleProblem, type RetrySchedule } from '../domain/schedule';
import { z } from './zod';

export const MAX_PAGE_SIZE = 250;

export const idOf = (prefix: IdPrefix) => z.string().refine((v) => isId(prefix, v), { message: `must be an id starting with "${prefix}_"` });
export const uid = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[a-zA-Z0-9\-_.]+$/, 'letters, digits, "-", "_" and "." only')
  .superRefine((value, ctx) => {
    const problem = uidProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
/**
 * A string-to-string object (metadata, custom headers). z.record rebuilds the object, which would
 * drop a `__proto__` key without a word: it is refused instead.
 */
export function stringMap(key: z.ZodType<string>, value: z.ZodType<string>) {
  return z
    .custom<Record<PropertyKey, unknown>>((v) => !(typeof v === 'object' && v !== null && Object.hasOwn(v, '__proto__')), { message: 'the key "__proto__" is not accepted' })
    .openapi({ type: 'object', additionalProperties: { type: 'string' } })
    .pipe(z.record(key, value));
}
export const metadata = stringMap(z.string().max(256), z.string().max(1024)).refine((m) => Object.keys(m).length <= 50, 'at most 50 keys');
export const channel = z.string().min(1).max(128).regex(/^[a-zA-Z0-9\-_.:]+$/, 'letters, digits, "-", "_", "." and ":" only');

/**
 * An endpoint's or an event's channels. An empty list means the same as none (an endpoint gets
 * every event; an event reaches only endpoints without channels), so it is stored as null and
 * reads back as null, on endpoints and events alike.
 */
export const channelList = z
  .array(channel)
  .max(10)
  .nullish()
  .transform((v) => (v?.length === 0 ? null : v))
  .openapi({ description: 'Up to 10 channels; an empty list is the same as none (null)' });
// ISO 8601 with `Z` or an offset (`+02:00`); answers always use `Z`.
export const timestamp = z.iso.datetime({ offset: true });
/**
 * A time a request gives: from 1970 on, as ids and the store count time (a year-0 `since`
 * once reached PostgreSQL, which has no year 0, and a recovery retried it for good).
 */
export const timeInput = z.iso
  .datetime({
    offset: true,
    // A malformed time gets this one message, not also the 1970 rule's.
    abort: true,
    // A query string's unencoded `+` arrives as a space.
    error: (issue) => (typeof issue.input === 'string' && issue.input.includes(' ') ? 'must be an ISO 8601 time with Z or an offset such as +02:00 (in a query string, write + as %2B)' : undefined),
  })
  .refine((value) => Date.parse(value) >= 0, 'must be 1970-01-01T00:00:00Z or later');

export const RetryScheduleSchema = z
  .union([z.string(), z.array(z.union([z.string(), z.number()], { error: 'must be a duration such as "30s", or milliseconds' }))], {
    error: 'must be a preset name (standard, short, steady, patient, brief) or a list of durations',
  })
  .superRefine((value, ctx) => {
    const problem = scheduleProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((v) => v as RetrySchedule)
  .openapi('RetrySchedule', {
    description: `A preset (standard, short, steady, patient, brief) or a list of up to ${MAX_SCHEDULE_STEPS} delays, each a duration such as "30s", "5m" or "2h", or milliseconds, of at most 7 days.`,
  });

export const PageQuery = z.object({
  // Digits only: coercion would take `0x10`, `1e1` and ` 5` as numbers.
  limit: z
    .string()
    .regex(/^[0-9]{1,6}$/, `must be a whole number from 1 to ${MAX_PAGE_SIZE}`)
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_PAGE_SIZE))
    .default(50)
    .openapi({ type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 50 }),
  // Ids, or event-type names (up to 256 characters).
  cursor: z.string().max(256).optional(),
});

export const pageOf = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ data: z.array(item), has_more: z.boolean(), next_cursor: z.string().nullable() }).openapi(name);

export const AppParams = z.object({ app: z.string().min(1).max(256).openapi({ description: 'Application id or uid' }) });

/** The header of POSTs that take an `Idempotency-Key` (events, and routes marked `idempotent`). */
export const IdempotencyHeaders = z.object({ 'idempotency-key': z.string().min(1).max(256).optional() });
