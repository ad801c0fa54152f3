// Reading the audit log: filtered, newest first, with cursor pages (lib/page.ts) for the API and the
// dashboard, and every matching entry at once for the CSV and JSON exports.
import type { AuditEntry } from '@resistro/contract';
import { and, desc, eq, gte, like, lte, type SQL } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { csvField } from '../lib/csv.ts';
import { afterCursor, toPage } from '../lib/page.ts';
import { auditLog } from './audit.sql.ts';

type Row = typeof auditLog.$inferSelect;

export type AuditFilter = {
  actorKind?: AuditEntry['actor']['kind'] | undefined;
  actorId?: string | undefined;
  action?: string | undefined;
  objectKind?: string | undefined;
  objectId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
};

export function toAuditEntry(row: Row): AuditEntry {
  return {
    id: row.id,
    at: row.at.toISOString(),
    actor: { kind: row.actorKind, id: row.actorId, label: row.actorLabel },
    ip: row.ip,
    action: row.action,
    object: row.objectKind && row.objectId ? { kind: row.objectKind, id: row.objectId } : null,
    details: row.details,
  };
}

function conditions(accountId: string, f: AuditFilter): SQL[] {
  const where: SQL[] = [eq(auditLog.accountId, accountId)];
  if (f.actorKind) where.push(eq(auditLog.actorKind, f.actorKind));
  if (f.actorId) where.push(eq(auditLog.actorId, f.actorId));
  if (f.action) {
    // `backup.` is every backup action; the filter's characters are [a-z0-9_.-] (no LIKE wildcards
    // but `_`, escaped here).
    if (f.action.endsWith('.')) where.push(like(auditLog.action, `${f.action.replace(/_/g, '\\_')}%`));
    else where.push(eq(auditLog.action, f.action));
  }
  if (f.objectKind) where.push(eq(auditLog.objectKind, f.objectKind));
  if (f.objectId) where.push(eq(auditLog.objectId, f.objectId));
  if (f.from) where.push(gte(auditLog.at, new Date(f.from)));
  if (f.to) where.push(lte(auditLog.at, new Date(f.to)));
  return where;
}

export async function listAudit(
  db: Db,
  accountId: string,
  f: AuditFilter & { cursor?: string | undefined; limit?: number | undefined },
) {
  const limit = f.limit ?? 50;
  const where = conditions(accountId, f);
  if (f.cursor) where.push(afterCursor(f.cursor, auditLog.at, auditLog.id));
  const rows = await db
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.at), desc(auditLog.id))
    .limit(limit + 1);
  return toPage(rows, limit, toAuditEntry, (r) => [r.at, r.id]);
}

export const EXPORT_BATCH = 500;

/**
 * The export in batches by keyset (at, id), newest first: each query starts after the last row of
 * the one before, so a long log is read in pages of EXPORT_BATCH and never sits in memory whole.
 */
export async function* exportAuditBatches(
  db: Db,
  accountId: string,
  f: AuditFilter,
): AsyncGenerator<AuditEntry[]> {
  let cursor: string | undefined;
  do {
    const page = await listAudit(db, accountId, { ...f, cursor, limit: EXPORT_BATCH });
    if (page.items.length > 0) yield page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

const CSV_COLUMNS = [
  'time',
  'action',
  'actor_kind',
  'actor_id',
  'actor',
  'ip',
  'object_kind',
  'object_id',
  'details',
] as const;

export const CSV_HEADER = `${CSV_COLUMNS.join(',')}\r\n`;

export function csvLine(e: AuditEntry): string {
  return `${[
    e.at,
    e.action,
    e.actor.kind,
    e.actor.id,
    e.actor.label,
    e.ip,
    e.object?.kind ?? null,
    e.object?.id ?? null,
    JSON.stringify(e.details),
  ]
    .map(csvField)
    .join(',')}\r\n`;
}
