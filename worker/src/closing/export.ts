// "Download all": every successful backup of the account (or of one database) with its checksum
// and a presigned link that stays valid for 7 days (the longest S3 allows), in one manifest. The
// dashboard offers it as a file; `resistro export --all` downloads from it, verifies each file
// against its SHA-256 and resumes where it stopped. Works while the account is read-only.
// Paged (newest first, 100 links a page) so a large account's manifest is never one unbounded
// answer; the API client (contract/src/client.ts exportManifest) puts the pages together.
import {
  EXPORT_LINK_TTL_SECONDS,
  type ExportManifest,
  exportPath,
  PAGE_LIMIT_MAX,
  type PageQuery,
} from '@resistro/contract';
import { and, count, desc, eq, isNotNull, type SQL, sql } from 'drizzle-orm';
import { backups } from '../backups/backups.sql.ts';
import { databases } from '../databases/databases.sql.ts';
import type { Db } from '../db.ts';
import { notFound } from '../errors.ts';
import { afterCursor, toPage } from '../lib/page.ts';
import type { ObjectStorage } from '../storage/storage.ts';

export async function exportManifest(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  q: { databaseId?: string | undefined } & PageQuery,
  now: Date,
): Promise<ExportManifest> {
  // A succeeded backup always has both (set by its completion); a row without them is not offered.
  const where: SQL[] = [
    eq(backups.accountId, accountId),
    eq(backups.status, 'succeeded'),
    isNotNull(backups.sizeBytes),
    isNotNull(backups.sha256),
  ];
  if (q.databaseId) {
    // A deleted database counts: its backups stay until retention or the purge removes them.
    const [own] = await db
      .select({ id: databases.id })
      .from(databases)
      .where(and(eq(databases.id, q.databaseId), eq(databases.accountId, accountId)));
    if (!own) throw notFound('database');
    where.push(eq(backups.databaseId, q.databaseId));
  }
  // the whole export's size on every page; the links (one presigned URL each) a page at a time
  const [total] = await db
    .select({ backups: count(), totalBytes: sql<string>`coalesce(sum(${backups.sizeBytes}), 0)` })
    .from(backups)
    .where(and(...where));
  const limit = q.limit ?? PAGE_LIMIT_MAX;
  if (q.cursor) where.push(afterCursor(q.cursor, backups.startedAt, backups.id));
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
    .orderBy(desc(backups.startedAt), desc(backups.id))
    .limit(limit + 1);
  const page = toPage(
    rows,
    limit,
    (r) => r,
    (r) => [r.startedAt, r.id],
  );
  const items: ExportManifest['items'] = [];
  for (const r of page.items) {
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
      sizeBytes: r.sizeBytes ?? 0,
      sha256: r.sha256 ?? '',
      path,
      url: await storage.presignDownload(r.objectKey, fileName, EXPORT_LINK_TTL_SECONDS),
    });
  }
  return {
    accountId,
    generatedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + EXPORT_LINK_TTL_SECONDS * 1000).toISOString(),
    backups: total?.backups ?? 0,
    totalBytes: Number(total?.totalBytes ?? 0),
    items,
    nextCursor: page.nextCursor,
  };
}
