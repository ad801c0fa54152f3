// Cron: for each protected server, check that storage still holds every registered segment (a
// deleted one is a gap before anyone needs it), then apply the window: keep every base backup and
// segment a point inside the window needs, delete the rest, never the newest usable chain.
import { and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import { accounts } from '../accounts/accounts.sql.ts';
import { removeBackups } from '../backups/remove.ts';
import type { Db } from '../db.ts';
import type { ObjectStorage } from '../storage/storage.ts';
import { keepFor } from './chain.ts';
import { pitrSegments, pitrSettings } from './pitr.sql.ts';
import { loadChain } from './registry.ts';

/** How often one server's objects are listed against the registry. */
export const PITR_CHECK_EVERY_MS = 3600_000;
export const PITR_CRON_BATCH = 50;

type Stats = { checked: number; missing: number; deleted: number; baseBackupsDeleted: number };

export async function maintainPitr(db: Db, storage: ObjectStorage, now: Date): Promise<Stats> {
  const stats: Stats = { checked: 0, missing: 0, deleted: 0, baseBackupsDeleted: 0 };
  const due = await db
    .select()
    .from(pitrSettings)
    .where(
      or(
        isNull(pitrSettings.checkedAt),
        lt(pitrSettings.checkedAt, new Date(now.getTime() - PITR_CHECK_EVERY_MS)),
      ),
    )
    // never checked first (ascending order alone puts NULLs last, behind 50 older ones)
    .orderBy(sql`${pitrSettings.checkedAt} asc nulls first`)
    .limit(PITR_CRON_BATCH);
  for (const s of due) {
    try {
      stats.missing += await checkObjects(db, storage, s.accountId, s.databaseId, now);
      const pruned = await applyWindow(db, storage, s.databaseId, s.windowDays, now);
      stats.deleted += pruned.segments;
      stats.baseBackupsDeleted += pruned.baseBackups;
      await db.update(pitrSettings).set({ checkedAt: now }).where(eq(pitrSettings.databaseId, s.databaseId));
      stats.checked++;
    } catch (e) {
      // one server's trouble (storage refusing) must not stop the others
      console.error(`pitr maintenance failed for database ${s.databaseId}`, e);
    }
  }
  return stats;
}

/** Lists the server's segment objects and marks registered ones storage no longer has. */
async function checkObjects(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  databaseId: string,
  now: Date,
): Promise<number> {
  const prefix = `accounts/${accountId}/databases/${databaseId}/pitr/`;
  const present = new Set<string>();
  let marker = '';
  for (;;) {
    const page = await storage.listKeys(prefix, 1000, marker);
    for (const k of page.keys) present.add(k);
    if (!page.truncated || page.keys.length === 0) break;
    marker = page.keys.at(-1)!;
  }
  const rows = await db
    .select({
      id: pitrSegments.id,
      objectKey: pitrSegments.objectKey,
      missingSince: pitrSegments.missingSince,
    })
    .from(pitrSegments)
    .where(eq(pitrSegments.databaseId, databaseId));
  const lost = rows.filter((r) => !present.has(r.objectKey) && !r.missingSince).map((r) => r.id);
  const back = rows.filter((r) => present.has(r.objectKey) && r.missingSince).map((r) => r.id);
  if (lost.length > 0)
    await db.update(pitrSegments).set({ missingSince: now }).where(inArray(pitrSegments.id, lost));
  if (back.length > 0)
    await db.update(pitrSegments).set({ missingSince: null }).where(inArray(pitrSegments.id, back));
  return lost.length;
}

async function applyWindow(
  db: Db,
  storage: ObjectStorage,
  databaseId: string,
  windowDays: number,
  now: Date,
): Promise<{ segments: number; baseBackups: number }> {
  const chain = await loadChain(db, databaseId);
  if (chain.bases.length === 0) return { segments: 0, baseBackups: 0 };
  const keep = keepFor(chain.segments, chain.bases, new Date(now.getTime() - windowDays * 86400_000));
  const oldBases = chain.bases.filter((b) => !keep.bases.has(b.backupId)).map((b) => b.backupId);
  const oldSegments = chain.segmentRows.filter((r) => {
    const from = keep.fromOffset.get(r.stream);
    return from === undefined || r.endOffset <= from;
  });
  let removedBases = 0;
  if (oldBases.length > 0) {
    const removed = await removeBackups(db, storage, async (tx) => {
      const { rows } = await tx.execute<{ id: string }>(
        sql`select id from backups where id in ${oldBases} for update skip locked`,
      );
      return rows.map((r) => r.id);
    });
    removedBases = removed.length;
  }
  if (oldSegments.length === 0) return { segments: 0, baseBackups: removedBases };
  const gone = await storage.deleteObjects(oldSegments.map((r) => r.objectKey));
  const goneRows = oldSegments.filter((r) => gone.has(r.objectKey));
  if (goneRows.length > 0) {
    const ids = goneRows.map((r) => r.id);
    const removed = await db
      .delete(pitrSegments)
      .where(and(eq(pitrSegments.databaseId, databaseId), inArray(pitrSegments.id, ids)))
      .returning({ accountId: pitrSegments.accountId, sizeBytes: pitrSegments.sizeBytes });
    // usage counts what the registry lists (registry.ts adds it at registration)
    const bytes = removed.reduce((n, r) => n + r.sizeBytes, 0);
    const accountId = removed[0]?.accountId;
    if (accountId && bytes > 0)
      await db
        .update(accounts)
        .set({ storageUsedBytes: sql`greatest(0, ${accounts.storageUsedBytes} - ${bytes})` })
        .where(eq(accounts.id, accountId));
  }
  return { segments: goneRows.length, baseBackups: removedBases };
}
