// Keyset pagination on (timestamp, id), newest first: the cursor is opaque to clients.
import { type AnyColumn, type SQL, sql } from 'drizzle-orm';
import { decodeCursor, encodeCursor } from './cursor.ts';

/** A condition "strictly after the cursor" for rows ordered by (time desc, id desc). */
export function afterCursor(text: string, time: AnyColumn, id: AnyColumn): SQL {
  const c = decodeCursor(text);
  return sql`(${time}, ${id}) < (${c.at.toISOString()}::timestamptz, ${c.id}::uuid)`;
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
