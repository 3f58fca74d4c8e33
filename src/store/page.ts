import { sql, type SelectQueryBuilder } from 'kysely';
import { idFloor, type IdPrefix } from '../domain/ids';
/** Keyset pagination, newest first: ids are time-ordered, so `id < cursor order by id desc` pages. */
export interface PageRequest {
  cursor?: string | undefined;
  limit: number;
}

/** Rows created in [since, until), by the time in their ids (see `idFloor`). */
export interface CreatedRange {
  since?: Date | undefined;
  until?: Date | undefined;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/**
 * Callers fetch `limit + 1` rows; the extra row only says whether there is a next page. The
 * cursor is the last row's id, or its key by `cursorOf` for rows keyed otherwise.
 */
export function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T>;
export function toPage<T>(rows: T[], limit: number, cursorOf: (row: T) => string): Page<T>;
export function toPage<T>(rows: T[], limit: number, cursorOf = (row: T) => (row as { id: string }).id): Page<T> {
  const data = rows.slice(0, limit);
  return { data, nextCursor: rows.length > limit ? cursorOf(data[data.length - 1]!) : null };
}

/**
 * How many of a page's rows, in order, to return: at most `limit`, and no more once their sizes
 * add up past `maxBytes` (always the first row, whatever its size).
 */
export function rowsWithin(sizes: readonly number[], limit: number, maxBytes: number): number {
  let total = 0;
  let n = 0;
  for (const size of sizes.slice(0, limit)) {
    if (n > 0 && total + size > maxBytes) break;
    total += size;
    n++;
  }
  return n;
}

/** Narrows a query on a table keyed by prefixed ids to rows created in `range`. */
export function createdIn<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>, prefix: IdPrefix, range: CreatedRange): SelectQueryBuilder<DB, TB, O> {
  let q = query;
  if (range.since) q = q.where(sql<string>`id`, '>=', idFloor(prefix, range.since));
  if (range.until) q = q.where(sql<string>`id`, '<', idFloor(prefix, range.until));
  return q;
}
