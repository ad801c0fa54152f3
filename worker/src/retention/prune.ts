// Cron: the delivery log and resolved alerts do not grow forever. Bounded per run.
import { sql } from 'drizzle-orm';
import type { Db } from '../db.ts';

export const DELIVERY_LOG_DAYS = 90;
export const RESOLVED_ALERT_DAYS = 365;
const PRUNE_BATCH = 1000;

export async function pruneLogs(db: Db, now: Date): Promise<{ deliveries: number; alerts: number }> {
  const at = now.toISOString();
  const deliveries = await db.execute(sql`
    delete from notification_deliveries where id in (
      select id from notification_deliveries
      where status <> 'pending' and created_at < ${at}::timestamptz - make_interval(days => ${DELIVERY_LOG_DAYS})
      limit ${PRUNE_BATCH})`);
  const alerts = await db.execute(sql`
    delete from alerts where id in (
      select id from alerts
      where resolved_at < ${at}::timestamptz - make_interval(days => ${RESOLVED_ALERT_DAYS})
      limit ${PRUNE_BATCH})`);
  return { deliveries: deliveries.rowCount ?? 0, alerts: alerts.rowCount ?? 0 };
}
