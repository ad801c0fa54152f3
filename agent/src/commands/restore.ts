// `resistro restore`: a backup file (or a backup fetched from the service) into a database.
// read → decrypt → decompress → psql/mysql, streaming; see restore.ts for how a damaged file is
// kept out of the database for each engine.

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PORTS } from '@resistro/contract';
import type { CommandInput } from '../command.ts';
import { CONTAINER_VERSION, openContainer } from '../dedup/container.ts';
import { openContainerSections } from '../dedup/container-sections.ts';
import { sectionName } from '../dedup/manifest.ts';
import {
  createReadLimit,
  openRemoteBackup,
  READS_IN_FLIGHT,
  type RemoteBackup,
  readsInFlight,
} from '../dedup/remote-read.ts';
import { type DatabaseTarget, ENGINE_NAMES, type EngineName, SQL_ENGINES } from '../engines/index.ts';
import { UsageError } from '../errors.ts';
import { type EncryptionKey, openArchive, SECTIONED_VERSION } from '../format/index.ts';
import { checkInputFile } from '../input-file.ts';
import { decryptionKey } from '../key-file.ts';
import { formatBytes } from '../log.ts';
import { createProgress } from '../progress.ts';
import { promptPassword } from '../prompt.ts';
import { downloadBackup, findRestorableBackup } from '../restore/download.ts';
import { containerSource, defaultRestoreJobs, remoteSource, restoreFile } from '../restore/into-database.ts';
import { checkBackupFile, peekBackupFile, readHeaderOf } from '../restore/restore.ts';
import { restoreSource } from '../restore/restore-source.ts';
import { createAgentApi } from '../upload/client.ts';
import { createAgents, type HttpAgents } from '../upload/http.ts';
import { runMysqlPitr, runPitrFromPlane } from './restore-pitr-mysql.ts';
import { restoreTables, type TableSource } from './restore-tables.ts';

