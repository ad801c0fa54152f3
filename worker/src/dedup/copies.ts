// A deduplicated backup's verified copies in the account's second storage location
// (docs/second-location.md): its manifest (backup_copies) and the packs it needs
// (dedup_pack_copies), both written by retention/copies.ts. Downloads and restores read from them
// what the primary storage lost or cannot serve.
import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db.ts';
import type { Config } from '../env.ts';
import { findLocation, locationStorage } from '../retention/location.ts';
import { backupCopies, dedupPackCopies } from '../retention/retention.sql.ts';

export type Range = { start: number; end: number };
export type Fallback = {
  read(key: string, range?: Range): Promise<ReadableStream<Uint8Array> | undefined>;
  /** whether the location holds a verified copy of the object */
  has(key: string): boolean;
  /** a download URL of the copy */
  presign(key: string, fileName: string, ttlSeconds: number): Promise<string>;
};

/**
 * Reads from the second location's copies: the manifest if the backup's copy is verified, a pack
 * if its copy is. Looked up before the response starts (the request's database pool closes when
 * the handler returns, while the body still streams).
 */
export async function copyReader(
  db: Db,
  config: Config,
  row: { id: string; accountId: string },
  packKeys: string[],
): Promise<Fallback> {
  const none: Fallback = {
    read: async () => undefined,
    has: () => false,
    presign: () => Promise.reject(new Error('no copy')),
  };
  const location = await findLocation(db, row.accountId);
  if (!location) return none;
  const [manifest] = await db
    .select({ objectKey: backupCopies.objectKey })
    .from(backupCopies)
    .where(
      and(
        eq(backupCopies.backupId, row.id),
        eq(backupCopies.bucket, location.bucket),
        eq(backupCopies.status, 'copied'),
      ),
    );
  const packs =
    packKeys.length === 0
      ? []
      : await db
          .select({ objectKey: dedupPackCopies.objectKey })
          .from(dedupPackCopies)
          .where(
            and(
              eq(dedupPackCopies.accountId, row.accountId),
              eq(dedupPackCopies.bucket, location.bucket),
              inArray(dedupPackCopies.objectKey, packKeys),
            ),
          );
  const keys = new Set([...(manifest ? [manifest.objectKey] : []), ...packs.map((p) => p.objectKey)]);
  if (keys.size === 0) return none;
  const dest = await locationStorage(config, location);
  return {
    read: async (key, range) => (keys.has(key) ? dest.getObject(key, range) : undefined),
    has: (key) => keys.has(key),
    presign: (key, fileName, ttl) => dest.presignDownload(key, fileName, ttl),
  };
}
