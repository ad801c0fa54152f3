// What continuous protection alerts on, per server (alerts/detect.ts opens and resolves them):
// a hole in the log, a lag above the RPO target, a replication slot close to filling the disk.
import type { AlertKind } from '@resistro/contract';
import { and, asc, eq, gt, isNull } from 'drizzle-orm';
import { databases } from '../databases/databases.sql.ts';
import type { Db } from '../db.ts';
import { findGaps } from './chain.ts';
import { pitrSettings } from './pitr.sql.ts';
import { loadChain } from './registry.ts';
import { currentLag, slotFilling } from './settings.ts';

export const PITR_ALERT_KINDS = ['pitr_gap', 'pitr_lag', 'pitr_slot'] as const satisfies readonly AlertKind[];
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
        wanted.pitr_slot = {
          title: `The replication slot of "${name}" is filling the disk`,
          detail:
            `Slot ${s.slot.name} holds ${s.slot.retainedBytes} bytes of WAL, ${Math.round(filling.ratio * 100)} % of what the server can keep. ` +
            'Start the agent again, or drop the slot (SELECT pg_drop_replication_slot(...)) before the disk fills; a new base backup follows.',
          facts: {
            slotName: s.slot.name,
            retainedBytes: s.slot.retainedBytes,
            limitBytes: filling.limitBytes,
            percent: Math.round(filling.ratio * 100),
          },
        };
      }
    }
    out.push({ databaseId: s.databaseId, accountId: s.accountId, name, wanted });
  }
  return out;
}
