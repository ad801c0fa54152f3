// A parallel backup's data path: the engine's sections (one snapshot), N at a time, largest first,
// each streaming dump tool ─▶ zstd ─▶ its section of one version 2 archive (format/sections.ts) ─▶
// the sink (hash, parts, upload or spool), exactly as the single stream does:
//
//   pg_dump --section=pre-data ─▶ zstd ─┐
//   pg_dump --table=big1       ─▶ zstd ─┼─▶ ArchiveWriter (segments, TOC) ─▶ BackupSink
//   pg_dump --table=big2 ...   ─▶ zstd ─┘
//
// No plaintext touches the disk (each dump's pipe goes straight into its zstd), memory is one
// segment per running section plus the sink's parts, and back-pressure reaches every dump tool. A
// section counts only when its dump tool and compressor both exited cleanly; the first failure
// stops everything and the archive never gets its table of contents (FORMAT.md §11.6).

import type { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { Compressor } from '../config.ts';
import type { DatabaseTarget, ParallelDump } from '../engines/index.ts';
import { ArchiveWriter, type EncryptionKey } from '../format/index.ts';
import { chooseCompression, type RunningCompressor, startCompressor } from './compress.ts';
import { newStatsDigest, type StatsTap, statsObject, type TableStat, tapTableStats } from './table-scan.ts';

export type ParallelPipelineOptions = {
  plan: ParallelDump;
  target: DatabaseTarget;
  key: EncryptionKey;
  /** zstd level 1–19 */
  level: number;
  compressor: Compressor;
  /** how many sections dump at once */
  jobs: number;
  sink: Writable;
  /** count and hash each table's rows in the data sections (FORMAT.md §12: into the TOC) */
  tableStats?: boolean;
  signal?: AbortSignal;
  onStart?: (info: { compressor: string; sections: number; jobs: number }) => void;
  /** called as each section's dump starts (for the log: which process, which compressor) */
  onSection?: (info: {
    index: number;
    name: string;
    dumpPid: number | undefined;
    compressor: string;
  }) => void;
};

export type ParallelResult = { sections: number; bytes: number };

/** Runs every section; resolves once the archive is complete and the sink finished. */
export async function runParallelPipeline(opts: ParallelPipelineOptions): Promise<ParallelResult> {
  opts.signal?.throwIfAborted();
  const { plan, sink } = opts;
  const compression = await chooseCompression(opts.compressor);
  const writer = new ArchiveWriter(opts.key, sink, { compression: 'zstd' });
  const streams = plan.sections.map((s) => writer.section(s.kind, s.name, s.meta));
  // Largest first (longest-processing-time scheduling); the schema sections are quick.
  const order = plan.sections
    .map((_, i) => i)
    .sort((a, b) => plan.sections[b]!.estimatedBytes - plan.sections[a]!.estimatedBytes);
  const jobs = Math.max(1, Math.min(opts.jobs, order.length));
  const running = new Set<{ kill(): void }>();
  const tablesOf: TableStat[][] = plan.sections.map(() => []);
  // one key for the whole backup: the TOC holds one statistics object
  const digest = newStatsDigest();
  let description = '';
  let failure: unknown;
  const fail = (error: unknown) => {
    if (failure !== undefined) return;
    failure = error;
    for (const r of running) r.kill();
    for (const s of streams) if (!s.destroyed) s.destroy();
    if (!sink.destroyed) sink.destroy(new Error('backup stopped'));
  };
  const onAbort = () => fail(opts.signal!.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  // The sink is written by the archive, not piped: its errors (an upload that failed for good, or
  // its destruction on a stop) arrive here, and stop everything else.
  const onSinkError = (error: Error) => fail(error);
  sink.on('error', onSinkError);

  const runSection = async (index: number) => {
    const dump = await plan.start(index);
    const tap: StatsTap | undefined =
      opts.tableStats && plan.sections[index]!.kind === 'data'
        ? tapTableStats(dump.stdout, 'postgres', { line: false, digest })
        : undefined;
    let compressor: RunningCompressor;
    try {
      compressor = startCompressor(tap?.output ?? dump.stdout, opts.level, compression);
    } catch (error) {
      dump.kill();
      dump.stdout.destroy();
      await dump.done.catch(() => {});
      throw error;
    }
    description ||= compressor.description;
    const section = plan.sections[index]!;
    opts.onSection?.({
      index,
      name: section.name ? `${section.kind} ${section.name}` : section.kind,
      dumpPid: dump.pid,
      compressor: compressor.description,
    });
    const handle = {
      kill() {
        dump.kill();
        compressor.kill();
      },
    };
    running.add(handle);
    try {
      const results = await Promise.allSettled([
        pipeline(compressor.stdout, streams[index]!),
        dump.done,
        compressor.done,
      ]);
      // The tools' own failure is the cause; a broken pipe follows from it.
      const failed =
        results[1].status === 'rejected'
          ? results[1]
          : results[2].status === 'rejected'
            ? results[2]
            : results[0];
      if (failed.status === 'rejected') throw failed.reason;
      if (tap) tablesOf[index] = tap.stats().tables;
    } finally {
      running.delete(handle);
    }
  };

  let next = 0;
  const worker = async () => {
    while (failure === undefined && next < order.length) {
      const index = order[next++]!;
      await runSection(index).catch(fail);
    }
  };
  try {
    const workers = Array.from({ length: jobs }, worker);
    opts.onStart?.({ compressor: description || 'zstd', sections: order.length, jobs });
    await Promise.all(workers);
    if (failure !== undefined) throw failure;
    await writer.finish(
      plan.meta,
      opts.tableStats ? statsObject('postgres', digest, tablesOf.flat()) : undefined,
    );
    sink.end();
    await finished(sink);
    return { sections: order.length, bytes: writer.bytes };
  } catch (error) {
    fail(error);
    throw failure;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    // Keep a listener: a destroyed sink may still report its error after this returned.
    sink.off('error', onSinkError);
    sink.on('error', () => {});
    await plan.close().catch((error: unknown) => {
      // The snapshot session failing after every dump succeeded changes nothing about the data.
      if (failure === undefined) failure = error;
    });
  }
}
