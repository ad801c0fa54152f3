// A test restore: prove that a backup restores and holds what was dumped, without putting the
// customer's data or disk at risk.
//
//   1. check the whole file (key, every chunk) and read the per-table statistics it carries (a
//      deduplicated backup, read straight from storage or from its file, is scanned as it is read)
//   2. check free disk space on the server's data directory against the expected size
//   3. create the scratch database (resistro_verify_<id>), restore into it at low priority
//   4. dump the restored copy the same way and compare each table's row count and hash
//   5. run the customer's checks on it (read-only)
//   6. drop the scratch database: always, also after a failure, a cancel or the time limit
//
// The source database is never written: every write goes to the scratch database, whose name is
// checked to be one of ours before anything happens. The result is a verdict with reasons, never
// an exception: the daemon reports it, `resistro verify --restore` prints it.
import { statfs } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type {
  CheckResult,
  CustomCheck,
  RestoreTestErrorCode,
  RestoreTestPhase,
  RestoreTestVerdict,
} from '@resistro/contract';
import { createTableScanner, dialectOf, newStatsDigest, statsObject } from '../backup/table-scan.ts';
import { CONTAINER_VERSION, openContainer } from '../dedup/container.ts';
import type { RemoteBackup } from '../dedup/remote-read.ts';
import { type DatabaseTarget, ENGINE_NAMES, type Engine, EngineError, getEngine } from '../engines/index.ts';
import { defaultSpawn, type SpawnFn } from '../engines/process.ts';
import { UserError } from '../errors.ts';
import {
  type EncryptionKey,
  FormatError,
  statsDigest,
  type TableDigest,
  type TableStats,
  WrongKeyError,
} from '../format/index.ts';
import { formatBytes, formatDuration, type Logger } from '../log.ts';
import { restoreFile } from '../restore/into-database.ts';
import {
  checkBackupFile,
  type CheckResult as FileCheck,
  openSqlStream,
  readHeaderOf,
} from '../restore/restore.ts';
import { runChecks } from './checks.ts';
import { compareTables, type TableComparison } from './compare.ts';
import { lowPrioritySpawn } from './priority.ts';

export const SCRATCH_PREFIX = 'resistro_verify_';
/** room the restored copy needs beyond its rows: indexes, page overhead, the WAL of the load */
const SIZE_FACTOR = 2;
const DISK_MARGIN_BYTES = 256 * 1024 * 1024;

export type RestoreTestOptions = {
  /** the backup file, already on this machine (with `remote`: only the backup's name in messages) */
  path: string;
  /**
   * A deduplicated backup read straight from storage with ranged reads instead of a file: the test
   * then proves the chunks in storage, as a restore from the dashboard reads them.
   */
  remote?: RemoteBackup;
  size: number;
  backupId: string;
  key: EncryptionKey;
  /** how to reach the server the scratch database is made on (its `database`: where to connect) */
  server: DatabaseTarget;
  /** the database that was backed up, when on the same server: it must never be the scratch one */
  sourceDatabase?: string;
  scratchDatabase: string;
  checks: CustomCheck[];
  timeLimitMs: number;
  /** aborted = cancelled (by the user, or the agent stopping: then `reason` says which) */
  signal?: AbortSignal;
  log: Logger;
  jobs?: number;
  /** milliseconds the download took, counted into the restore time (the RTO includes it) */
  downloadMs?: number;
  /** when the whole test began (performance.now()), for totalMs */
  startedAt?: number;
  onPhase?: (phase: RestoreTestPhase) => void;
  /** tests: the spawn under the low-priority wrapper */
  spawn?: SpawnFn;
  /** tests only: alters the restored copy before it is compared (simulates a bad restore) */
  beforeVerify?: (scratch: DatabaseTarget) => Promise<void>;
};

/** A failure with its verdict code. */
export class RestoreTestFailure extends UserError {
  readonly testCode: RestoreTestErrorCode;
  constructor(code: RestoreTestErrorCode, message: string, hint: string, options?: ErrorOptions) {
    super(message, hint, options);
    this.testCode = code;
  }
}

export function isScratchName(name: string): boolean {
  return name.startsWith(SCRATCH_PREFIX) && /^[a-z0-9_]{17,63}$/.test(name);
}

/** The verdict code of anything that stopped a test. */
export function testErrorCode(error: unknown): RestoreTestErrorCode {
  if (error instanceof RestoreTestFailure) return error.testCode;
  if (error instanceof WrongKeyError) return 'wrong_key';
  if (error instanceof FormatError) return 'file_damaged';
  if (error instanceof EngineError) {
    if (error.code === 'input_failed' && error.cause instanceof FormatError)
      return testErrorCode(error.cause);
    if (error.code === 'connection_failed' || error.code === 'auth_failed') return 'connection_failed';
    if (error.code === 'permission_denied') return 'permission_denied';
    return 'restore_failed';
  }
  if (error instanceof UserError) return 'restore_failed';
  return 'internal';
}

