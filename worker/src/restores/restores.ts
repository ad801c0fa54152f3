// Restore jobs: the dashboard or a script asks, the agent of the backup's database runs it. The
// control plane keeps only the job (which backup, where to, how far, how it ended): the agent
// downloads the ciphertext itself and decrypts with its own key, so zero knowledge stays.
import type { CreateRestoreBody, ListRestoresQuery, Restore, RestoreJob } from '@resistro/contract';
import { and, asc, desc, eq, inArray, isNull, lt } from 'drizzle-orm';
import type * as v from 'valibot';
import { users } from '../accounts/accounts.sql.ts';
import { apiKeys } from '../api-keys/api-keys.sql.ts';
import type { Principal } from '../app-types.ts';
import { recordAudit } from '../audit/audit.ts';
import { backups } from '../backups/backups.sql.ts';
import { databases } from '../databases/databases.sql.ts';
import type { Db } from '../db.ts';
import { ApiError, notFound } from '../errors.ts';
import { verifyPassword } from '../lib/crypto.ts';
import { restores } from './restores.sql.ts';

type Row = typeof restores.$inferSelect;
type DatabaseRow = typeof databases.$inferSelect;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toRestore(r: Row): Restore {
  return {
    id: r.id,
    databaseId: r.databaseId,
    databaseName: r.databaseName,
    backupId: r.backupId,
    backupStartedAt: r.backupStartedAt.toISOString(),
    agentId: r.agentId,
    target: {
      kind: r.targetKind,
      databaseId: r.targetDatabaseId,
      engine: r.engine,
      host: r.targetHost,
      port: r.targetPort,
      database: r.targetDatabase,
      replace: r.replace,
    },
    state: r.state,
    phase: r.phase,
    bytesDone: r.bytesDone,
    bytesTotal: r.bytesTotal,
    requestedAt: r.requestedAt.toISOString(),
    requestedBy: r.requestedBy,
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    durationMs: r.durationMs,
    cancelRequested: r.cancelRequestedAt !== null,
    errorCode: r.errorCode,
    error: r.error,
  };
}

type SqlEngine = 'postgres' | 'mysql' | 'mariadb';
const isSqlEngine = (engine: DatabaseRow['engine']): engine is SqlEngine =>
  engine === 'postgres' || engine === 'mysql' || engine === 'mariadb';
const family = (engine: DatabaseRow['engine']) => (engine === 'postgres' ? 'postgres' : 'mysql');

async function findLiveDatabase(db: Db, accountId: string, id: string): Promise<DatabaseRow | undefined> {
  const [row] = await db
    .select()
    .from(databases)
    .where(and(eq(databases.id, id), eq(databases.accountId, accountId), isNull(databases.deletedAt)));
  return row;
}

/** The backup asked for, or the newest successful one of the database asked for. */
async function pickBackup(db: Db, accountId: string, input: v.InferOutput<typeof CreateRestoreBody>) {
  if (input.backupId) {
    const [row] = await db
      .select()
      .from(backups)
      .where(and(eq(backups.id, input.backupId), eq(backups.accountId, accountId)));
    if (!row) throw new ApiError('validation_failed', 'No such backup', { backupId: 'no such backup' });
    if (row.status !== 'succeeded' || row.sizeBytes === null)
      throw new ApiError('conflict', 'Only a successful backup can be restored');
    return row;
  }
  if (!input.databaseId)
    throw new ApiError('validation_failed', 'Give either backupId or databaseId', {
      backupId: 'give either backupId or databaseId',
    });
  const database = await findLiveDatabase(db, accountId, input.databaseId);
  if (!database)
    throw new ApiError('validation_failed', 'No such database', { databaseId: 'no such database' });
  const [row] = await db
    .select()
    .from(backups)
    .where(and(eq(backups.databaseId, database.id), eq(backups.status, 'succeeded')))
    .orderBy(desc(backups.startedAt))
    .limit(1);
  if (!row) throw new ApiError('conflict', 'This database has no successful backup yet');
  return row;
}

