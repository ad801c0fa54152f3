// "Download all": every successful backup of the account (or of one database) with its checksum
// and a presigned link that stays valid for 7 days (the longest S3 allows), in one manifest. The
// dashboard offers it as a file; `resistro export --all` downloads from it, verifies each file
// against its SHA-256 and resumes where it stopped. Works while the account is read-only.
import { EXPORT_LINK_TTL_SECONDS, type ExportManifest, exportPath } from '@resistro/contract';
import { and, asc, eq, type SQL } from 'drizzle-orm';
import { backups } from '../backups/backups.sql.ts';
import { databases } from '../databases/databases.sql.ts';
import type { Db } from '../db.ts';
import { notFound } from '../errors.ts';
import type { ObjectStorage } from '../storage/storage.ts';

export async function exportManifest(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  q: { databaseId?: string | undefined },
  now: Date,
): Promise<ExportManifest> {
  const where: SQL[] = [eq(backups.accountId, accountId), eq(backups.status, 'succeeded')];
  if (q.databaseId) {
    // A deleted database counts: its backups stay until retention or the purge removes them.
    const [own] = await db
      .select({ id: databases.id })
      .from(databases)
      .where(and(eq(databases.id, q.databaseId), eq(databases.accountId, accountId)));
    if (!own) throw notFound('database');
    where.push(eq(backups.databaseId, q.databaseId));
  }
  const rows = await db
    .select({
      id: backups.id,
      databaseId: backups.databaseId,
      databaseName: backups.databaseName,
      objectKey: backups.objectKey,
      startedAt: backups.startedAt,
      sizeBytes: backups.sizeBytes,
      sha256: backups.sha256,
    })
    .from(backups)
    .where(and(...where))
    .orderBy(asc(backups.databaseName), asc(backups.databaseId), asc(backups.startedAt), asc(backups.id));
  const items: ExportManifest['items'] = [];
  for (const r of rows) {
    // A succeeded backup always has both (set by its completion); a row without them is not offered.
    if (r.sizeBytes === null || r.sha256 === null) continue;
    const path = exportPath({
      databaseName: r.databaseName,
      databaseId: r.databaseId,
      startedAt: r.startedAt,
      backupId: r.id,
    });
    const fileName = path.slice(path.lastIndexOf('/') + 1);
    items.push({
      backupId: r.id,
      databaseId: r.databaseId,
      databaseName: r.databaseName,
      startedAt: r.startedAt.toISOString(),
      sizeBytes: r.sizeBytes,
      sha256: r.sha256,
      path,
      url: await storage.presignDownload(r.objectKey, fileName, EXPORT_LINK_TTL_SECONDS),
    });
  }
  return {
    accountId,
    generatedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + EXPORT_LINK_TTL_SECONDS * 1000).toISOString(),
    backups: items.length,
    totalBytes: items.reduce((n, i) => n + i.sizeBytes, 0),
    items,
  };
}
