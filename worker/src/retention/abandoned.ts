// Cron: a running backup past its deadline was abandoned (agent stopped, killed, cut off). Its
// multipart upload is aborted first, and only then is the backup failed and the upload id
// dropped: if the abort fails, the row stays running with its upload id and the next run retries,
// so no upload's parts are ever forgotten in the bucket.
import { sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import type { ObjectStorage } from '../storage/storage.ts';

export const ABANDONED_PER_RUN = 100;
export const ABANDONED_ERROR =
  'The agent did not finish this backup before its deadline (stopped, killed or lost its connection)';

export async function failAbandonedBackups(
  db: Db,
  store: ObjectStorage,
  now: Date,
  limit = ABANDONED_PER_RUN,
): Promise<number> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.execute<{ id: string; object_key: string; upload_id: string | null }>(sql`
      select id, object_key, upload_id from backups
      where status = 'running' and deadline_at < ${now.toISOString()}::timestamptz
      order by deadline_at
      limit ${limit}
      for update skip locked`);
    const aborted: string[] = [];
    for (const r of rows) {
      try {
        if (r.upload_id) await store.abortMultipartUpload(r.object_key, r.upload_id);
        aborted.push(r.id);
      } catch (e) {
        console.error('abort of an abandoned upload failed; retrying next run', r.id, e);
      }
    }
    if (aborted.length === 0) return 0;
    const at = now.toISOString();
    const { rows: failed } = await tx.execute<{ database_id: string }>(sql`
      update backups set status = 'failed', upload_id = null, error = ${ABANDONED_ERROR}, finished_at = ${at}::timestamptz,
             duration_ms = least(2147483647, greatest(0, extract(epoch from (${at}::timestamptz - started_at)) * 1000))::int
      where id in ${aborted} and status = 'running'
      returning database_id`);
    const databaseIds = [...new Set(failed.map((r) => r.database_id))];
    if (databaseIds.length > 0) {
      await tx.execute(
        sql`update databases set last_status = 'failed', last_error = ${ABANDONED_ERROR} where id in ${databaseIds}`,
      );
    }
    return failed.length;
  });
}
