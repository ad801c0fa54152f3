// What a restore to a point needs (resistro restore --pitr), and what each agent is asked to do.
import type { PitrJob, PitrRestorePlan, PitrRestorePlanQuery } from '@resistro/contract';
import { and, eq, isNull } from 'drizzle-orm';
import { backups } from '../backups/backups.sql.ts';
import { databases } from '../databases/databases.sql.ts';
import { findDatabase } from '../databases/databases.ts';
import type { Db } from '../db.ts';
import type { Config } from '../env.ts';
import { ApiError } from '../errors.ts';
import type { ObjectStorage } from '../storage/storage.ts';
import { findGaps, planRestore, type Target } from './chain.ts';
import { pitrSettings } from './pitr.sql.ts';
import { loadChain, toBaseBackup, toSegment } from './registry.ts';
import { baseBackupDue, findSettings, pitrEngine } from './settings.ts';

function targetOf(q: PitrRestorePlanQuery): Target {
  if (q.time !== undefined) return { kind: 'time', time: new Date(q.time) };
  if (q.offset !== undefined) return { kind: 'offset', offset: q.offset };
  return { kind: 'latest' };
}

export async function restorePlan(
  db: Db,
  storage: ObjectStorage,
  config: Config,
  accountId: string,
  databaseId: string,
  q: PitrRestorePlanQuery,
  now: Date,
): Promise<PitrRestorePlan> {
  const database = await findDatabase(db, accountId, databaseId);
  const settings = await findSettings(db, database.id);
  const chain = await loadChain(db, database.id);
  const target = targetOf(q);
  const plan = planRestore(
    database.engine,
    chain.segments,
    chain.bases,
    target,
    settings?.segmentSizeBytes ?? null,
  );
  if (!plan.ok) {
    if (plan.reason === 'gap') {
      const named =
        plan.gap.missing.length > 0
          ? plan.gap.missing.slice(0, 3).join(', ')
          : (plan.gap.before ?? 'the end');
      throw new ApiError(
        'conflict',
        `The log has a gap before the target: segment ${named} is missing; choose a point before ${plan.gap.fromPosition}`,
      );
    }
    if (plan.reason === 'no_base_backup')
      throw new ApiError(
        'conflict',
        'There is no base backup yet; the agent takes one once protection is on',
      );
    const w = plan.window;
    throw new ApiError(
      'conflict',
      w
        ? `The target lies outside the restorable window ${w.start.toISOString()} – ${w.end.toISOString()}`
        : 'Nothing is restorable yet: the first base backup has no log after it',
    );
  }
  const base = chain.baseRows.find((b) => b.backupId === plan.base.backupId)!;
  const [backupRow] = await db.select().from(backups).where(eq(backups.id, base.backupId));
  const ttl = config.downloadUrlTtlSeconds;
  const byName = new Map(chain.segmentRows.map((r) => [`${r.stream}/${r.name}`, r]));
  const segments = await Promise.all(
    plan.segments.map(async (s) => {
      const row = byName.get(`${s.stream}/${s.name}`)!;
      return {
        ...toSegment(row),
        url: await storage.presignDownload(row.objectKey, `${row.name}.resistro`, ttl),
      };
    }),
  );
  const window = {
    start: new Date(Math.min(...chain.bases.map((b) => b.consistentAt.getTime()))),
    end: plan.resolved.time ?? new Date(segments.at(-1)?.closedAt ?? base.consistentAt),
  };
  return {
    databaseId: database.id,
    engine: database.engine,
    baseBackup: toBaseBackup(base),
    baseBackupUrl: await storage.presignDownload(backupRow!.objectKey, `${base.backupId}.resistro`, ttl),
    segments,
    target: {
      kind: target.kind,
      time: plan.resolved.time?.toISOString() ?? null,
      offset: plan.resolved.offset,
    },
    window: { start: window.start.toISOString(), end: window.end.toISOString() },
    expiresAt: new Date(now.getTime() + ttl * 1000).toISOString(),
  };
}

/** The servers an agent protects continuously, each with whether a base backup is due now. */
export async function agentJobs(
  db: Db,
  accountId: string,
  agentId: string,
  now: Date,
): Promise<{ items: PitrJob[] }> {
  const rows = await db
    .select({ database: databases, settings: pitrSettings })
    .from(pitrSettings)
    .innerJoin(databases, eq(databases.id, pitrSettings.databaseId))
    .where(
      and(
        eq(pitrSettings.accountId, accountId),
        eq(pitrSettings.enabled, true),
        eq(databases.agentId, agentId),
        eq(databases.paused, false),
        isNull(databases.deletedAt),
      ),
    );
  const items: PitrJob[] = [];
  for (const { database, settings } of rows) {
    const engine = pitrEngine(database.engine);
    if (!engine) continue;
    const chain = await loadChain(db, database.id);
    const newest = chain.baseRows.at(-1);
    const gaps = findGaps(engine, chain.segments, chain.bases, settings.segmentSizeBytes);
    const gapAfter = newest
      ? gaps.some((g) => g.stream === newest.stream && g.fromOffset >= newest.startOffset)
      : false;
    const reason = baseBackupDue(settings, newest?.consistentAt ?? null, gapAfter, now);
    items.push({
      databaseId: database.id,
      engine,
      method: settings.method,
      rpoSeconds: settings.rpoSeconds,
      baseBackupDue: reason !== null,
      baseBackupReason: reason,
    });
  }
  return { items };
}