/** Who asked, as the history shows it: the user's e-mail address or the API key's name. */
export async function requesterLabel(db: Db, p: Principal): Promise<string | null> {
  if (p.userId) {
    const [u] = await db.select({ email: users.email }).from(users).where(eq(users.id, p.userId));
    return u?.email ?? null;
  }
  if (p.apiKeyId) {
    const [k] = await db.select({ name: apiKeys.name }).from(apiKeys).where(eq(apiKeys.id, p.apiKeyId));
    return k ? `API key ${k.name}` : null;
  }
  return null;
}

/**
 * SECURITY: replacing the original database destroys its contents, so a browser session proves
 * again that the person at the keyboard knows the password (a stolen session alone cannot wipe a
 * database). An API key with full scope is itself the credential of a script.
 */
async function confirmPassword(db: Db, p: Principal, password: string | undefined): Promise<void> {
  if (!p.userId) return;
  if (!password)
    throw new ApiError('validation_failed', 'Enter your password to replace the original database', {
      password: 'is required to replace the original database',
    });
  const [u] = await db.select({ hash: users.passwordHash }).from(users).where(eq(users.id, p.userId));
  if (!u || !(await verifyPassword(password, u.hash)))
    throw new ApiError('validation_failed', 'The password is wrong', { password: 'is wrong' });
}

export async function createRestore(
  db: Db,
  p: Principal,
  input: v.InferOutput<typeof CreateRestoreBody>,
  now: Date,
): Promise<Restore> {
  const backup = await pickBackup(db, p.accountId, input);
  const source = await findLiveDatabase(db, p.accountId, backup.databaseId);
  if (!source)
    throw new ApiError(
      'conflict',
      'The database of this backup was deleted; download the backup and restore it with resistro restore',
    );
  if (!source.agentId) throw new ApiError('conflict', 'The database of this backup has no agent');
  // SQLite files, Redis snapshots and directories are restored into files on the agent's machine
  // (resistro restore --target-dir), not replayed into a server: docs/sources.md.
  if (!isSqlEngine(source.engine))
    throw new ApiError(
      'conflict',
      'SQLite, Redis and directory backups are restored with resistro restore where the agent runs',
    );
  const t = input.target;
  let target: {
    kind: Row['targetKind'];
    databaseId: string | null;
    connection: DatabaseRow;
    database: string;
    replace: boolean;
  };
  if (t.kind === 'new') {
    if (t.database === source.databaseName)
      throw new ApiError('validation_failed', 'A new database needs a name of its own', {
        'target.database': 'is the name of the original database',
      });
    target = { kind: 'new', databaseId: null, connection: source, database: t.database, replace: false };
  } else if (t.kind === 'database') {
    const other = await findLiveDatabase(db, p.accountId, t.databaseId);
    if (!other)
      throw new ApiError('validation_failed', 'No such database', {
        'target.databaseId': 'no such database',
      });
    if (other.id === source.id)
      throw new ApiError('validation_failed', 'Choose the original database as the target to replace it', {
        'target.databaseId': 'is the original database',
      });
    if (other.agentId !== source.agentId)
      throw new ApiError('validation_failed', 'The target database must run on the same agent', {
        'target.databaseId': 'runs on another agent',
      });
    if (!isSqlEngine(other.engine) || family(other.engine) !== family(source.engine))
      throw new ApiError('validation_failed', 'The target database must be the same kind of server', {
        'target.databaseId': 'is another kind of server',
      });
    target = {
      kind: 'database',
      databaseId: other.id,
      connection: other,
      database: other.databaseName,
      replace: false,
    };
  } else {
    if (t.confirm !== source.databaseName)
      throw new ApiError('validation_failed', 'Type the name of the database to confirm the replace', {
        'target.confirm': 'does not match the database name',
      });
    await confirmPassword(db, p, input.password);
    target = {
      kind: 'original',
      databaseId: source.id,
      connection: source,
      database: source.databaseName,
      replace: true,
    };
  }

  const busy = await db
    .select({ id: restores.id })
    .from(restores)
    .where(
      and(
        eq(restores.accountId, p.accountId),
        inArray(restores.state, ['pending', 'running']),
        eq(restores.targetHost, target.connection.host),
        eq(restores.targetPort, target.connection.port),
        eq(restores.targetDatabase, target.database),
      ),
    )
    .limit(1);
  if (busy.length > 0) throw new ApiError('conflict', 'A restore into this database is already under way');

  const [row] = await db
    .insert(restores)
    .values({
      accountId: p.accountId,
      databaseId: source.id,
      databaseName: source.name,
      backupId: backup.id,
      backupStartedAt: backup.startedAt,
      sizeBytes: backup.sizeBytes ?? 0,
      agentId: source.agentId,
      targetKind: target.kind,
      targetDatabaseId: target.databaseId,
      connectionDatabaseId: target.connection.id,
      engine: target.connection.engine as SqlEngine,
      targetHost: target.connection.host,
      targetPort: target.connection.port,
      targetDatabase: target.database,
      replace: target.replace,
      state: 'pending',
      bytesTotal: backup.sizeBytes,
      requestedBy: await requesterLabel(db, p),
      requestedByUserId: p.userId,
      requestedByApiKeyId: p.userId ? null : p.apiKeyId,
      requestedAt: now,
    })
    .returning();
  return toRestore(row!);
}

