// Restoring a sectioned (version 2) PostgreSQL backup over N sessions:
//
//   1. pre-data                   one session, one transaction
//   2. the data sections          N sessions, largest first, one transaction each, which first
//                                 gives its tables new storage (TRUNCATE, as pg_restore -j does) so
//                                 that COPY keeps the backup's row order
//   3. post-data, in three waves  indexes/constraints grouped by table over N sessions, then the
//                                 foreign keys over N sessions, then the rest on one session
//
// N transactions cannot commit together, so the all-or-nothing guarantee comes from the target
// instead: it must be empty, and on any failure (a damaged section, a failing statement, a stop)
// every session is killed and everything the restore created is dropped again (PG_WIPE_SQL), so
// the database is as empty as it was. With --replace (the old contents must survive a failure)
// or -j 1, all sections go through one psql in one transaction, as a version 1 file does.
//
// Where the sections come from is a SectionSource: a version 2 archive on disk (its sections'
// segments), or a deduplicated backup read straight from storage (each section's chunks with
// ranged reads, dedup/remote-read.ts). The scheduling, the waves and the wipe are the same.
import { Readable } from 'node:stream';
import { type DatabaseTarget, EngineError, type ToolInfo, targetNotEmpty } from '../engines/index.ts';
import type { PostgresSessions } from '../engines/postgres.ts';
import { freshTablesSql } from '../engines/postgres-parallel.ts';
import {
  type Archive,
  type EncryptionKey,
  openArchive,
  readSection,
  type SectionKind,
} from '../format/index.ts';
import type { Logger } from '../log.ts';
import { type DumpEntry, type DumpFragment, postDataWaves, scriptOf, splitFragment } from './post-data.ts';

export type ParallelRestoreOptions = {
  jobs: number;
  sessions: PostgresSessions;
  log: Logger;
  signal?: AbortSignal;
  onFileBytes?: (n: number) => void;
  onSqlBytes?: (n: number) => void;
  /** false: on failure, leave emptying the target to the caller (it drops the database) */
  wipeOnFailure?: boolean;
  /** the data is in; indexes and constraints are being built */
  onPostData?: () => void;
  /**
   * The zstd program: sections are decompressed by it on their way into psql, never passing through
   * Node (their SQL is then not counted by onSqlBytes). Without it, node:zlib decompresses.
   */
  zstd?: ToolInfo;
};

export type ParallelRestoreResult = { sections: number; postDataStatements: number; jobs: number };

/** One section of a source: what the scheduler needs to order it. */
export type RestoreSection = {
  kind: SectionKind;
  /** '' for pre-data/post-data; the qualified table name(s) for data */
  name: string;
  /** its size (for ordering: largest first); payload bytes, compressed or not */
  bytes: number;
};

/** The sections of one backup, in restore order, each readable on its own (and several at once). */
export type SectionSource = {
  sections: readonly RestoreSection[];
  /** true: read() gives each section zstd-compressed, for the zstd program in front of psql */
  compressed: boolean;
  /**
   * Section `index`'s SQL (checked as it is read; a damaged part fails the stream), compressed when
   * `compressed` unless `plain`. Nothing may be read before the stream is consumed: an error must
   * never fire while nobody listens.
   */
  read(index: number, o?: { plain?: boolean }): Readable;
};

/** A version 2 archive's sections (with the zstd program: still compressed). */
export function archiveSource(
  archive: OpenArchive,
  o: { zstd?: ToolInfo | undefined; onFileBytes?: ((n: number) => void) | undefined },
): SectionSource {
  const compressed = o.zstd !== undefined && archive.header.compression === 'zstd';
  return {
    sections: archive.toc.sections.map((s) => ({ kind: s.kind, name: s.name, bytes: s.plaintextBytes })),
    compressed,
    read: (index, r) =>
      readSection(archive, index, {
        onFileBytes: o.onFileBytes,
        decompress: !compressed || r?.plain === true,
      }),
  };
}

