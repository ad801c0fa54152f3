// Alerts: one open alert per condition and subject, opened and resolved by the detection job
// (detect.ts), listed and acknowledged by the user. Each change queues its notifications in the
// same transaction.
import type { Alert, AlertKind, AlertList } from '@resistro/contract';
import { and, count, desc, eq, isNotNull, isNull, type SQL } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db.ts';
import { notFound } from '../errors.ts';
import { afterCursor, toPage } from '../lib/page.ts';
import { alerts } from './alerts.sql.ts';

export type AlertRow = typeof alerts.$inferSelect;

export const SEVERITY: Record<AlertKind, AlertRow['severity']> = {
  missed: 'critical',
  offline: 'critical',
  failing: 'critical',
  size_drop: 'warning',
  storage_high: 'warning',
  storage_full: 'critical',
  restore_test_failed: 'critical',
  restore_test_stale: 'warning',
  pitr_gap: 'critical',
  pitr_lag: 'warning',
  pitr_slot: 'critical',
  pitr_retention: 'critical',
  copy_failed: 'warning',
};

export function toAlert(row: AlertRow): Alert {
  return {
    id: row.id,
    kind: row.kind,
    severity: row.severity,
    subject: { type: row.subjectType, id: row.subjectId, name: row.subjectName },
    title: row.title,
    detail: row.detail,
    openedAt: row.openedAt.toISOString(),
    resolvedAt: row.resolvedAt?.toISOString() ?? null,
    acknowledgedAt: row.acknowledgedAt?.toISOString() ?? null,
  };
}

export async function listAlerts(
  db: Db,
  accountId: string,
  q: {
    status?: 'open' | 'resolved' | 'all' | undefined;
    kind?: AlertKind | undefined;
    subjectId?: string | undefined;
    cursor?: string | undefined;
    limit?: number | undefined;
  },
): Promise<AlertList> {
  const limit = q.limit ?? 50;
  // SECURITY: the account filter comes first; a subject id of another account finds nothing.
  const where: SQL[] = [eq(alerts.accountId, accountId)];
  const status = q.status ?? 'open';
  if (status === 'open') where.push(isNull(alerts.resolvedAt));
  if (status === 'resolved') where.push(isNotNull(alerts.resolvedAt));
  if (q.kind) where.push(eq(alerts.kind, q.kind));
  if (q.subjectId) where.push(eq(alerts.subjectId, q.subjectId));
  if (q.cursor) where.push(afterCursor(q.cursor, alerts.openedAt, alerts.id));
  const rows = await db
    .select()
    .from(alerts)
    .where(and(...where))
    .orderBy(desc(alerts.openedAt), desc(alerts.id))
    .limit(limit + 1);
  return toPage(rows, limit, toAlert, (r) => [r.openedAt, r.id]);
}

export async function findAlert(db: Db, accountId: string, id: string): Promise<AlertRow> {
  const [row] = await db
    .select()
    .from(alerts)
    .where(and(eq(alerts.id, id), eq(alerts.accountId, accountId)));
  if (!row) throw notFound('alert');
  return row;
}

/** Idempotent: acknowledging again keeps the first time. Resolved alerts can be acknowledged too. */
export async function acknowledgeAlert(db: Db, accountId: string, id: string, now: Date): Promise<Alert> {
  await findAlert(db, accountId, id);
  await db
    .update(alerts)
    .set({ acknowledgedAt: now })
    .where(and(eq(alerts.id, id), eq(alerts.accountId, accountId), isNull(alerts.acknowledgedAt)));
  return toAlert(await findAlert(db, accountId, id));
}

export type AlertInput = {
  accountId: string;
  kind: AlertKind;
  subjectType: AlertRow['subjectType'];
  subjectId: string;
  subjectName: string;
  title: string;
  detail: string;
  facts: Record<string, unknown>;
};

/**
 * Queues the notifications of an alert that opened or resolved, in the transaction that changed
 * it. The notifications feature provides it (its deliveries refer to alerts, so alerts does not
 * import it); the cron passes it to the detection.
 */
export type AlertEvents = (
  tx: DbOrTx,
  type: 'alert.opened' | 'alert.resolved',
  alert: Alert,
  accountId: string,
  now: Date,
) => Promise<unknown>;

/**
 * Opens the alert unless one is open for the same condition and subject. The partial unique
 * index decides: of two overlapping runs exactly one inserts, and only that one notifies.
 */
export async function openAlert(db: Db, input: AlertInput, now: Date, events: AlertEvents): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(alerts)
      .values({ ...input, severity: SEVERITY[input.kind], openedAt: now })
      .onConflictDoNothing()
      .returning();
    if (!row) return false;
    await events(tx, 'alert.opened', toAlert(row), row.accountId, now);
    return true;
  });
}

/** Resolves an open alert once; only the run whose update took effect sends the notice. */
export async function resolveAlert(db: Db, id: string, now: Date, events: AlertEvents): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(alerts)
      .set({ resolvedAt: now })
      .where(and(eq(alerts.id, id), isNull(alerts.resolvedAt)))
      .returning();
    if (!row) return false;
    await events(tx, 'alert.resolved', toAlert(row), row.accountId, now);
    return true;
  });
}

/** While open, the detail follows the condition (the newest error, the current usage); no new notice. */
export async function refreshAlert(
  db: Db,
  id: string,
  patch: { title: string; detail: string; facts: Record<string, unknown> },
): Promise<void> {
  await db
    .update(alerts)
    .set(patch)
    .where(and(eq(alerts.id, id), isNull(alerts.resolvedAt)));
}

/** Open alerts of the account by severity (the metrics endpoint's resistro_alerts_open). */
export async function openAlertCounts(
  db: Db,
  accountId: string,
): Promise<Record<AlertRow['severity'], number>> {
  const rows = await db
    .select({ severity: alerts.severity, n: count() })
    .from(alerts)
    .where(and(eq(alerts.accountId, accountId), isNull(alerts.resolvedAt)))
    .groupBy(alerts.severity);
  const counts: Record<AlertRow['severity'], number> = { critical: 0, warning: 0 };
  for (const r of rows) counts[r.severity] = r.n;
  return counts;
}
