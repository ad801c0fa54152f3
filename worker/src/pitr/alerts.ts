// What continuous protection alerts on, per server (alerts/detect.ts opens and resolves them):
// a hole in the log, a lag above the RPO target, a replication slot close to filling the disk, and
// (MariaDB/MySQL) a lag that has used half of the time the server keeps its binary logs.
import { type AlertKind, formatBytes as formatBytesIn } from '@resistro/contract';
import { and, asc, eq, gt, isNull } from 'drizzle-orm';
import { databases } from '../databases/databases.sql.ts';
import type { Db } from '../db.ts';
import { findGaps } from './chain.ts';
import { pitrSettings } from './pitr.sql.ts';
import { loadChain } from './registry.ts';
import { currentLag, retentionAtRisk, slotFilling } from './settings.ts';

/** The stored (English) detail's sizes, as alerts/conditions.ts writes them (pitr may not import alerts). */
const formatBytes = (n: number) => formatBytesIn(n, 'en');

export const PITR_ALERT_KINDS = [
  'pitr_gap',
  'pitr_lag',
  'pitr_slot',
  'pitr_retention',
] as const satisfies readonly AlertKind[];
type Wanted = { title: string; detail: string; facts: Record<string, unknown> };

export type PitrSubject = {
  databaseId: string;
  accountId: string;
  name: string;
  wanted: Partial<Record<(typeof PITR_ALERT_KINDS)[number], Wanted>>;
};

/** The protected servers after `cursor` (by database id), each with the alerts its state calls for. */
export async function pitrAlertSubjects(
  db: Db,
  cursor: string,
  batch: number,
  now: Date,
): Promise<PitrSubject[]> {
  const rows = await db
    .select({
      settings: pitrSettings,
      name: databases.name,
      engine: databases.engine,
      paused: databases.paused,
    })
    .from(pitrSettings)
    .innerJoin(databases, eq(databases.id, pitrSettings.databaseId))
    .where(and(gt(pitrSettings.databaseId, cursor), isNull(databases.deletedAt)))
    .orderBy(asc(pitrSettings.databaseId))
    .limit(batch);
  const out: PitrSubject[] = [];
  for (const { settings: s, name, engine, paused } of rows) {
    const wanted: PitrSubject['wanted'] = {};
    if (s.enabled && !paused) {
      const chain = await loadChain(db, s.databaseId);
      const gaps = findGaps(engine, chain.segments, chain.bases, s.segmentSizeBytes);
      const first = gaps[0];
      if (first) {
        const missing = first.missing.length > 0 ? first.missing : [first.before ?? first.fromPosition];
        wanted.pitr_gap = {
          title: `The log of "${name}" has a gap`,
          detail:
            `Segment ${missing.slice(0, 3).join(', ')} is missing${first.after ? ` after ${first.after}` : ''}: ` +
            'no restore can cross it. A new base backup is taken at once; points after it are restorable again. ' +
            'Check the agent log on the database host for why the segment was not uploaded or who deleted it.',
          facts: {
            missing: missing.slice(0, 20),
            after: first.after,
            gaps: gaps.length,
            stream: first.stream,
          },
        };
      }
      const lag = currentLag(s, now);
      if (lag !== null && lag > s.rpoSeconds) {
        wanted.pitr_lag = {
          title: `The log of "${name}" lags behind its RPO target`,
          detail:
            `The newest log in storage is ${Math.round(lag)} s behind the server; the target is ${s.rpoSeconds} s. ` +
            'Check that the agent runs and reaches the database and the storage.',
          facts: { lagSeconds: Math.round(lag), rpoSeconds: s.rpoSeconds },
        };
      }
      const filling = slotFilling(s.slot);
      if (filling && s.slot) {
        const slot = s.slot.name;
        const percent = Math.round(filling.ratio * 100);
        const what =
          filling.walStatus === 'lost'
            ? `The server has already removed WAL that slot ${slot} still needed (wal_status lost): the log has a gap. `
            : filling.walStatus === 'unreserved'
              ? `Slot ${slot} holds ${formatBytes(s.slot.retainedBytes)} of WAL, more than max_slot_wal_keep_size: the next checkpoint removes WAL the agent has not streamed yet. `
              : `Slot ${slot} holds ${formatBytes(s.slot.retainedBytes)} of WAL, ${percent} % of what the server can keep. `;
        wanted.pitr_slot = {
          title: `The replication slot of "${name}" is filling the disk`,
          detail:
            what +
            "Check the agent's log on the database host and fix its replication connection (pg_hba.conf needs a replication line for its user), " +
            `or drop the slot (SELECT pg_drop_replication_slot('${slot}')) before the disk fills; the agent creates it again and a new base backup follows.`,
          facts: {
            slotName: slot,
            retainedBytes: s.slot.retainedBytes,
            limitBytes: filling.limitBytes,
            percent,
            walStatus: filling.walStatus,
          },
        };
      }
      const risk = engine === 'postgres' ? null : retentionAtRisk(s, lag);
      if (risk) {
        wanted.pitr_retention = {
          title: `The server of "${name}" deletes binary logs the agent may not have stored`,
          detail:
            `The agent is ${Math.round(risk.lagSeconds)} s behind the binary log, and the server deletes binlogs after ${risk.retentionSeconds} s: ` +
            'what the agent has not stored by then is a gap no restore can cross. Check that the agent runs and reaches the server and the storage, ' +
            'and raise the retention on the server (SET PERSIST binlog_expire_logs_seconds = 604800, or expire_logs_days = 7 on older servers).',
          facts: { lagSeconds: Math.round(risk.lagSeconds), retentionSeconds: risk.retentionSeconds },
        };
      }
    }
    out.push({ databaseId: s.databaseId, accountId: s.accountId, name, wanted });
  }
  return out;
}
