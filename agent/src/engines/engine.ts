// One interface for every database engine the agent backs up. Each engine drives the vendor's own
// command-line tools (pg_dump/psql, mysqldump/mysql, mariadb-dump/mariadb): they know every object
// type and quirk of their server, and a customer can replay our output with the same tools by hand.
import type { Readable } from 'node:stream';
import type { SourceSettings } from '@resistro/contract';
import { UserError } from '../errors.ts';
import type { ConnectionCheckResult } from './check.ts';
import type { LogPosition } from './mysql-log-position.ts';
import type { SpawnFn } from './process.ts';
import type { ToolHost } from './tools.ts';

export type EngineName = 'postgres' | 'mysql' | 'mariadb' | 'sqlite' | 'redis' | 'directory';

export type DatabaseTarget = {
  engine: EngineName;
  host: string;
  port: number;
  database: string;
  user: string;
  /** undefined: the credentials come from the agent's own .pgpass / ~/.my.cnf */
  password?: string;
  /** SQLite, Redis and directory sources: the file, TLS, the paths and patterns */
  source?: SourceSettings;
};

export type ToolInfo = { name: string; version: string; path: string };

/** Seams for tests: watch every spawned tool, or fake the installed ones. */
export type EngineOptions = { spawn?: SpawnFn; toolHost?: ToolHost };

export interface DumpProcess {
  /** Plain SQL. Back-pressure reaches the tool: if nobody reads, the dump pauses. */
  stdout: Readable;
  /**
   * Resolves when the tool exited 0 without reporting an error; rejects with a DumpError carrying
   * the exit code or signal and the last ~4 KB of its stderr. Already marked as handled, so a
   * caller that failed elsewhere first does not crash the process with an unhandled rejection.
   */
  done: Promise<void>;
  /** Stops the tool (SIGTERM, then SIGKILL after a grace period); `done` then rejects. */
  kill(): void;
  /** process id of the tool, for diagnostics and tests */
  readonly pid: number | undefined;
  /**
   * What the user should know about a dump that still succeeded (files that changed while they
   * were read, sockets skipped); complete once `done` resolved.
   */
  readonly notes?: string[];
  /**
   * MySQL/MariaDB with a binary log: where the dump's snapshot stands in it (from the dump's own
   * output, so complete once `done` resolved); the start of a point-in-time replay.
   */
  readonly logPosition?: LogPosition | undefined;
}

/** One part of a parallel dump, in restore order (FORMAT.md §11: one section of the archive). */
export type DumpSection = {
  kind: 'pre-data' | 'data' | 'post-data';
  /** '' for pre-data/post-data; the table for data; '*' for the data of every other table */
  name: string;
  /** the engine's size estimate, to start the largest first */
  estimatedBytes: number;
  meta?: Record<string, string | number>;
};

/**
 * A dump cut into sections that run concurrently from one consistent snapshot. The snapshot stays
 * held until close(); every start() dumps as of that snapshot.
 */
export interface ParallelDump {
  readonly sections: readonly DumpSection[];
  /** informative: tool, server version, snapshot time */
  readonly meta: Record<string, string | number>;
  start(index: number): Promise<DumpProcess>;
  /** Releases the snapshot (and its locks). Safe to call more than once. */
  close(): Promise<void>;
}

export type ParallelDumpOptions = {
  /** tables below this size (bytes on disk) share one section; default 1 MiB */
  minSectionBytes?: number;
  /** at most this many tables get a section of their own; default 500 */
  maxTableSections?: number;
  /** PostgreSQL: a table with a primary key is dumped in key order (deduplicated backups) */
  keyOrder?: boolean;
};

export type DumpOptions = {
  /** MySQL/MariaDB: every table's rows in primary-key order (deduplicated backups) */
  keyOrder?: boolean;
};

export type RestoreOptions = {
  /** drop everything in the target database first instead of refusing a non-empty one */
  replace?: boolean;
  /** Redis and directory sources: the directory the files are written into */
  targetDir?: string;
  /** directory sources: restore only these paths of the archive (as they were backed up) */
  paths?: string[];
  /**
   * MySQL/MariaDB: replay into the database as it is, neither refusing a non-empty one nor
   * emptying it (a single-table restore: the caller checked the tables the SQL touches)
   */
  intoExisting?: boolean;
};

/** What a restore wants the user to read afterwards (e.g. how to restart Redis on the files). */
export type RestoreReport = { notes: string[] };

