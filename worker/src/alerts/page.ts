// Keyset pagination on (timestamp, id), newest first: the cursor is opaque to clients.
import { type AnyColumn, type SQL, sql } from 'drizzle-orm';
import { ApiError } from '../errors.ts';

type Cursor = { t: string; id: string };

export function encodeCursor(at: Date, id: string): string {
  return btoa(JSON.stringify({ t: at.toISOString(), id } satisfies Cursor)).replace(/=+$/, '');
}

/** A condition "strictly after the cursor" for rows ordered by (time desc, id desc). */
export function afterCursor(text: string, time: AnyColumn, id: AnyColumn): SQL {
  let c: Cursor;
  try {
    c = JSON.parse(atob(text)) as Cursor;
    if (
      typeof c.t !== 'string' ||
      typeof c.id !== 'string' ||
      Number.isNaN(Date.parse(c.t)) ||
      !/^[0-9a-f-]{36}$/.test(c.id)
    ) {
      throw new Error('shape');
    }
  } catch {
    throw new ApiError('validation_failed', 'Invalid input: cursor is not one this API handed out', {
      cursor: 'is invalid',
    });
  }
  return sql`(${time}, ${id}) < (${c.t}::timestamptz, ${c.id}::uuid)`;
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
