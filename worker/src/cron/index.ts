import type { Bindings } from '../env.ts';
import { parseConfig } from '../env.ts';
import { createDb } from '../db.ts';
import { createStorage } from '../storage/s3.ts';
import { failStaleBackups } from '../backups/backups.ts';

export type CronContext = {
  db: ReturnType<typeof createDb>['db'];
  storage: ReturnType<typeof createStorage>;
  now: Date;
};

/** Jobs run in order each minute; each is idempotent and bounded, so overlapping runs are safe. */
export const JOBS: Array<{ name: string; run: (ctx: CronContext) => Promise<unknown> }> = [
  { name: 'fail-stale-backups', run: (ctx) => failStaleBackups(ctx.db, ctx.storage, ctx.now) },
];

export async function runScheduled(env: Bindings, scheduledTime: number): Promise<void> {
  const config = parseConfig(env);
  const { db, close } = createDb(config);
  const ctx: CronContext = { db, storage: createStorage(config.s3), now: new Date(scheduledTime) };
  const errors: unknown[] = [];
  try {
    for (const job of JOBS) {
      try {
        await job.run(ctx);
      } catch (e) {
        // One failing job must not starve the others; the error is logged and the run fails.
        console.error(`cron job ${job.name} failed`, e);
        errors.push(e);
      }
    }
  } finally {
    await close().catch(() => {});
  }
  if (errors.length > 0) throw new AggregateError(errors, `${errors.length} cron job(s) failed`);
}