function errorOf(error: unknown): NonNullable<RestoreTestVerdict['error']> {
  const e = error as Error & { hint?: string; stderr?: string };
  const message = [e.message ?? String(error), e.stderr?.trim()].filter(Boolean).join('\n');
  return {
    code: testErrorCode(error),
    message: message.slice(0, 8000),
    ...(e.hint && { hint: e.hint.slice(0, 2000) }),
  };
}

/** Every table's statistics from a dump of `t`, made with the same tool and read the same way. */
export async function dumpTableStats(
  engine: Engine,
  t: DatabaseTarget,
  dialect: TableStats['dialect'],
  signal?: AbortSignal,
  digest: TableDigest = { alg: 'sha256' },
) {
  signal?.throwIfAborted();
  const dump = await engine.dump(t);
  const scanner = createTableScanner(dialect, digest);
  const onAbort = () => dump.kill();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of dump.stdout) scanner.write(chunk as Buffer);
    await dump.done;
  } catch (error) {
    dump.kill();
    await dump.done.catch(() => {});
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return scanner.end();
}

/**
 * Step 1: every chunk of the backup read and checked, and what it holds. A deduplicated backup (its
 * version 3 file, or read from storage) carries no statistics of its own: its SQL is scanned here
 * as it is read, the way a dump of the restored copy is scanned afterwards, under a fresh digest
 * key; the comparison then proves that the copy holds exactly the rows the stored chunks hold.
 */
async function checkBackup(
  o: RestoreTestOptions,
  signal: AbortSignal,
): Promise<Pick<FileCheck, 'engine' | 'tableStats'>> {
  if (o.remote) return scanBackup(o.remote.open(), o.remote.manifest.meta?.engine, signal);
  if ((await readHeaderOf(o.path)).version === CONTAINER_VERSION) {
    const c = await openContainer(o.path, o.key);
    await c.fh.close();
    return scanBackup(await openSqlStream(o.path, o.key), c.manifest.meta?.engine, signal);
  }
  return checkBackupFile(o.path, o.key);
}

async function scanBackup(
  sql: Readable,
  madeBy: string | number | undefined,
  signal: AbortSignal,
): Promise<Pick<FileCheck, 'engine' | 'tableStats'>> {
  const engine = ENGINE_NAMES.find((n) => n === madeBy);
  const dialect = engine && dialectOf(engine);
  const digest = newStatsDigest();
  const scanner = dialect && createTableScanner(dialect, digest);
  const onAbort = () => sql.destroy(signal.reason as Error);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of sql) scanner?.write(chunk as Buffer);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return {
    engine,
    tableStats: dialect && scanner ? statsObject(dialect, digest, scanner.end()) : undefined,
  };
}