export async function run(input: CommandInput): Promise<number> {
  const { options, config, log, env, signal, out } = input;
  if (options.pitr === true && options['data-dir'] !== undefined) {
    const { runPgPitr } = await import('./restore-pitr-postgres.ts');
    return runPgPitr(input);
  }
  if (options.pitr === true && options.from !== undefined) {
    if (options.file !== undefined || options.backup !== undefined)
      throw new UsageError(
        'restore --pitr --from picks the dump itself; leave out --file and --backup',
        'Use --file with --segments to restore from local copies instead.',
      );
    return runPitrFromPlane(input);
  }
  const file = options.file as string | undefined;
  const backupId = options.backup as string | undefined;
  const database = options.database as string | undefined;
  const user = options.user as string | undefined;
  if ((file === undefined) === (backupId === undefined)) {
    throw new UsageError(
      'restore needs either --file <backup.resistro> or --backup <backup id>',
      'Run "resistro restore --help".',
    );
  }
  const listOnly = options.list === true;
  const tables = (options.table as string[] | undefined) ?? [];
  if (options.as !== undefined && tables.length !== 1)
    throw new UsageError(
      '--as goes with exactly one --table',
      'Example: --table public.orders --as orders_restored',
    );
  if (listOnly && tables.length > 0)
    throw new UsageError(
      '--list and --table do not go together',
      'Run --list first, then --table <schema.table>.',
    );
  const jobs = parseJobs(options.jobs as string | undefined);
  const fileTarget = options['target-file'] !== undefined || options['target-dir'] !== undefined;
  if (!listOnly && !fileTarget && (!database || !user)) {
    throw new UsageError(
      'restore needs --database <name> and --user <user> (or, for SQLite, Redis and directory backups, --target-file / --target-dir)',
      'Example: resistro restore --file backup-shop-2026-05-16.resistro --host localhost --port 5432 --database shop --user postgres',
    );
  }
  const engineOption = options.engine as string | undefined;
  if (engineOption !== undefined && !ENGINE_NAMES.includes(engineOption as EngineName)) {
    throw new UsageError(
      `--engine must be one of ${ENGINE_NAMES.join(', ')}`,
      'Leave it out to read the engine from the dump.',
    );
  }
  const portOption = options.port as string | undefined;
  if (portOption !== undefined && !/^\d{1,5}$/.test(portOption))
    throw new UsageError(
      '--port must be a number (1–65535)',
      'The defaults are 5432 (PostgreSQL) and 3306 (MySQL/MariaDB).',
    );
  if (portOption !== undefined && (Number(portOption) < 1 || Number(portOption) > 65535))
    throw new UsageError(
      '--port must be 1–65535',
      'The defaults are 5432 (PostgreSQL) and 3306 (MySQL/MariaDB).',
    );
  const key = decryptionKey(config, options['key-file'] as string | undefined);

  let path = file!;
  let tempDir: string | undefined;
  let agents: HttpAgents | undefined;
  try {
    if (backupId) {
      const client = createAgentApi({ endpoint: config.endpoint, apiKey: config.apiKey! });
      const backup = await findRestorableBackup(backupId, client);
      // A deduplicated backup's contents: its manifest alone, read from storage.
      if (backup.dedup && listOnly) {
        agents = createAgents(READS_IN_FLIGHT);
        const remote = await openRemoteBackup({
          plan: () => client.dedupReads(backupId),
          key,
          agents,
          signal,
        });
        await remote.checkStored();
        out(listRemote(backupId, remote));
        return 0;
      }
      // A deduplicated backup into a database: its chunks straight from storage, no file between.
      if (backup.dedup && tables.length === 0 && options.pitr !== true && !fileTarget) {
        agents = createAgents(readsInFlight(jobs));
        const remote = await openRemoteBackup({
          plan: () => client.dedupReads(backupId),
          key,
          agents,
          signal,
        });
        return await restoreRemote(input, { backupId, remote, jobs, engineOption, portOption });
      }
      // Single tables of a deduplicated backup: the manifest, then only the chunks of the sections
      // those tables need (the schema and their own), with ranged reads; nothing on disk.
      if (backup.dedup && tables.length > 0 && options.pitr !== true && !fileTarget) {
        agents = createAgents(READS_IN_FLIGHT);
        const remote = await openRemoteBackup({
          plan: () => client.dedupReads(backupId),
          key,
          agents,
          signal,
        });
        const target = await remoteTarget(input, { backupId, remote, engineOption, portOption });
        return await restoreTables(input, {
          from: `backup ${backupId}`,
          source: {
            kind: 'sections',
            openedBytes: remote.manifestBytes,
            open: (onFileBytes) => remoteSource(remote, onFileBytes, createReadLimit(READS_IN_FLIGHT), false),
          },
          target,
          tables,
          listCommand: `resistro restore --backup ${backupId} --list`,
        });
      }
      tempDir = await mkdtemp(join(tmpdir(), 'resistro-restore-'));
      path = await downloadBackup(backupId, tempDir, client, log, signal);
    }

    const size = await checkInputFile(path);
    if (listOnly) {
      out(await listBackup(path, key, size, log));
      return 0;
    }
    // The first SQL says which engine wrote the dump (and a wrong key is refused right here).
    const peek = await peekBackupFile(path, key);
    const engineName = (engineOption as EngineName | undefined) ?? peek.engine ?? engineFromPort(portOption);
    if (!engineName) {
      throw new UsageError(
        'cannot tell which database the dump is for',
        'Pass --engine postgres, --engine mysql or --engine mariadb.',
      );
    }
    if (options.pitr === true) {
      if (engineName !== 'mysql' && engineName !== 'mariadb')
        throw new UsageError(
          `restore --pitr with a dump file is for MySQL/MariaDB; this backup is ${engineName}`,
          'Run "resistro restore --help" for point-in-time recovery of PostgreSQL.',
        );
      if (!database || !user)
        throw new UsageError(
          'restore --pitr needs --database <name> and --user <user>',
          'The database is the (empty) one the dump and the log are restored into.',
        );
      const password = await passwordFor(engineName, env, Boolean(options['no-password']));
      return await runMysqlPitr(input, { path, engine: engineName, key, password });
    }
    if (!SQL_ENGINES.includes(engineName)) {
      return await restoreSource({ engineName, path, key, size, options, log, signal, out });
    }
    if (!database || !user) {
      throw new UsageError(
        'restore needs --database <name> and --user <user>',
        'Example: resistro restore --file backup-shop-2026-05-16.resistro --host localhost --port 5432 --database shop --user postgres',
      );
    }
    if (
      engineOption &&
      peek.engine &&
      engineFamily(engineOption as EngineName) !== engineFamily(peek.engine)
    ) {
      throw new UsageError(
        `the dump was written by ${peek.engine}, but --engine says ${engineOption}`,
        'Leave --engine out, or restore into the right kind of server.',
      );
    }
    const target: DatabaseTarget = {
      engine: engineName,
      host: (options.host as string | undefined) ?? 'localhost',
      port: portOption ? Number(portOption) : DEFAULT_PORTS[engineName],
      database: database!,
      user: user!,
      password: await passwordFor(engineName, env, Boolean(options['no-password'])),
    };
    if (tables.length > 0) {
      const header = await readHeaderOf(path);
      let source: TableSource;
      if (header.version === CONTAINER_VERSION) {
        // A downloaded deduplicated backup: only its sections the tables need are read from it.
        const sections = await openContainerSections(path, key);
        source = {
          kind: 'sections',
          openedBytes: 0,
          open: (onFileBytes) => containerSource(sections, onFileBytes, false),
        };
      } else source = { kind: 'file', path, key, version: header.version };
      return await restoreTables(input, {
        from: path,
        source,
        target,
        tables,
        listCommand: backupId
          ? `resistro restore --backup ${backupId} --list`
          : `resistro restore --file ${path} --list`,
      });
    }
    await restoreFile({
      path,
      size,
      key,
      target,
      replace: Boolean(options.replace),
      jobs,
      compressor: config.compressor,
      log,
      signal,
    });
    out(`restored ${path} into ${engineName} ${target.host}:${target.port}/${target.database}\n`);
    return 0;
  } finally {
    agents?.destroy();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
}

/**
 * A deduplicated backup, read from storage with ranged reads, into the database. PostgreSQL as its
 * sections (restore/parallel.ts); MySQL/MariaDB (which cannot roll back DDL) after a first reading
 * checked every chunk.
 */
async function restoreRemote(
  input: CommandInput,
  o: {
    backupId: string;
    remote: RemoteBackup;
    jobs: number;
    engineOption: string | undefined;
    portOption: string | undefined;
  },
): Promise<number> {
  const { options, config, log, signal, out } = input;
  const { remote } = o;
  const target = await remoteTarget(input, o);
  const chosen = target.engine;
  const chunks = remote.manifest.sections.reduce((n, s) => n + s.chunks.length, 0);
  log.info(
    'restore.remote',
    `reading backup ${o.backupId} straight from storage (deduplicated: ${chunks} chunks, ${formatBytes(remote.storedBytes)}; every chunk is checked as it is read)`,
    { backupId: o.backupId, chunks },
  );
  await restoreFile({
    path: `backup ${o.backupId}`,
    size: remote.storedBytes,
    key: decryptionKey(config, options['key-file'] as string | undefined),
    target,
    replace: Boolean(options.replace),
    jobs: o.jobs,
    compressor: config.compressor,
    log,
    signal,
    remote,
  });
  out(`restored backup ${o.backupId} into ${chosen} ${target.host}:${target.port}/${target.database}\n`);
  return 0;
}

/** The target of a deduplicated backup read from storage: its engine from the manifest. */
async function remoteTarget(
  input: CommandInput,
  o: {
    backupId: string;
    remote: RemoteBackup;
    engineOption: string | undefined;
    portOption: string | undefined;
  },
): Promise<DatabaseTarget> {
  const { options, env } = input;
  const recorded = o.remote.manifest.meta?.engine;
  const made = ENGINE_NAMES.find((n) => n === recorded && SQL_ENGINES.includes(n));
  if (!made)
    throw new UsageError(
      `backup ${o.backupId} was made by ${recorded ?? 'an unknown engine'}, which this resistro cannot restore into a database`,
      'Upgrade resistro, or download the backup and decrypt it.',
    );
  const chosen = (o.engineOption as EngineName | undefined) ?? made;
  if (engineFamily(chosen) !== engineFamily(made))
    throw new UsageError(
      `the dump was written by ${made}, but --engine says ${chosen}`,
      'Leave --engine out, or restore into the right kind of server.',
    );
  return {
    engine: chosen,
    host: (options.host as string | undefined) ?? 'localhost',
    port: o.portOption ? Number(o.portOption) : DEFAULT_PORTS[chosen],
    database: options.database as string,
    user: options.user as string,
    password: await passwordFor(chosen, env, Boolean(options['no-password'])),
  };
}

/** -j/--jobs: 1..64; default one per core of this machine (normally the database server), at most 8. */
function parseJobs(text: string | undefined): number {
  if (text === undefined) return defaultRestoreJobs();
  if (!/^\d{1,2}$/.test(text) || Number(text) < 1 || Number(text) > 64)
    throw new UsageError(
      '--jobs must be a number from 1 to 64',
      'Leave it out to use one connection per CPU core.',
    );
  return Number(text);
}

/**
 * What the backup holds, after the whole file was checked: its tables with their row counts
 * (FORMAT.md §12), and for a sectioned file its sections.
 */
async function listBackup(
  path: string,
  key: EncryptionKey,
  size: number,
  log: CommandInput['log'],
): Promise<string> {
  const checking = createProgress(log, `checking ${path}`, size);
  const check = await checkBackupFile(path, key, (n) => checking.add(n)).finally(() => checking.done());
  const lines = [
    `${path}: intact (key ${check.keyId}), format version ${check.version}, ${check.engine ?? 'unknown engine'}, ${formatBytes(check.sqlBytes)} of SQL`,
  ];
  const stats = check.tableStats;
  if (!stats) {
    lines.push(
      'no per-table row counts in this backup (made before resistro 0.3, or with RESISTRO_TABLE_STATS=off)',
    );
  } else {
    const total = stats.tables.reduce((n, t) => n + t.rows, 0);
    lines.push(`${stats.tables.length} tables, ${total} rows:`);
    const width = Math.max(4, ...stats.tables.map((t) => String(t.rows).length));
    lines.push(`  ${'rows'.padStart(width)}  table`);
    for (const t of stats.tables) lines.push(`  ${String(t.rows).padStart(width)}  ${t.name}`);
  }
  if (check.version === SECTIONED_VERSION) {
    const archive = await openArchive(path, key);
    lines.push(`${archive.toc.sections.length} sections (sizes compressed):`);
    for (const s of archive.toc.sections) {
      const what =
        s.kind === 'data'
          ? s.name === '*'
            ? `data of ${s.meta?.tables ?? 'the other'} smaller tables, sequences, large objects`
            : `data ${s.name}`
          : s.kind;
      lines.push(`${String(s.index).padStart(4)}  ${formatBytes(s.plaintextBytes).padStart(10)}  ${what}`);
    }
  }
  if (check.version === CONTAINER_VERSION) {
    const c = await openContainer(path, key);
    await c.fh.close();
    lines.push(`${c.manifest.sections.length} sections, deduplicated (sizes of SQL):`);
    c.manifest.sections.forEach((s, i) => {
      lines.push(
        `${String(i).padStart(4)}  ${formatBytes(s.plaintextBytes).padStart(10)}  ${s.chunks.length} chunks  ${sectionName(s)}`,
      );
    });
  }
  return `${lines.join('\n')}\n`;
}

/**
 * What a deduplicated backup holds, from its manifest alone (authenticated under the key); the
 * service's index and the packs were checked (checkStored), no chunk was read.
 */
function listRemote(backupId: string, remote: RemoteBackup): string {
  const { manifest } = remote;
  const chunks = manifest.sections.reduce((n, s) => n + s.chunks.length, 0);
  const sql = manifest.sections.reduce((n, s) => n + s.plaintextBytes, 0);
  const lines = [
    `backup ${backupId}: manifest intact (key ${remote.header.keyId}), deduplicated, ${manifest.meta?.engine ?? 'unknown engine'}, ${formatBytes(sql)} of SQL in ${chunks} chunks (${formatBytes(remote.storedBytes)} read from storage by a restore)`,
    `every chunk indexed and its pack in storage; chunks not read ("resistro check --backup ${backupId} --read-data" reads and authenticates every one)`,
    'no per-table row counts in deduplicated backups',
    `${manifest.sections.length} sections, deduplicated (sizes of SQL):`,
  ];
  manifest.sections.forEach((s, i) => {
    lines.push(
      `${String(i).padStart(4)}  ${formatBytes(s.plaintextBytes).padStart(10)}  ${s.chunks.length} chunks  ${sectionName(s)}`,
    );
  });
  return `${lines.join('\n')}\n`;
}

function engineFamily(name: EngineName): string {
  if (!SQL_ENGINES.includes(name)) return name;
  return name === 'postgres' ? 'postgres' : 'mysql';
}

function engineFromPort(port: string | undefined): EngineName | undefined {
  if (port === '5432') return 'postgres';
  if (port === '3306') return 'mysql';
  return undefined;
}

/**
 * PGPASSWORD / MYSQL_PWD from the environment; else nothing when ~/.pgpass or ~/.my.cnf can
 * answer; else a prompt on a terminal. SECURITY: never from argv (ps shows it to every user).
 */
export async function passwordFor(
  engine: EngineName,
  env: NodeJS.ProcessEnv,
  noPrompt: boolean,
): Promise<string | undefined> {
  const fromEnv = engine === 'postgres' ? env.PGPASSWORD : env.MYSQL_PWD;
  if (fromEnv !== undefined) return fromEnv;
  const home = env.HOME ?? homedir();
  const optionFile =
    engine === 'postgres' ? (env.PGPASSFILE ?? join(home, '.pgpass')) : join(home, '.my.cnf');
  if (noPrompt || existsSync(optionFile) || !process.stdin.isTTY) return undefined;
  return promptPassword(`Password for the database user (${engine}): `);
}
