import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Where a job that walks a table in batches stopped; the next run continues from there. */
export const cronCursors = pgTable('cron_cursors', {
  name: text('name').primaryKey(),
  position: text('position').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
});