export interface Engine {
  readonly name: EngineName;
  /** every installed dump and restore tool of this engine, with its version */
  detectTools(): Promise<ToolInfo[]>;
  /** the server's version string, e.g. "15.18 (Debian 15.18-0+deb12u1)" or "10.11.18-MariaDB" */
  serverVersion(t: DatabaseTarget): Promise<string>;
  /**
   * Starts a plain-SQL dump of one database. Rejects (DumpError/EngineError) when it cannot start:
   * server unreachable, no fitting tool. Consume `stdout` to its end AND await `done`.
   */
  dump(t: DatabaseTarget, opts?: DumpOptions): Promise<DumpProcess>;
  /**
   * Prepares a parallel dump (PostgreSQL: an exported snapshot that N pg_dumps share). Absent on
   * engines that cannot give N workers one consistent view (MySQL/MariaDB, see mysql.ts).
   */
  parallelDump?(t: DatabaseTarget, opts?: ParallelDumpOptions): Promise<ParallelDump>;
  /** true when the database has no user tables, views, sequences, routines, types or events */
  isEmpty(t: DatabaseTarget): Promise<boolean>;
  /**
   * Replays a plain-SQL dump into an existing database. Refuses a non-empty database unless
   * `replace`; fails with an EngineError (with the client's stderr) on the first error the client
   * reports, and kills the client if `sql` errors so a cut stream is never committed.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: the SQL engines resolve with nothing to report
  restore(t: DatabaseTarget, sql: Readable, opts?: RestoreOptions): Promise<void | RestoreReport>;
  /** whether a database of this name exists on `t`'s server (connecting to `t`) */
  databaseExists(t: DatabaseTarget, name: string): Promise<boolean>;
  /**
   * creates an empty database on `t`'s server (needs CREATEDB / the CREATE privilege). MySQL/MariaDB:
   * with the default character set and collation of `t.database` (a dump does not carry them, and
   * the server's default, often latin1, would mangle what the dumped tables declare in utf8mb4).
   */
  createDatabase(t: DatabaseTarget, name: string): Promise<void>;
  /** drops a database on `t`'s server if it exists (a failed restore's new database) */
  dropDatabase(t: DatabaseTarget, name: string): Promise<void>;
  /**
   * PostgreSQL, MySQL/MariaDB: runs one query in a READ ONLY transaction (rolled back) and returns
   * its first row's first column as text ('' for no row; NULL as 'NULL'). A test restore's
   * customer checks run through this, on the scratch copy only.
   */
  queryValue?(t: DatabaseTarget, sql: string): Promise<string>;
  /** the server's data directory when the user may read it, for the free-space check */
  dataDirectory(t: DatabaseTarget): Promise<string | undefined>;
  /**
   * Tests whether a backup of `t` could run now: server reachable, login, database, every privilege
   * the dump needs, a dump tool for the server's version. Never rejects: failures are items.
   */
  checkConnection(t: DatabaseTarget): Promise<ConnectionCheckResult>;
}

export type EngineErrorCode =
  | 'tool_missing'
  | 'tool_too_old'
  | 'auth_failed'
  | 'connection_failed'
  | 'database_missing'
  | 'permission_denied'
  | 'target_not_empty'
  | 'target_in_use'
  | 'integrity_failed'
  | 'input_failed'
  | 'killed'
  | 'tool_failed';

/** A failure the user can usually fix: the message says what happened, the hint what to do. */
export class EngineError extends UserError {
  declare readonly code: EngineErrorCode;
  /** last ~4 KB of the tool's stderr, when a tool was involved */
  readonly stderr: string | undefined;

  constructor(
    code: EngineErrorCode,
    message: string,
    hint: string,
    options?: ErrorOptions & { stderr?: string | undefined },
  ) {
    super(message, hint, { ...options, code });
    this.name = 'EngineError';
    this.stderr = options?.stderr;
  }
}

/** A dump tool failed: exited non-zero, was killed by a signal, or reported an error. */
export class DumpError extends EngineError {
  readonly tool: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;

  constructor(
    code: EngineErrorCode,
    message: string,
    hint: string,
    details: { tool: string; exitCode: number | null; signal: NodeJS.Signals | null; stderr: string },
    options?: ErrorOptions,
  ) {
    super(code, message, hint, { ...options, stderr: details.stderr });
    this.name = 'DumpError';
    this.tool = details.tool;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
  }
}

/** The refusal to restore over a database that already has contents (every engine, same words). */
export function targetNotEmpty(t: DatabaseTarget): EngineError {
  return new EngineError(
    'target_not_empty',
    `database "${t.database}" on ${t.host}:${t.port} is not empty; refusing to restore over it`,
    'Restore into a new, empty database, or add --replace to drop everything in it first.',
  );
}
