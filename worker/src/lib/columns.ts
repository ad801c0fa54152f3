import { timestamp } from 'drizzle-orm/pg-core';

/** Every timestamp column: timestamptz, read as a Date. */
export const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** A timestamp that orders a paged list: milliseconds, as exact as the cursor (lib/page.ts). */
export const tsMs = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });
