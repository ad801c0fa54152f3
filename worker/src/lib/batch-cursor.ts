// Batch cursors: a job that walks a table by id stores where it stopped; the next run goes on
// from there and wraps around at the end. Overlapping runs may write the same position: harmless.
import { sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { cronCursors } from './batch-cursor.sql.ts';

export const FIRST_ID = '00000000-0000-0000-0000-000000000000';

export async function readCursor(db: Db, name: string): Promise<string> {
  const [row] = await db
    .select({ position: cronCursors.position })
    .from(cronCursors)
    .where(sql`${cronCursors.name} = ${name}`);
  return row?.position ?? FIRST_ID;
}

/** After a batch: the last id seen, or back to the start when the batch was not full. */
export async function advanceCursor(
  db: Db,
  name: string,
  lastId: string | undefined,
  full: boolean,
  now: Date,
): Promise<void> {
  const position = full && lastId ? lastId : FIRST_ID;
  await db
    .insert(cronCursors)
    .values({ name, position, updatedAt: now })
    .onConflictDoUpdate({ target: cronCursors.name, set: { position, updatedAt: now } });
}

/** A walk that must not wrap around (a once-a-month job) ends here. */
export const LAST_ID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/** Store a position as it is: after each item of a walk, or LAST_ID once it is done. */
export async function setCursor(db: Db, name: string, position: string, now: Date): Promise<void> {
  await db
    .insert(cronCursors)
    .values({ name, position, updatedAt: now })
    .onConflictDoUpdate({ target: cronCursors.name, set: { position, updatedAt: now } });
}
