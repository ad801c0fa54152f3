// `resistro verify --restore`: the test restore of the daemon, on demand from the command line.
//   --backup <id>  fetches the backup (a deduplicated one is read straight from storage, not
//                  downloaded); the server is the backed-up database's own (its connection
//                  settings from the control plane), the scratch database is made there
//   --file <path>  a local file; the server is given like for `restore` (--host, --port, --user,
//                  --database: where to connect; the scratch database is made beside it)
// Prints the verdict with its reasons; exit 0 only when the test passed.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PORTS, type RestoreTestVerdict, scratchDatabaseName } from '@resistro/contract';
import type { CommandInput } from '../command.ts';
import { createAgentContext, resolveTarget } from '../context.ts';
import { heartbeat } from '../daemon/heartbeat.ts';
import { openRemoteBackup, type RemoteBackup, readsInFlight } from '../dedup/remote-read.ts';
import { type DatabaseTarget, type EngineName, SQL_ENGINES } from '../engines/index.ts';
import { EXIT_USER, UsageError, UserError } from '../errors.ts';
import { checkInputFile } from '../input-file.ts';
import { decryptionKey } from '../key-file.ts';
import { formatDuration } from '../log.ts';
import { downloadBackup } from '../restore/download.ts';
import { defaultRestoreJobs } from '../restore/into-database.ts';
import { peekBackupFile } from '../restore/restore.ts';
import { createAgents, type HttpAgents } from '../upload/http.ts';
import { runRestoreTest } from '../verify/restore-test.ts';
import { passwordFor } from './restore.ts';

const DEFAULT_TIME_LIMIT_MINUTES = 120;

