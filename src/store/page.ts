/** Keyset pagination, newest first: ids are time-ordered, so `id < cursor order by id desc` pages. */
export interface PageRequest {
  cursor?: string | undefined;
  limit: number;
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