export async function findRestore(db: Db, accountId: string, id: string): Promise<Row> {
  const [row] = await db
    .select()
    .from(restores)
    .where(and(eq(restores.id, id), eq(restores.accountId, accountId)));
  if (!row) throw notFound('restore');
  return row;
}

export async function listRestores(
  db: Db,
  accountId: string,
  q: v.InferOutput<typeof ListRestoresQuery>,
): Promise<Restore[]> {
  const rows = await db
    .select()
    .from(restores)
    .where(
      and(
        eq(restores.accountId, accountId),
        q.databaseId ? eq(restores.databaseId, q.databaseId) : undefined,
      ),
    )
    .orderBy(desc(restores.requestedAt), desc(restores.id))
    .limit(q.limit ?? 50);
  return rows.map(toRestore);
}

/** A waiting restore ends at once; a running one is stopped by its agent at its next report. */
export async function cancelRestore(db: Db, accountId: string, id: string, now: Date): Promise<Restore> {
  const row = await findRestore(db, accountId, id);
  if (row.state === 'pending') {
    const [done] = await db
      .update(restores)
      .set({ state: 'cancelled', finishedAt: now, cancelRequestedAt: now })
      .where(and(eq(restores.id, id), eq(restores.state, 'pending')))
      .returning();
    if (done) return toRestore(done);
    return cancelRestore(db, accountId, id, now); // the agent took it meanwhile
  }
  if (row.state !== 'running') throw new ApiError('conflict', 'This restore is already over');
  const [marked] = await db
    .update(restores)
    .set({ cancelRequestedAt: row.cancelRequestedAt ?? now })
    .where(eq(restores.id, id))
    .returning();
  return toRestore(marked!);
}

// ---------- the agent's side ----------

function toJob(r: Row): RestoreJob {
  return {
    id: r.id,
    backupId: r.backupId!,
    sizeBytes: r.sizeBytes,
    connectionDatabaseId: r.connectionDatabaseId,
    engine: r.engine,
    database: r.targetDatabase,
    create: r.targetKind === 'new',
    replace: r.replace,
    requestedAt: r.requestedAt.toISOString(),
  };
}

/** The restores waiting for this agent, oldest first (their backup still there). */
export async function pendingRestoreJobs(db: Db, accountId: string, agentId: string): Promise<RestoreJob[]> {
  const rows = await db
    .select()
    .from(restores)
    .where(
      and(eq(restores.accountId, accountId), eq(restores.agentId, agentId), eq(restores.state, 'pending')),
    )
    .orderBy(asc(restores.requestedAt))
    .limit(20);
  return rows.filter((r) => r.backupId !== null).map(toJob);
}

