import {
  type BackupRequest,
  type CreateDatabaseBody,
  type Database,
  DEDUP_ENGINES,
  DEFAULT_PORTS,
  nextRuns,
  PLANS,
  type Schedule,
  type SourceSettings,
  type SourceSettingsInput,
} from '@resistro/contract';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { accounts } from '../accounts/accounts.sql.ts';
import { agents } from '../agents/agents.sql.ts';
import type { Db, DbOrTx } from '../db.ts';
import { ApiError, notFound } from '../errors.ts';
import { pendingCheck, toConnectionCheck, touchesConnection } from './checks.ts';
import { backupRequests, databases } from './databases.sql.ts';

type Row = typeof databases.$inferSelect;
type Credentials = { mode: 'sealed'; sealedPassword: string } | { mode: 'local' };

export function databaseStatus(row: Pick<Row, 'paused' | 'lastStatus'>): Database['status'] {
  if (row.paused) return 'paused';
  return row.lastStatus === 'failed' ? 'error' : 'active';
}

export function toDatabase(row: Row, now: Date): Database {
  const next = row.paused || row.deletedAt ? undefined : nextRuns(row.schedule, now, 1)[0];
  return {
    id: row.id,
    name: row.name,
    engine: row.engine,
    host: row.host,
    port: row.port,
    database: row.databaseName,
    user: row.username,
    credentialsMode: row.credentialsMode,
    schedule: row.schedule,
    retentionDays: row.retentionDays,
    compressionLevel: row.compressionLevel,
    dedup: row.dedup,
    agentId: row.agentId,
    paused: row.paused,
    status: databaseStatus(row),
    lastBackupAt: row.lastBackupAt?.toISOString() ?? null,
    lastSuccessAt: row.lastSuccessAt?.toISOString() ?? null,
    lastError: row.lastError,
    nextRunAt: next?.toISOString() ?? null,
    connectionCheck: toConnectionCheck(row),
    source: row.source ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Lock the account row so concurrent creates cannot both slip under the plan limit. */
async function lockAccount(tx: DbOrTx, accountId: string) {
  const [row] = await tx.select().from(accounts).where(eq(accounts.id, accountId)).for('update');
  if (!row) throw notFound('account');
  return row;
}

async function assertOwnAgent(tx: DbOrTx, accountId: string, agentId: string) {
  const [agent] = await tx
    .select({ id: agents.id })
    .from(agents)
    .where(and(eq(agents.id, agentId), eq(agents.accountId, accountId)));
  if (!agent)
    throw new ApiError('validation_failed', 'Invalid input: agentId is not one of your agents', {
      agentId: 'is not one of your agents',
    });
}

function checkRetention(planId: keyof typeof PLANS, days: number) {
  const plan = PLANS[planId];
  if (days > plan.maxRetentionDays) {
    throw new ApiError(
      'plan_limit',
      `The ${plan.name} plan keeps backups at most ${plan.maxRetentionDays} days`,
      {
        retentionDays: `must be at most ${plan.maxRetentionDays} days on the ${plan.name} plan`,
      },
    );
  }
}

function credentialColumns(c: Credentials) {
  return c.mode === 'sealed'
    ? { credentialsMode: 'sealed' as const, sealedPassword: c.sealedPassword }
    : { credentialsMode: 'local' as const, sealedPassword: null };
}

/**
 * The connection columns for every engine: SQLite and directories have no server, so their host is
 * the agent's machine and their "database" the file or paths the list shows.
 */
function connectionColumns(input: {
  engine: Row['engine'];
  host?: string | undefined;
  port?: number | undefined;
  database?: string | undefined;
  user?: string | undefined;
  source?: SourceSettingsInput | undefined;
}) {
  const given = input.source;
  const source: SourceSettings | null =
    given?.kind === 'directory'
      ? { ...given, include: given.include ?? [], exclude: given.exclude ?? [] }
      : (given ?? (input.engine === 'redis' ? { kind: 'redis', tls: false } : null));
  const shown =
    source?.kind === 'sqlite' ? source.path : source?.kind === 'directory' ? source.paths.join(', ') : '';
  return {
    host: input.host ?? 'localhost',
    port: input.port ?? DEFAULT_PORTS[input.engine],
    databaseName: input.database ?? shown,
    username: input.user ?? (input.engine === 'redis' ? 'default' : ''),
    source,
  };
}

export async function createDatabase(
  db: Db,
  accountId: string,
  input: Omit<CreateDatabaseBody, 'schedule' | 'credentials'> & {
    schedule: Schedule;
    credentials: Credentials;
  },
  now: Date,
): Promise<Database> {
  const row = await db.transaction(async (tx) => {
    const account = await lockAccount(tx, accountId);
    const plan = PLANS[account.plan];
    const [active] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(databases)
      .where(and(eq(databases.accountId, accountId), isNull(databases.deletedAt)));
    if (plan.maxDatabases !== null && (active?.n ?? 0) >= plan.maxDatabases) {
      throw new ApiError(
        'plan_limit',
        `The ${plan.name} plan allows ${plan.maxDatabases} database(s); upgrade to add more`,
      );
    }
    const retentionDays = input.retentionDays ?? plan.maxRetentionDays;
    checkRetention(account.plan, retentionDays);
    await assertOwnAgent(tx, accountId, input.agentId);
    const [inserted] = await tx
      .insert(databases)
      .values({
        accountId,
        agentId: input.agentId,
        name: input.name,
        engine: input.engine,
        ...connectionColumns(input),
        ...credentialColumns(input.credentials),
        schedule: input.schedule,
        retentionDays,
        compressionLevel: input.compressionLevel ?? 3,
        ...pendingCheck(now),
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    return inserted!;
  });
  return toDatabase(row, now);
}

export async function findDatabase(db: DbOrTx, accountId: string, id: string): Promise<Row> {
  const [row] = await db
    .select()
    .from(databases)
    .where(and(eq(databases.id, id), eq(databases.accountId, accountId), isNull(databases.deletedAt)));
  if (!row) throw notFound('database');
  return row;
}

export async function listDatabases(db: Db, accountId: string, now: Date): Promise<Database[]> {
  const rows = await db
    .select()
    .from(databases)
    .where(and(eq(databases.accountId, accountId), isNull(databases.deletedAt)))
    .orderBy(asc(databases.name), asc(databases.id));
  return rows.map((r) => toDatabase(r, now));
}

export type DatabasePatch = {
  name?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  database?: string | undefined;
  user?: string | undefined;
  credentials?: Credentials | undefined;
  schedule?: Schedule | undefined;
  retentionDays?: number | undefined;
  agentId?: string | undefined;
  compressionLevel?: number | undefined;
  source?: SourceSettingsInput | undefined;
  dedup?: boolean | undefined;
};

export async function updateDatabase(
  db: Db,
  accountId: string,
  id: string,
  patch: DatabasePatch,
  now: Date,
): Promise<Database> {
  const row = await db.transaction(async (tx) => {
    const account = await lockAccount(tx, accountId);
    const current = await findDatabase(tx, accountId, id);
    if (patch.retentionDays !== undefined) checkRetention(account.plan, patch.retentionDays);
    if (patch.source !== undefined && patch.source.kind !== current.engine)
      throw new ApiError('validation_failed', 'Invalid input: source must have kind equal to the engine', {
        source: 'must be given for this engine, with kind equal to the engine',
      });
    // SQL dumps only: the files of SQLite, Redis and directory sources are not deduplicated (yet).
    if (patch.dedup === true && !DEDUP_ENGINES.includes(current.engine))
      throw new ApiError(
        'validation_failed',
        'Invalid input: dedup is available for PostgreSQL, MySQL and MariaDB databases only',
        {
          dedup: 'is available for PostgreSQL, MySQL and MariaDB databases only',
        },
      );
    if (patch.agentId !== undefined && patch.agentId !== current.agentId) {
      await assertOwnAgent(tx, accountId, patch.agentId);
      // SECURITY: a password sealed to the old agent cannot be opened by the new one.
      if (current.credentialsMode === 'sealed' && patch.credentials?.mode !== 'sealed') {
        throw new ApiError(
          'validation_failed',
          'Invalid input: credentials must be sealed again to the new agent',
          {
            credentials: 'must be sealed again to the new agent',
          },
        );
      }
    }
    const [updated] = await tx
      .update(databases)
      .set({
        ...(patch.name !== undefined && { name: patch.name }),
        ...(patch.host !== undefined && { host: patch.host }),
        ...(patch.port !== undefined && { port: patch.port }),
        ...(patch.database !== undefined && { databaseName: patch.database }),
        ...(patch.user !== undefined && { username: patch.user }),
        ...(patch.credentials !== undefined && credentialColumns(patch.credentials)),
        ...(patch.schedule !== undefined && { schedule: patch.schedule }),
        ...(patch.retentionDays !== undefined && { retentionDays: patch.retentionDays }),
        ...(patch.agentId !== undefined && { agentId: patch.agentId }),
        ...(patch.compressionLevel !== undefined && { compressionLevel: patch.compressionLevel }),
        ...(patch.dedup !== undefined && { dedup: patch.dedup }),
        ...(patch.source !== undefined && {
          source: connectionColumns({ engine: current.engine, source: patch.source }).source,
          ...(patch.source.kind !== 'redis' &&
            patch.database === undefined && {
              databaseName: connectionColumns({ engine: current.engine, source: patch.source }).databaseName,
            }),
        }),
        ...((touchesConnection(patch) || patch.source !== undefined) && pendingCheck(now)),
        updatedAt: now,
      })
      .where(eq(databases.id, current.id))
      .returning();
    return updated!;
  });
  return toDatabase(row, now);
}

export async function setPaused(
  db: Db,
  accountId: string,
  id: string,
  paused: boolean,
  now: Date,
): Promise<Database> {
  await findDatabase(db, accountId, id);
  const [row] = await db
    .update(databases)
    .set({ paused, updatedAt: now })
    .where(and(eq(databases.id, id), eq(databases.accountId, accountId)))
    .returning();
  return toDatabase(row!, now);
}

/** The configuration goes now; its backups stay (listed, downloadable) until retention ends. */
export async function deleteDatabase(db: Db, accountId: string, id: string, now: Date): Promise<void> {
  await findDatabase(db, accountId, id);
  await db.transaction(async (tx) => {
    await tx
      .update(databases)
      .set({ deletedAt: now, paused: true, sealedPassword: null, updatedAt: now })
      .where(and(eq(databases.id, id), eq(databases.accountId, accountId)));
    await tx
      .delete(backupRequests)
      .where(and(eq(backupRequests.databaseId, id), isNull(backupRequests.claimedAt)));
  });
}

/** "Back up now": one pending request per database; asking again returns the pending one. */
export async function requestBackup(
  db: Db,
  accountId: string,
  id: string,
  now: Date,
): Promise<BackupRequest> {
  const database = await findDatabase(db, accountId, id);
  if (database.paused) throw new ApiError('conflict', 'This database is paused; resume it first');
  const [pending] = await db
    .select()
    .from(backupRequests)
    .where(and(eq(backupRequests.databaseId, id), isNull(backupRequests.claimedAt)));
  const row =
    pending ??
    (await db.insert(backupRequests).values({ accountId, databaseId: id, requestedAt: now }).returning())[0]!;
  return { id: row.id, databaseId: row.databaseId, requestedAt: row.requestedAt.toISOString() };
}
