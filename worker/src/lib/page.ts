// Keyset pagination on (timestamp, id), newest first (or oldest first): the cursor is opaque to
// clients. The timestamp column must hold milliseconds at most (timestamp(3)): the cursor carries
// milliseconds, so a finer value would let rows of the same millisecond fall between pages.
import { type AnyColumn, type SQL, sql } from 'drizzle-orm';
import { decodeCursor, encodeCursor } from './cursor.ts';

/**
 * A condition "strictly after the cursor" for rows ordered by (time, id), descending unless
 * `order: 'asc'`. Ids are UUIDs unless `idPattern` gives the shape of a text id.
 */
export function afterCursor(
  text: string,
  time: AnyColumn,
  id: AnyColumn,
  opts: { order?: 'asc' | 'desc'; idPattern?: RegExp } = {},
): SQL {
  const c = decodeCursor(text, opts.idPattern);
  const key = opts.idPattern
    ? sql`(${c.at.toISOString()}::timestamptz, ${c.id}::text)`
    : sql`(${c.at.toISOString()}::timestamptz, ${c.id}::uuid)`;
  return opts.order === 'asc' ? sql`(${time}, ${id}) > ${key}` : sql`(${time}, ${id}) < ${key}`;
}

/** Split a `limit + 1` query result into a page and the cursor of the next one. */
export function toPage<R, T>(rows: R[], limit: number, map: (r: R) => T, key: (r: R) => [Date, string]) {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(map),
    nextCursor: rows.length > limit && last ? encodeCursor(...key(last)) : null,
  };
}
