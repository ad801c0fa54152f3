// Cron: every database whose restore test is due gets one, for its agent to pick up at its next
// heartbeat. Due means: tests enabled (the default), the database live, not paused, on an agent,
// a SQL server with a successful backup, no test under way, and the last scheduled test (or, before
// the first, the database's registration) at least the interval ago, never shorter than the plan
// allows now. So a new database's first weekly test comes a week after it was added.
import { RESTORE_TEST_MIN_INTERVAL_HOURS } from '@resistro/contract';
import { eq, sql } from 'drizzle-orm';
import { backups } from '../backups/backups.sql.ts';
import { databases } from '../databases/databases.sql.ts';
import type { Db } from '../db.ts';
import { queueRestoreTest } from './restore-tests.ts';
import { defaultSettings } from './settings.ts';

/** At most this many tests are queued per run; the next minute continues. */
export const SCHEDULE_BATCH = 200;

const PLAN_MIN_HOURS_SQL = sql.raw(
  `(case a.plan ${Object.entries(RESTORE_TEST_MIN_INTERVAL_HOURS)
    .map(([plan, h]) => `when '${plan}' then ${h}`)
    .join(' ')} else 168 end)`,
);

export async function scheduleRestoreTests(db: Db, now: Date): Promise<{ queued: number }> {
  const defaults = defaultSettings({ id: '', accountId: '' });
  const { rows } = await db.execute<{ id: string; backup_id: string }>(sql`
    select d.id, b.id as backup_id
    from databases d
    join accounts a on a.id = d.account_id
    left join restore_test_settings s on s.database_id = d.id
    join lateral (
      select id from backups
      where database_id = d.id and status = 'succeeded'
      order by started_at desc limit 1
    ) b on true
    where d.deleted_at is null and not d.paused and d.agent_id is not null
      and d.engine in ('postgres', 'mysql', 'mariadb')
      and coalesce(s.enabled, ${defaults.enabled})
      and not exists (select 1 from account_closings c where c.account_id = d.account_id and c.effective_at <= ${now})
      and not exists (
        select 1 from restore_tests t where t.database_id = d.id and t.state in ('pending', 'running')
      )
      and coalesce(
        (select max(t.requested_at) from restore_tests t where t.database_id = d.id and t.trigger = 'schedule'),
        d.created_at
      ) <= ${now}::timestamptz
        - make_interval(hours => greatest(coalesce(s.interval_hours, ${defaults.intervalHours}), ${PLAN_MIN_HOURS_SQL}))
    order by d.id
    limit ${SCHEDULE_BATCH}`);
  let queued = 0;
  for (const r of rows) {
    const [database] = await db.select().from(databases).where(eq(databases.id, r.id));
    const [backup] = await db.select().from(backups).where(eq(backups.id, r.backup_id));
    if (!database || !backup) continue;
    await queueRestoreTest(db, database, backup, { kind: 'schedule' }, now);
    queued++;
  }
  return { queued };
}
