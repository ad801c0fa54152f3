// Replaying a backup file into a database: the one path `resistro restore` and the daemon's
// restores from the dashboard both take. PostgreSQL restores in one transaction (a damaged file or
// a stop rolls everything back, a replace included); MySQL/MariaDB cannot roll back DDL, so the
// whole file is checked before the server sees a statement.
import { availableParallelism } from 'node:os';
import type { Readable } from 'node:stream';
import { findZstdProgram } from '../backup/compress.ts';
import type { Compressor } from '../config.ts';
import { CONTAINER_VERSION } from '../dedup/container.ts';
import { type ContainerSections, openContainerSections } from '../dedup/container-sections.ts';
import { createReadLimit, type ReadLimit, type RemoteBackup, readsInFlight } from '../dedup/remote-read.ts';
import { type DatabaseTarget, EngineError, getEngine, targetNotEmpty } from '../engines/index.ts';
import { createPostgresSessions } from '../engines/postgres.ts';
import type { SpawnFn } from '../engines/process.ts';
import { type EncryptionKey, FormatError, openArchive, SECTIONED_VERSION } from '../format/index.ts';
import { formatBytes, formatDuration, type Logger } from '../log.ts';
import { createProgress } from '../progress.ts';
import { archiveSource, restoreSectionsParallel, type SectionSource } from './parallel.ts';
import { checkBackupFile, openSqlStream, readHeaderOf } from './restore.ts';

export type RestorePhase = 'check' | 'data' | 'indexes';

export type RestoreFileOptions = {
  path: string;
  size: number;
  key: EncryptionKey;
  target: DatabaseTarget;
  replace: boolean;
  /**
   * PostgreSQL, sectioned backups: connections to restore over (default: this machine's cores, at
   * most 8). 1, or `replace`, restores in one transaction instead (restore/parallel.ts).
   */
  jobs?: number;
  /**
   * A failed parallel restore empties the target again (default). false: the caller drops the
   * target itself (a database it created for this restore), so that step is left to it.
   */
  wipeOnFailure?: boolean;
  /**
   * RESISTRO_COMPRESSOR: with the zstd program installed (and not 'node'), a sectioned backup's
   * sections are decompressed by it straight into psql, outside the agent.
   */
  compressor?: Compressor;
  log: Logger;
  signal: AbortSignal;
  /** file bytes read, while checking (MySQL) and while restoring */
  onFileBytes?: (n: number, phase: RestorePhase) => void;
  /** the restore moved on to another phase */
  onPhase?: (phase: RestorePhase) => void;
  /** how the client tools start (a test restore runs them at low priority: verify/priority.ts) */
  spawn?: SpawnFn;
  /** MySQL/MariaDB: the caller checked the whole file already (skip the second reading) */
  checked?: boolean;
  /**
   * The backup from elsewhere than the file at `path` (then only a name in messages): a
   * deduplicated backup read straight from storage (dedup/remote-read.ts). PostgreSQL: its
   * sections are restored in parallel as a version 2 archive's are (or, with jobs 1 or `replace`,
   * in one transaction). MySQL/MariaDB: read twice, the first time to check every chunk before
   * the server sees a statement (as a file is checked).
   */
  remote?: RemoteBackup;
};

/**
 * pg_dump writes every row before the indexes and constraints of the post-data section: the first
 * CREATE INDEX or ADD CONSTRAINT after a COPY is where building indexes begins. (mysqldump keeps
 * keys inside CREATE TABLE, so a MySQL restore stays in `data`.)
 */
