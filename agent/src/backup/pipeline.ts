// One backup's data path, streaming end to end with back-pressure:
//
//   dump tool stdout ─▶ zstd ─▶ encrypt (format/) ─▶ sink (hash, parts, upload or spool)
//
// No plaintext touches the disk: with the zstd program the dump's pipe goes straight into zstd,
// otherwise through node:zlib in memory. The sink's `finish` only means "all bytes are uploaded or
// spooled"; the backup counts as good only when, in addition, the dump tool and the compressor both
// exited cleanly. A dump that fails midway still ends its stdout normally (zstd and the encryptor
// then close a valid-looking file), which is exactly why the exit statuses decide, not the stream.

import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Compressor } from '../config.ts';
import type { DatabaseTarget, DumpProcess, Engine } from '../engines/index.ts';
import type { LogPosition } from '../engines/mysql-log-position.ts';
import { createEncryptStream, type EncryptionKey } from '../format/index.ts';
import { chooseCompression, type RunningCompressor, startCompressor } from './compress.ts';
import { dialectOf, tapTableStats } from './table-scan.ts';

export type PipelineOptions = {
  engine: Engine;
  target: DatabaseTarget;
  key: EncryptionKey;
  /** zstd level 1–19 */
  level: number;
  compressor: Compressor;
  sink: Writable;
  /**
   * Count and hash each table's rows on the way (SQL engines; FORMAT.md §12: the statistics line
   * ends the payload). The dump then passes through Node instead of straight into zstd.
   */
  tableStats?: boolean;
  signal?: AbortSignal;
  /** called once the tools run, e.g. to log which compressor was used */
  onStart?: (info: { compressor: string; dumpPid: number | undefined }) => void;
};

/**
 * Runs the dump through compression and encryption into the sink. Rejects with the first cause;
 * resolves with the dump's notes (files that changed while read, special files skipped).
 */
export async function runPipeline(
  opts: PipelineOptions,
): Promise<{ notes: string[]; logPosition: LogPosition | undefined }> {
  opts.signal?.throwIfAborted();
  const compression = await chooseCompression(opts.compressor);
  const dump: DumpProcess = await opts.engine.dump(opts.target);
  const dialect = opts.tableStats ? dialectOf(opts.engine.name) : undefined;
  const input = dialect ? tapTableStats(dump.stdout, dialect, { line: true }).output : dump.stdout;
  let compressor: RunningCompressor;
  try {
    compressor = startCompressor(input, opts.level, compression);
  } catch (error) {
    dump.kill();
    dump.stdout.destroy();
    await dump.done.catch(() => {});
    throw error;
  }
  opts.onStart?.({ compressor: compressor.description, dumpPid: dump.pid });

  const encrypt = createEncryptStream(opts.key, { compression: 'zstd' });
  const failures: unknown[] = [];
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    dump.kill();
    compressor.kill();
    if (!opts.sink.destroyed) opts.sink.destroy(new Error('backup stopped'));
    encrypt.destroy();
  };
  const onAbort = () => {
    failures.unshift(opts.signal!.reason);
    stop();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const watch = (p: Promise<unknown>) =>
    p.catch((error) => {
      failures.push(error);
      stop();
    });
  try {
    await Promise.all([
      watch(pipeline(compressor.stdout, encrypt, opts.sink)),
      watch(dump.done),
      watch(compressor.done),
    ]);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  // The first failure is the cause; the others followed from stopping everything.
  if (failures.length > 0) throw failures[0];
  return { notes: dump.notes ?? [], logPosition: dump.logPosition };
}