export async function runVerifyRestore(input: CommandInput): Promise<number> {
  const { options, config, log, signal, out } = input;
  const file = options.file as string | undefined;
  const backupId = options.backup as string | undefined;
  if ((file === undefined) === (backupId === undefined))
    throw new UsageError(
      'verify --restore needs either --backup <backup id> or --file <backup.resistro>',
      'Example: resistro verify --restore --backup 0f9c…',
    );
  const limitText = (options['time-limit'] as string | undefined) ?? String(DEFAULT_TIME_LIMIT_MINUTES);
  if (!/^\d{1,4}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 1440)
    throw new UsageError('--time-limit must be 1–1440 minutes', 'Leave it out for 120 minutes.');
  const key = decryptionKey(config, options['key-file'] as string | undefined);
  const started = performance.now();
  const testId = randomUUID();

  let tempDir: string | undefined;
  let agents: HttpAgents | undefined;
  let remote: RemoteBackup | undefined;
  try {
    let path: string;
    let server: DatabaseTarget;
    let downloadMs = 0;
    let id: string;
    if (backupId) {
      if (!/^[0-9a-f-]{36}$/i.test(backupId))
        throw new UsageError(
          `--backup ${backupId.slice(0, 40)} is not a backup id`,
          'Copy the id from the dashboard.',
        );
      const ctx = await createAgentContext(config, log);
      const { backup } = await ctx.api.getBackup(backupId);
      const work = (await heartbeat(ctx)).databases.find((d) => d.id === backup.databaseId);
      if (!work)
        throw new UserError(
          `backup ${backupId} is of database "${backup.databaseName}", which is not assigned to this agent`,
          'Run the test on the agent of that database (its settings and credentials are there).',
        );
      if (!SQL_ENGINES.includes(work.engine) || !['postgres', 'mysql', 'mariadb'].includes(work.engine))
        throw new UserError(
          `test restores are for PostgreSQL, MySQL and MariaDB databases; "${work.name}" is ${work.engine}`,
          'Restore it with resistro restore and check it by hand.',
        );
      server = await resolveTarget(ctx, work);
      id = backupId;
      if (backup.dedup) {
        // Deduplicated: its chunks straight from storage with ranged reads, nothing on disk.
        agents = createAgents(readsInFlight(defaultRestoreJobs()));
        remote = await openRemoteBackup({ plan: () => ctx.api.dedupReads(backupId), key, agents, signal });
        path = `backup ${backupId}`;
      } else {
        tempDir = await mkdtemp(join(tmpdir(), 'resistro-verify-'));
        const downloading = performance.now();
        path = await downloadBackup(backupId, tempDir, ctx.api, log, signal);
        downloadMs = Math.round(performance.now() - downloading);
      }
      ctx.agents.destroy();
    } else {
      path = file!;
      await checkInputFile(path);
      server = await serverFromOptions(input, (await peekBackupFile(path, key)).engine);
      id = '00000000-0000-4000-8000-000000000000'; // a local file has no backup id
    }
    const size = remote ? remote.storedBytes : await checkInputFile(path);
    const verdict = await runRestoreTest({
      path,
      size,
      ...(remote && { remote }),
      backupId: id,
      key,
      server,
      sourceDatabase: server.database,
      scratchDatabase: scratchDatabaseName(testId),
      checks: [],
      timeLimitMs: Number(limitText) * 60_000,
      signal,
      log,
      downloadMs,
      startedAt: started,
    });
    out(
      options.json === true
        ? `${JSON.stringify(verdict)}\n`
        : formatVerdict(verdict, backupId ? `backup ${backupId}` : path),
    );
    return verdict.status === 'passed' ? 0 : EXIT_USER;
  } finally {
    agents?.destroy();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
}

async function serverFromOptions(
  input: CommandInput,
  sniffed: EngineName | undefined,
): Promise<DatabaseTarget> {
  const { options, env } = input;
  const database = options.database as string | undefined;
  const user = options.user as string | undefined;
  if (!database || !user)
    throw new UsageError(
      'verify --restore --file needs the server: --host, --port, --user and --database (to connect to; the scratch database is made beside it)',
      'Example: resistro verify --restore --file shop.resistro --host localhost --port 5432 --user postgres --database shop',
    );
  const engine = (options.engine as EngineName | undefined) ?? sniffed;
  if (!engine || !['postgres', 'mysql', 'mariadb'].includes(engine))
    throw new UsageError(
      'cannot tell which database server the backup is for',
      'Pass --engine postgres, --engine mysql or --engine mariadb.',
    );
  const portText = options.port as string | undefined;
  if (
    portText !== undefined &&
    (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)
  )
    throw new UsageError(
      '--port must be 1–65535',
      'The defaults are 5432 (PostgreSQL) and 3306 (MySQL/MariaDB).',
    );
  return {
    engine,
    host: (options.host as string | undefined) ?? 'localhost',
    port: portText ? Number(portText) : DEFAULT_PORTS[engine],
    database,
    user,
    password: await passwordFor(engine, env, Boolean(options['no-password'])),
  };
}

const REASONS = {
  rows_differ: 'row count differs',
  content_differs: 'content differs',
  missing: 'missing in the restored copy',
  unexpected: 'not in the backup',
} as const;

/** The verdict as the user reads it: what was proven, or what failed and why. */
export function formatVerdict(v: RestoreTestVerdict, what: string): string {
  const lines: string[] = [];
  const head = { passed: 'PASSED', failed: 'FAILED', error: 'ERROR', cancelled: 'CANCELLED' }[v.status];
  lines.push(`${head}  test restore of ${what}`);
  if (v.restoreMs !== undefined)
    lines.push(`  restore time: ${formatDuration(v.restoreMs)} (the measured recovery time)`);
  if (v.tables.checked > 0 || v.status !== 'error')
    lines.push(
      `  tables: ${v.tables.checked} checked, ${v.tables.failed === 0 ? 'all match the row counts and checksums taken while backing up' : `${v.tables.failed} differ`}`,
    );
  for (const f of v.tables.failures) {
    const counts =
      f.expectedRows !== undefined || f.actualRows !== undefined
        ? ` (backed up ${f.expectedRows ?? '-'} rows, restored ${f.actualRows ?? '-'})`
        : '';
    lines.push(`    ${f.table}: ${REASONS[f.reason]}${counts}`);
  }
  if (v.checks.length > 0) {
    lines.push(`  checks: ${v.checks.filter((c) => c.passed).length} of ${v.checks.length} held`);
    for (const c of v.checks.filter((c) => !c.passed))
      lines.push(`    ${c.id}: ${c.error ? `error: ${c.error}` : `got ${c.actual}`}`);
  }
  if (v.error) {
    lines.push(`  ${v.error.code}: ${v.error.message}`);
    if (v.error.hint) lines.push(`  hint: ${v.error.hint}`);
  }
  lines.push(`  total: ${formatDuration(v.totalMs)}`);
  return `${lines.join('\n')}\n`;
}