async function freeBytes(path: string): Promise<number | undefined> {
  try {
    const s = await statfs(path);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

const isLocalHost = (host: string) => ['localhost', '127.0.0.1', '::1', '[::1]'].includes(host);

export async function runRestoreTest(o: RestoreTestOptions): Promise<RestoreTestVerdict> {
  const began = o.startedAt ?? performance.now();
  const { log } = o;
  const spawn = lowPrioritySpawn(o.spawn ?? defaultSpawn);
  const engine = getEngine(o.server.engine, { spawn });
  const limit = AbortSignal.timeout(Math.max(1, Math.round(o.timeLimitMs)));
  const signal = o.signal ? AbortSignal.any([o.signal, limit]) : limit;
  const scratch: DatabaseTarget = { ...o.server, database: o.scratchDatabase };
  let created = false;
  let restoreMs: number | undefined;
  let tables: TableComparison = { checked: 0, failed: 0, failures: [] };
  let checks: CheckResult[] = [];
  let outcome: { status: RestoreTestVerdict['status']; error?: RestoreTestVerdict['error'] };
  const verdict = (): RestoreTestVerdict => ({
    status: outcome.status,
    backupId: o.backupId,
    ...(restoreMs !== undefined && { restoreMs }),
    totalMs: Math.round(performance.now() - began),
    tables,
    checks,
    ...(outcome.error && { error: outcome.error }),
  });
  const stopped = (): RestoreTestFailure | undefined => {
    if (!signal.aborted) return undefined;
    if (limit.aborted && !o.signal?.aborted)
      return new RestoreTestFailure(
        'time_limit',
        `the test restore took longer than its time limit (${formatDuration(o.timeLimitMs)})`,
        'Raise the time limit in the restore test settings, or test on a faster separate server.',
      );
    const reason = o.signal?.reason;
    if (reason instanceof RestoreTestFailure) return reason;
    return new RestoreTestFailure(
      'cancelled',
      'the test restore was cancelled',
      'Start it again when you like.',
    );
  };

  try {
    if (!isScratchName(o.scratchDatabase) || o.scratchDatabase === o.sourceDatabase)
      throw new RestoreTestFailure(
        'internal',
        `refusing to use "${o.scratchDatabase}" as the scratch database`,
        `Its name must start with ${SCRATCH_PREFIX} (lowercase letters, digits, _).`,
      );

    // ---- 1. the whole file, and what it says it holds
    o.onPhase?.('check');
    const file = await checkBackup(o, signal);
    const family = (e: string | undefined) => (e === 'postgres' ? 'postgres' : 'mysql');
    if (file.engine && family(file.engine) !== family(o.server.engine))
      throw new RestoreTestFailure(
        'restore_failed',
        `the backup was written by ${file.engine}, but the test server is ${o.server.engine}`,
        'Choose a target server of the same kind as the tested database.',
      );
    const stats = file.tableStats;
    if (!stats)
      throw new RestoreTestFailure(
        'no_table_stats',
        'this backup has no per-table row counts (made by an older agent, or with RESISTRO_TABLE_STATS=off)',
        'Update the agent and take a new backup; the next test restore uses it.',
      );
    signal.throwIfAborted();

    // ---- 2. room on the server for the copy
    const expected = stats.tables.reduce((n, t) => n + t.bytes, 0) * SIZE_FACTOR;
    if (isLocalHost(o.server.host)) {
      const dataDir = await engine.dataDirectory(o.server);
      const free = dataDir ? await freeBytes(dataDir) : undefined;
      if (free !== undefined && free < expected + DISK_MARGIN_BYTES)
        throw new RestoreTestFailure(
          'disk_space',
          `not enough free space for the test copy in ${dataDir}: about ${formatBytes(expected)} needed, ${formatBytes(free)} free`,
          'Free some space, or set a separate target server for restore tests of this database.',
        );
    }

    // ---- 3. the scratch database and the restore
    o.onPhase?.('restore');
    // A copy left by a killed run of this very test: the name is ours alone, so it goes.
    await engine.dropDatabase(o.server, o.scratchDatabase);
    await engine.createDatabase(o.server, o.scratchDatabase).catch((error) => {
      throw new RestoreTestFailure(
        error instanceof EngineError && error.code === 'permission_denied'
          ? 'permission_denied'
          : testErrorCode(error),
        `could not create the scratch database "${o.scratchDatabase}": ${(error as Error).message}`,
        o.server.engine === 'postgres'
          ? `Give the agent's user the CREATEDB privilege (ALTER ROLE "${o.server.user}" CREATEDB), or set a separate target server.`
          : `Grant the agent's user CREATE and DROP on ${SCRATCH_PREFIX}% databases (GRANT ALL ON \`${SCRATCH_PREFIX}%\`.* TO '${o.server.user}'), or set a separate target server.`,
        { cause: error },
      );
    });
    created = true;
    log.info(
      'verify.restoring',
      `restoring backup ${o.backupId} into the scratch database ${o.scratchDatabase}`,
      {
        backupId: o.backupId,
      },
    );
    const restoreStarted = performance.now();
    await restoreFile({
      path: o.path,
      size: o.size,
      key: o.key,
      target: scratch,
      replace: false,
      jobs: o.jobs,
      wipeOnFailure: false, // dropped below
      checked: true,
      spawn,
      log,
      signal,
      ...(o.remote && { remote: o.remote }),
    });
    restoreMs = Math.round(performance.now() - restoreStarted + (o.downloadMs ?? 0));
    signal.throwIfAborted();

    // ---- 4. the copy against the statistics taken while dumping
    o.onPhase?.('verify');
    await o.beforeVerify?.(scratch);
    const actual = await dumpTableStats(engine, scratch, stats.dialect, signal, statsDigest(stats));
    tables = compareTables(stats.tables, actual);
    signal.throwIfAborted();

    // ---- 5. the customer's checks
    checks = await runChecks(engine, scratch, o.checks, signal);
    const passed = tables.failed === 0 && checks.every((c) => c.passed);
    log[passed ? 'info' : 'warn'](
      'verify.verdict',
      passed
        ? `test restore of backup ${o.backupId} passed: ${tables.checked} tables match, ${checks.length} checks held, restored in ${formatDuration(restoreMs)}`
        : `test restore of backup ${o.backupId} failed: ${tables.failed} of ${tables.checked} tables differ, ${checks.filter((c) => !c.passed).length} of ${checks.length} checks failed`,
      { backupId: o.backupId, restoreMs, tablesFailed: tables.failed },
    );
    outcome = { status: passed ? 'passed' : 'failed' };
  } catch (thrown) {
    const error = stopped() ?? thrown;
    const code = testErrorCode(error);
    if (code === 'internal')
      log.error('verify.crashed', `internal error in the test restore: ${(error as Error).stack ?? error}`);
    else
      log.warn(
        'verify.error',
        `test restore of backup ${o.backupId} could not finish (${code}): ${(error as Error).message}`,
      );
    outcome = { status: code === 'cancelled' ? 'cancelled' : 'error', error: errorOf(error) };
  } finally {
    if (created) {
      o.onPhase?.('cleanup');
      // Not under the test's signal: the drop must happen even after a cancel or the time limit.
      await getEngine(o.server.engine, { spawn })
        .dropDatabase(o.server, o.scratchDatabase)
        .then(() => log.info('verify.dropped', `dropped the scratch database ${o.scratchDatabase}`))
        .catch((error) =>
          log.error(
            'verify.drop-failed',
            `could not drop the scratch database ${o.scratchDatabase}: ${(error as Error).message}`,
            { hint: `Drop it by hand: DROP DATABASE ${o.scratchDatabase};` },
          ),
        );
    }
  }
  return verdict();
}