type OpenArchive = Awaited<ReturnType<typeof openArchive>>;

/** Runs `task` over `items`, `jobs` at a time; the first failure stops taking new items. */
async function pool<T>(
  items: readonly T[],
  jobs: number,
  task: (item: T) => Promise<void>,
  stopped: () => boolean,
) {
  let next = 0;
  const worker = async () => {
    while (!stopped() && next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
}

export type Task = { size: number; ready: () => boolean; run: () => Promise<void> };

/**
 * Runs `tasks` over `jobs` workers: each free worker takes the first ready task (data sections are
 * listed first, largest first, then index groups, largest table first); a worker with nothing ready
 * waits until another task finishes. The first failure stops taking new tasks.
 */
export async function schedule(tasks: readonly Task[], jobs: number, stopped: () => boolean) {
  const pending = [...tasks];
  let running = 0;
  let waiting: (() => void)[] = [];
  const wakeAll = () => {
    const w = waiting;
    waiting = [];
    for (const resolve of w) resolve();
  };
  const worker = async () => {
    while (!stopped() && pending.length > 0) {
      const i = pending.findIndex((t) => t.ready());
      if (i < 0) {
        // Nothing is ready and nothing runs that could make it so: a bug, never a hang.
        if (running === 0) throw new Error('restore scheduling: tasks wait for data that no session loads');
        await new Promise<void>((resolve) => waiting.push(resolve));
        continue;
      }
      const [task] = pending.splice(i, 1);
      running++;
      try {
        await task!.run();
      } finally {
        running--;
        wakeAll();
      }
    }
    wakeAll();
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, tasks.length)) }, worker));
}

export async function restoreArchiveParallel(
  path: string,
  key: EncryptionKey,
  target: DatabaseTarget,
  opts: ParallelRestoreOptions,
): Promise<ParallelRestoreResult> {
  return restoreSectionsParallel(
    async () =>
      archiveSource(await openArchive(path, key), { zstd: opts.zstd, onFileBytes: opts.onFileBytes }),
    target,
    opts,
  );
}

/**
 * Restores the sections of `open`'s source over `opts.jobs` sessions into the (empty) target.
 * `opts.zstd` is used for sections the source gives compressed; `opts.onFileBytes` is the source's.
 */