export async function claimRestore(db: Db, accountId: string, id: string, now: Date): Promise<Restore> {
  await findRestore(db, accountId, id);
  const [row] = await db
    .update(restores)
    .set({ state: 'running', startedAt: now, progressAt: now, phase: 'check' })
    .where(and(eq(restores.id, id), eq(restores.state, 'pending')))
    .returning();
  if (!row) throw new ApiError('conflict', 'This restore is no longer waiting');
  return toRestore(row);
}

export async function reportRestoreProgress(
  db: Db,
  accountId: string,
  id: string,
  input: { phase: Row['phase']; bytesDone: number; bytesTotal?: number | undefined },
  now: Date,
): Promise<{ cancelRequested: boolean }> {
  const row = await findRestore(db, accountId, id);
  if (row.state !== 'running') throw new ApiError('conflict', 'This restore is not running');
  await db
    .update(restores)
    .set({
      phase: input.phase,
      bytesDone: input.bytesDone,
      ...(input.bytesTotal !== undefined && { bytesTotal: input.bytesTotal }),
      progressAt: now,
    })
    .where(and(eq(restores.id, id), eq(restores.state, 'running')));
  return { cancelRequested: row.cancelRequestedAt !== null };
}

export async function finishRestore(
  db: Db,
  accountId: string,
  id: string,
  input: {
    state: 'succeeded' | 'failed' | 'cancelled';
    errorCode?: Row['errorCode'] | undefined;
    error?: string | undefined;
    durationMs?: number | undefined;
    bytesDone?: number | undefined;
  },
  now: Date,
): Promise<Restore> {
  const row = await findRestore(db, accountId, id);
  if (row.state !== 'running') throw new ApiError('conflict', 'This restore is not running');
  if (input.state === 'failed' && !input.errorCode)
    throw new ApiError('validation_failed', 'A failed restore needs its errorCode', {
      errorCode: 'is required for a failed restore',
    });
  const durationMs =
    input.durationMs ?? (row.startedAt ? Math.max(0, now.getTime() - row.startedAt.getTime()) : null);
  const [done] = await db
    .update(restores)
    .set({
      state: input.state,
      finishedAt: now,
      durationMs,
      errorCode: input.state === 'succeeded' ? null : (input.errorCode ?? null),
      error: input.state === 'succeeded' ? null : (input.error ?? null),
      ...(input.bytesDone !== undefined && { bytesDone: input.bytesDone }),
    })
    .where(and(eq(restores.id, id), eq(restores.state, 'running')))
    .returning();
  if (!done) throw new ApiError('conflict', 'This restore is not running');
  return toRestore(done);
}

/** A running restore reports every few seconds; this long without a word, its agent is gone. */
export const RESTORE_SILENCE_MS = 10 * 60_000;

/**
 * Cron: a running restore whose agent went silent (killed, machine down) ends as failed instead of
 * running forever. Should the agent come back, its next report is refused and it stops.
 */
export async function failSilentRestores(db: Db, now: Date): Promise<{ failed: number }> {
  const stale = await db
    .update(restores)
    .set({
      state: 'failed',
      finishedAt: now,
      errorCode: 'agent_stopped',
      error: 'The agent stopped reporting progress for 10 minutes; the restore was given up.',
    })
    .where(
      and(
        eq(restores.state, 'running'),
        lt(restores.progressAt, new Date(now.getTime() - RESTORE_SILENCE_MS)),
      ),
    )
    .returning();
  for (const r of stale)
    await recordAudit(db, {
      accountId: r.accountId,
      actor: { kind: 'system', name: 'restores' },
      action: 'restore.finished',
      objectKind: 'restore',
      objectId: r.id,
      details: {
        databaseId: r.databaseId,
        backupId: r.backupId,
        state: 'failed',
        errorCode: 'agent_stopped',
      },
    });
  return { failed: stale.length };
}
