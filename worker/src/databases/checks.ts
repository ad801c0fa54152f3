// Connection checks: a database is marked "check pending" when it is added, when its connection
// settings change, or when the user asks again; the heartbeat hands pending checks to the agent,
// and the agent's report (codes + parameters per step) is stored for the dashboard.
import type { CheckItem, CheckReportBody, CheckRequest, ConnectionCheck } from '@resistro/contract';
import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { ApiError, notFound } from '../errors.ts';
import { databases } from './databases.sql.ts';

type Row = typeof databases.$inferSelect;

/** what the check_result column holds */
export type StoredCheckResult = {
  serverVersion: string | null;
  toolVersion: string | null;
  items: CheckItem[];
};

/** Columns that (re)start a check: set on create, on a connection change and on "test again". */
export function pendingCheck(now: Date) {
  return { checkStatus: 'pending' as const, checkRequestedAt: now };
}

/** The fields of an edit that change how the agent connects: any of them asks for a new check. */
export function touchesConnection(patch: {
  host?: unknown;
  port?: unknown;
  database?: unknown;
  user?: unknown;
  credentials?: unknown;
  agentId?: unknown;
}): boolean {
  return (
    patch.host !== undefined ||
    patch.port !== undefined ||
    patch.database !== undefined ||
    patch.user !== undefined ||
    patch.credentials !== undefined ||
    patch.agentId !== undefined
  );
}

export function toConnectionCheck(row: Row): ConnectionCheck | null {
  if (!row.checkStatus || !row.checkRequestedAt) return null;
  return {
    status: row.checkStatus,
    requestedAt: row.checkRequestedAt.toISOString(),
    checkedAt: row.checkedAt?.toISOString() ?? null,
    serverVersion: row.checkResult?.serverVersion ?? null,
    toolVersion: row.checkResult?.toolVersion ?? null,
    items: row.checkResult?.items ?? [],
  };
}

/** The heartbeat's list of databases to check now (deleted ones are already filtered out). */
export function checkRequestsOf(rows: Row[]): CheckRequest[] {
  return rows
    .filter((r) => r.checkStatus === 'pending' && r.checkRequestedAt)
    .map((r) => ({ databaseId: r.id, requestedAt: r.checkRequestedAt!.toISOString() }));
}

/** "Test again": a new request replaces any unanswered one; the previous result stays visible. */
export async function requestCheck(db: Db, accountId: string, id: string, now: Date): Promise<Row> {
  const [row] = await db
    .update(databases)
    .set(pendingCheck(now))
    .where(and(eq(databases.id, id), eq(databases.accountId, accountId), isNull(databases.deletedAt)))
    .returning();
  if (!row) throw notFound('database');
  return row;
}

/**
 * Stores the agent's result of the pending check. SECURITY: the database must belong to the
 * reporting key's account (another account's id is "not found", like a missing one) and, when the
 * agent names itself, be assigned to that agent.
 */
export async function reportCheck(
  db: Db,
  accountId: string,
  id: string,
  input: Omit<CheckReportBody, 'items'> & { items: CheckItem[] },
  now: Date,
): Promise<ConnectionCheck> {
  const [row] = await db
    .select()
    .from(databases)
    .where(and(eq(databases.id, id), eq(databases.accountId, accountId), isNull(databases.deletedAt)));
  if (!row) throw notFound('database');
  if (input.agentId !== undefined && row.agentId !== input.agentId) {
    throw new ApiError('conflict', 'This database is run by another agent');
  }
  // the contract's Timestamp is a real instant: this Date is valid
  const requestedAt = new Date(input.requestedAt);
  const current = row.checkRequestedAt?.getTime();
  if (current !== requestedAt.getTime()) {
    throw new ApiError('conflict', 'A newer connection check was requested; this result is outdated');
  }
  // A repeated report of an answered request (the agent retrying after a lost response) is a no-op.
  if (row.checkStatus !== 'pending') return toConnectionCheck(row)!;
  const result: StoredCheckResult = {
    serverVersion: input.serverVersion ?? null,
    toolVersion: input.toolVersion ?? null,
    items: input.items,
  };
  const [updated] = await db
    .update(databases)
    .set({
      checkStatus: input.items.every((i) => i.ok) ? 'ok' : 'failed',
      checkedAt: now,
      checkResult: result,
    })
    .where(
      and(
        eq(databases.id, id),
        eq(databases.accountId, accountId),
        eq(databases.checkRequestedAt, requestedAt),
        eq(databases.checkStatus, 'pending'),
      ),
    )
    .returning();
  // Between the read and the write the user asked again: this result no longer answers anything.
  if (!updated)
    throw new ApiError('conflict', 'A newer connection check was requested; this result is outdated');
  return toConnectionCheck(updated)!;
}