export function createPhaseWatcher(onIndexes: () => void): (chunk: Buffer) => void {
  let sawData = false;
  let done = false;
  return (chunk) => {
    if (done) return;
    const text = chunk.toString('latin1');
    const from = sawData ? 0 : text.search(/^COPY /m);
    if (from < 0) return;
    sawData = true;
    if (/^(CREATE (UNIQUE )?INDEX |\s+ADD CONSTRAINT )/m.test(text.slice(from))) {
      done = true;
      onIndexes();
    }
  };
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

/** One connection per core of this machine (the database server, normally), at most 8. */
export function defaultRestoreJobs(): number {
  return Math.min(availableParallelism(), 8);
}

/** sqlBytes: undefined when the zstd program decompressed the SQL outside the agent */
export async function restoreFile(
  o: RestoreFileOptions,
): Promise<{ sqlBytes: number | undefined; durationMs: number }> {
  const { path, size, key, target, log, signal } = o;
  const engine = getEngine(target.engine, { spawn: o.spawn });
  const jobs = o.jobs ?? defaultRestoreJobs();
  if (
    target.engine === 'postgres' &&
    jobs > 1 &&
    !o.replace &&
    (o.remote !== undefined ||
      [SECTIONED_VERSION, CONTAINER_VERSION].includes((await readHeaderOf(path)).version))
  ) {
    return await restoreParallel(o, jobs);
  }
  if (target.engine !== 'postgres') {
    // Reach the server first: a wrong port, user, password or a non-empty database shows at once,
    // not after the whole file was checked.
    if (!o.replace && !(await engine.isEmpty(target))) throw targetNotEmpty(target);
  }
  if (target.engine !== 'postgres' && !o.checked && o.remote) {
    o.onPhase?.('check');
    const checking = createProgress(log, 'checking', size);
    const checked = await checkStream(
      o.remote.open({
        onFileBytes: (n) => {
          checking.add(n);
          o.onFileBytes?.(n, 'check');
        },
        onSqlBytes: () => {},
      }),
      signal,
    ).finally(() => checking.done());
    log.info('restore.checked', `${path} is intact (${formatBytes(checked)} of SQL, every chunk read)`, {
      sqlBytes: checked,
    });
  } else if (target.engine !== 'postgres' && !o.checked) {
    o.onPhase?.('check');
    const checking = createProgress(log, 'checking', size);
    const check = await checkBackupFile(path, key, (n) => {
      checking.add(n);
      o.onFileBytes?.(n, 'check');
    }).finally(() => checking.done());
    log.info(
      'restore.checked',
      `${path} is intact (key ${check.keyId}, ${formatBytes(check.sqlBytes)} of SQL)`,
      {
        keyId: check.keyId,
        sqlBytes: check.sqlBytes,
      },
    );
  }
  signal.throwIfAborted();
  const started = performance.now();
  const restoring = createProgress(log, `restoring into ${target.database}`, size);
  log.info(
    'restore.started',
    `restoring into ${target.engine} ${target.host}:${target.port}/${target.database} as ${target.user}${o.replace ? ' (replacing its contents)' : ''}`,
  );
  let sqlBytes = 0;
  let phase: RestorePhase = 'data';
  o.onPhase?.('data');
  const watch =
    target.engine === 'postgres'
      ? createPhaseWatcher(() => {
          phase = 'indexes';
          o.onPhase?.('indexes');
        })
      : undefined;
  const counters = {
    onFileBytes: (n: number) => {
      restoring.add(n);
      o.onFileBytes?.(n, phase);
    },
    onSqlBytes: (n: number) => {
      sqlBytes += n;
    },
    ...(watch && { onSqlChunk: watch }),
  };
  const sql = o.remote ? o.remote.open(counters) : await openSqlStream(path, key, counters);
  const onAbort = () => sql.destroy(signal.reason as Error);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await engine.restore(target, sql, { replace: o.replace });
  } catch (error) {
    // A damaged file surfaces as the SQL input failing: report the file's problem itself.
    if (error instanceof EngineError && error.code === 'input_failed' && error.cause instanceof FormatError) {
      log.warn(
        'restore.rolled-back',
        'the backup file is damaged; the restore was stopped before it could commit: nothing was restored',
      );
      throw error.cause;
    }
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    restoring.done();
  }
  const durationMs = performance.now() - started;
  log.info(
    'restore.done',
    `restored ${formatBytes(sqlBytes)} of SQL into ${target.database} in ${formatDuration(durationMs)}`,
    {
      durationMs: Math.round(durationMs),
      maxRssKb: process.resourceUsage().maxRSS,
    },
  );
  return { sqlBytes, durationMs };
}

/** Reads a stream of SQL to its end (each chunk authenticated on the way); its length. */
async function checkStream(sql: Readable, signal: AbortSignal): Promise<number> {
  let n = 0;
  const onAbort = () => sql.destroy(signal.reason as Error);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of sql) n += (chunk as Buffer).length;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return n;
}

