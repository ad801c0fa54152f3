// The downloadable single file of a deduplicated backup (FORMAT.md §13.7), streamed together from
// stored ciphertext in manifest order without any key: the version 3 prefix, the manifest object,
// then per chunk reference a u32 length and the blob, read out of its pack with ranged reads of
// whole runs of adjacent chunks. The link is signed (lib/file-link.ts). When the primary storage
// lost an object or is down, the manifest and each run are read from their verified copies in the
// account's second storage location (docs/second-location.md), if it has them: the same bytes.
import { backupFileName } from '@resistro/contract';
import type { Db } from '../db.ts';
import type { Config } from '../env.ts';
import { ApiError } from '../errors.ts';
import type { ObjectStorage } from '../storage/storage.ts';
import { copyReader, type Fallback, type Range } from './copies.ts';
import { readPlan } from './dedup.ts';

/** The primary's bytes, or the copy's when the primary has none or fails. */
async function readEither(storage: ObjectStorage, fallback: Fallback, key: string, range?: Range) {
  try {
    const data = await storage.getObject(key, range);
    if (data) return data;
  } catch (e) {
    if (!(e instanceof ApiError) || e.code !== 'storage_error') throw e;
    const copy = await fallback.read(key, range).catch(() => undefined);
    if (copy) return copy;
    throw e;
  }
  return fallback.read(key, range);
}

const MAGIC = [0x89, 0x52, 0x45, 0x53, 0x49, 0x53, 0x54, 0x52, 0x4f, 0x0d, 0x0a, 0x1a];
const PREFIX_LENGTH = 24;

/** The file's response: its bytes stream from storage as the client reads them. */
export async function streamBackupFile(
  db: Db,
  storage: ObjectStorage,
  config: Config,
  row: {
    id: string;
    accountId: string;
    objectKey: string;
    sizeBytes: number | null;
    databaseName: string;
    startedAt: Date;
  },
): Promise<Response> {
  const plan = await readPlan(db, row.id);
  const fallback = await copyReader(db, config, row, [...new Set(plan.runs.map((r) => r.objectKey))]);
  const manifestBytes = row.sizeBytes ?? 0;
  const prefix = new Uint8Array(PREFIX_LENGTH);
  prefix.set(MAGIC, 0);
  prefix[12] = 3;
  new DataView(prefix.buffer).setBigUint64(16, BigInt(manifestBytes));
  const total = PREFIX_LENGTH + manifestBytes + plan.bodyBytes;
  let step = -1;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (step === -1) {
          controller.enqueue(prefix);
          const manifest = await readEither(storage, fallback, row.objectKey);
          if (!manifest) throw new Error('the manifest object is missing');
          for await (const b of manifest as unknown as AsyncIterable<Uint8Array>) controller.enqueue(b);
          step = 0;
          return;
        }
        const run = plan.runs[step];
        if (!run) {
          controller.close();
          return;
        }
        step++;
        const data = await readEither(storage, fallback, run.objectKey, { start: run.start, end: run.end });
        if (!data) throw new Error(`pack ${run.objectKey} is missing`);
        const bytes = new Uint8Array(await new Response(data).arrayBuffer());
        if (bytes.length !== run.end - run.start)
          throw new Error(`pack ${run.objectKey} is shorter than indexed`);
        let at = 0;
        for (const length of run.lengths) {
          const record = new Uint8Array(4 + length);
          new DataView(record.buffer).setUint32(0, length);
          record.set(bytes.subarray(at, at + length), 4);
          at += length;
          controller.enqueue(record);
        }
      } catch (error) {
        // The client sees a cut file (its reader says "truncated"), never a complete-looking one.
        controller.error(error);
      }
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      'content-type': 'application/octet-stream',
      'content-length': String(total),
      'content-disposition': `attachment; filename="${backupFileName(row.databaseName, row.startedAt)}"`,
      'cache-control': 'no-store',
    },
  });
}