export async function restoreSectionsParallel(
  open: () => Promise<SectionSource>,
  target: DatabaseTarget,
  opts: ParallelRestoreOptions,
): Promise<ParallelRestoreResult> {
  const { sessions, log } = opts;
  // Side by side: opening the source (reading the table of contents), and asking the server whether
  // the target is empty (a psql session of its own; on a busy machine starting one takes a
  // noticeable while). The source's own problem (a wrong key, a damaged header) is the one
  // reported when both fail.
  const [opened, empty] = await Promise.allSettled([open(), sessions.isEmpty(target)]);
  if (opened.status === 'rejected') throw opened.reason;
  if (empty.status === 'rejected') throw empty.reason;
  if (!empty.value) throw targetNotEmpty(target);
  const source = opened.value;
  const sections = source.sections.map((s, index) => ({ ...s, index }));
  const pre = sections.filter((s) => s.kind === 'pre-data');
  const data = sections.filter((s) => s.kind === 'data').sort((a, b) => b.bytes - a.bytes);
  const post = sections.filter((s) => s.kind === 'post-data');

  const live = new Set<Readable>();
  // Stops every session's programs, including one whose input is all handed over already.
  const stopSessions = new AbortController();
  let failure: unknown;
  const stopped = () => failure !== undefined;
  const fail = (error: unknown) => {
    if (failure !== undefined) return;
    failure = error;
    // Destroying a session's input kills its psql before it could commit (feedStdin); the signal
    // kills the ones that are past their input (still loading, building an index, or hanging).
    for (const input of live) input.destroy(new Error('restore stopped'));
    stopSessions.abort(new Error('restore stopped'));
  };
  const onAbort = () => fail(opts.signal!.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  /** One session, one transaction; the error (or undefined), without failing the restore. */
  const t0 = performance.now();
  const seconds = (ms: number) => Number((ms / 1000).toFixed(2));
  const attempt = async (
    sql: Readable,
    label: string,
    compressed = false,
    first?: string,
  ): Promise<unknown> => {
    if (stopped()) {
      sql.destroy();
      return undefined;
    }
    // Until psql's stdin takes it (after an await in `sessions.run`), a stop must not raise an
    // unhandled 'error'; feedStdin sees the stream destroyed and kills that psql at once.
    sql.on('error', () => {});
    live.add(sql);
    const start = performance.now();
    try {
      await sessions.run(target, sql, {
        singleTransaction: true,
        first,
        zstd: compressed ? opts.zstd : undefined,
        signal: stopSessions.signal,
      });
      // Where a restore's time goes: each session's work with its start and length.
      log.debug('restore.step', `${label}: ${seconds(performance.now() - start)} s`, {
        step: label,
        startS: seconds(start - t0),
        seconds: seconds(performance.now() - start),
      });
      return undefined;
    } catch (error) {
      // A damaged section surfaces as psql's input failing: the file's error is the cause.
      return inputCause(error) ?? error;
    } finally {
      live.delete(sql);
    }
  };
  const run = async (sql: Readable, label: string, compressed = false, first?: string) => {
    const error = await attempt(sql, label, compressed, first);
    if (error === undefined) return;
    log.debug('restore.session-failed', `${label} failed`);
    fail(error);
  };
  /**
   * Two foreign keys between the same two tables can deadlock (each locks both); the server
   * then aborts one transaction, which is simply run again (up to three times).
   */
  const runScript = async (script: string, label: string) => {
    for (let tries = 1; ; tries++) {
      const error = await attempt(Readable.from([script]), label);
      if (error === undefined) return;
      if (tries < 3 && /deadlock detected/.test((error as Error).message ?? '')) continue;
      log.debug('restore.session-failed', `${label} failed`);
      fail(error);
      return;
    }
  };
  // Counted on the way through, lazily: nothing is read before psql's stdin asks for it.
  const counted = (stream: Readable): Readable => {
    const onSql = opts.onSqlBytes;
    if (!onSql) return stream;
    return Readable.from(
      (async function* () {
        for await (const chunk of stream) {
          onSql((chunk as Buffer).length);
          yield chunk as Buffer;
        }
      })(),
      { objectMode: false },
    );
  };

  // A compressed section goes to its session as it is (zstd -d feeds psql).
  type Section = (typeof sections)[number];
  const sectionSql = (s: Section) =>
    source.compressed ? source.read(s.index) : counted(source.read(s.index));
  const runSection = (s: Section, label: string, first?: string) =>
    run(sectionSql(s), label, source.compressed, first);
  // A data section's tables get new storage in its own transaction first (freshTablesSql): its COPY
  // then lays the rows down in the order of the backup, and the restored table dumps as the source.
  const ownTables = data.filter((s) => s.name !== '*').map((s) => s.name);
  const fresh = (s: Section) => freshTablesSql(s.name === '*' ? { except: ownTables } : { only: [s.name] });

  let statements = 0;
  try {
    // Post-data is small: read it while pre-data runs, so that a table's indexes can be built as
    // soon as that table's data is in, while other sessions still load theirs (as pg_restore -j does).
    const readPost = async () => {
      const texts: string[] = [];
      for (const s of post) texts.push(await readText(source, s.index));
      return texts;
    };
    const [, postRead] = await Promise.allSettled([
      (async () => {
        for (const s of pre) await runSection(s, 'pre-data');
      })(),
      readPost(),
    ]);
    // A damaged post-data section fails the restore once pre-data's session has ended.
    if (postRead.status === 'rejected') throw postRead.reason;
    const postTexts = postRead.value;
    const fragments: { fragment: DumpFragment; waves: ReturnType<typeof postDataWaves> }[] = [];
    for (const text of postTexts) {
      if (stopped()) break;
      const fragment = splitFragment(text);
      opts.onSqlBytes?.(
        Buffer.byteLength(fragment.preamble) +
          fragment.entries.reduce((n, e) => n + Buffer.byteLength(e.sql), 0),
      );
      statements += fragment.entries.length;
      fragments.push({ fragment, waves: postDataWaves(fragment) });
    }
    const loaded = new Set<string>();
    let dataLeft = data.length;
    const dataTasks: Task[] = data.map((s) => ({
      size: s.bytes,
      ready: () => true,
      run: async () => {
        await runSection(s, `data ${s.name}`, fresh(s));
        loaded.add(s.name);
        if (--dataLeft === 0 && !stopped()) opts.onPostData?.();
      },
    }));
    if (dataLeft === 0 && !stopped()) opts.onPostData?.();
    const own = new Set(data.map((s) => s.name));
    const indexTasks: Task[] = fragments.flatMap(({ fragment, waves }) => {
      // A table with its own data section waits for that section only, in a session of its own.
      const tasks: Task[] = waves.groups
        .filter((g) => own.has(g[0]!.table!))
        .map((g) => {
          const table = g[0]!.table!;
          return {
            size: data.find((d) => d.name === table)?.bytes ?? 0,
            ready: () => loaded.has(table),
            run: () => runScript(scriptOf(fragment, g), `indexes of ${table}`),
          };
        });
      // Any other (its data is in the "*" section, which holds small tables only, or its name is
      // not one we can match) waits for all data. Their groups are dealt into at most `jobs`
      // sessions instead of one each: every session costs a psql start and a connection, more than
      // a small table's index build.
      const rest = waves.groups.filter((g) => !own.has(g[0]!.table!));
      const batches = Array.from({ length: Math.min(opts.jobs, rest.length) }, () => [] as DumpEntry[]);
      rest.forEach((g, i) => {
        batches[i % batches.length]!.push(...g);
      });
      for (const batch of batches)
        tasks.push({
          size: 0,
          ready: () => dataLeft === 0,
          run: () =>
            runScript(
              scriptOf(fragment, batch),
              `indexes of ${[...new Set(batch.map((e) => e.table))].join(', ')}`,
            ),
        });
      return tasks;
    });
    indexTasks.sort((a, b) => b.size - a.size);
    await schedule([...dataTasks, ...indexTasks], opts.jobs, stopped);
    for (const { fragment, waves } of fragments) {
      if (stopped()) break;
      await pool(
        waves.foreignKeys,
        opts.jobs,
        (e) => runScript(scriptOf(fragment, [e]), `foreign key ${e.name}`),
        stopped,
      );
      if (waves.rest.length > 0 && !stopped()) await runScript(scriptOf(fragment, waves.rest), 'post-data');
    }
    if (failure !== undefined) throw failure;
  } catch (error) {
    fail(error);
    if (opts.wipeOnFailure === false) throw failure;
    // Nothing half-restored stays behind: the target was empty; make it so again.
    log.warn('restore.cleanup', 'the restore failed: dropping everything it created in the target database');
    await sessions.wipe(target).catch((wipeError: unknown) => {
      log.error(
        'restore.cleanup-failed',
        `could not empty the target database again: ${(wipeError as Error).message}`,
      );
    });
    throw failure;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  return { sections: sections.length, postDataStatements: statements, jobs: opts.jobs };
}

function inputCause(error: unknown): unknown {
  if (error instanceof EngineError && error.code === 'input_failed') return error.cause;
  // feedStdin rejects with the input's own error (a FormatError for a damaged section).
  return undefined;
}

/** A (small, post-data) section's whole text. */
async function readText(source: SectionSource, index: number): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of source.read(index, { plain: true })) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

export type { Archive };