/**
 * A sectioned PostgreSQL backup (a version 2 file, a deduplicated backup's version 3 file, or a
 * deduplicated backup read from storage) over `jobs` connections; the target must be empty
 * (parallel.ts).
 */
async function restoreParallel(
  o: RestoreFileOptions,
  jobs: number,
): Promise<{ sqlBytes: number | undefined; durationMs: number }> {
  const { path, size, key, target, log, signal, remote } = o;
  // With the zstd program, sections reach psql through it still compressed (a deduplicated
  // backup's chunks as their zstd frames, back to back), never decompressed in the agent.
  const zstd = o.compressor === 'node' ? undefined : await findZstdProgram();
  signal.throwIfAborted();
  const started = performance.now();
  const restoring = createProgress(log, `restoring into ${target.database} (${jobs} connections)`, size);
  log.info(
    'restore.started',
    `restoring into ${target.engine} ${target.host}:${target.port}/${target.database} as ${target.user} over ${jobs} connections`,
  );
  let sqlBytes = 0;
  let fileBytes = 0;
  let phase: RestorePhase = 'data';
  o.onPhase?.('data');
  const onFileBytes = (n: number) => {
    fileBytes += n;
    restoring.add(n);
    o.onFileBytes?.(n, phase);
  };
  const open = remote
    ? async () => {
        onFileBytes(remote.manifestBytes); // read when the backup was opened
        return remoteSource(remote, onFileBytes, createReadLimit(readsInFlight(jobs)), zstd !== undefined);
      }
    : async () =>
        (await readHeaderOf(path)).version === CONTAINER_VERSION
          ? containerSource(await openContainerSections(path, key), onFileBytes, zstd !== undefined)
          : archiveSource(await openArchive(path, key), { zstd, onFileBytes });
  const result = await restoreSectionsParallel(open, target, {
    jobs,
    sessions: createPostgresSessions({ spawn: o.spawn }),
    log,
    signal,
    onSqlBytes: (n) => {
      sqlBytes += n;
    },
    wipeOnFailure: o.wipeOnFailure ?? true,
    zstd,
    onPostData: () => {
      phase = 'indexes';
      o.onPhase?.('indexes');
    },
  }).finally(() => restoring.done());
  // The header, the table of contents and the trailer were read too (before any section).
  if (size > fileBytes) o.onFileBytes?.(size - fileBytes, phase);
  const durationMs = performance.now() - started;
  log.info(
    'restore.done',
    `restored ${zstd ? `a ${formatBytes(size)} backup` : `${formatBytes(sqlBytes)} of SQL`} (${result.sections} sections) into ${target.database} in ${formatDuration(durationMs)} over ${jobs} connections`,
    {
      durationMs: Math.round(durationMs),
      maxRssKb: process.resourceUsage().maxRSS,
      jobs,
      decompressor: zstd ? `zstd ${zstd.version} (program)` : 'node:zlib',
      agentCpuMs: Math.round(cpuMs(process.cpuUsage())),
    },
  );
  return { sqlBytes: zstd ? undefined : sqlBytes, durationMs };
}

/** A downloaded deduplicated backup's sections (a version 3 file), each read on its own. */
export function containerSource(
  file: ContainerSections,
  onFileBytes: (n: number) => void,
  compressed: boolean,
): SectionSource {
  onFileBytes(file.bodyStart); // the prefix and the manifest, read when it was opened
  return {
    sections: file.manifest.sections.map((s) => ({ kind: s.kind, name: s.name, bytes: s.plaintextBytes })),
    compressed,
    read: (index, r) => file.read(index, { frames: compressed && r?.plain !== true, onFileBytes }),
  };
}

/**
 * A deduplicated backup's sections, each read from storage on its own; all share `limit`.
 * `compressed`: as zstd frames, for the zstd program.
 */
export function remoteSource(
  remote: RemoteBackup,
  onFileBytes: (n: number) => void,
  limit: ReadLimit,
  compressed: boolean,
): SectionSource {
  return {
    sections: remote.manifest.sections.map((s) => ({ kind: s.kind, name: s.name, bytes: s.plaintextBytes })),
    compressed,
    read: (index, r) =>
      remote.openSection(index, { onFileBytes }, limit, { frames: compressed && r?.plain !== true }),
  };
}
