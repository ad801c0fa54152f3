// MySQL and MariaDB: one module, parameterised by which vendor's binaries to prefer.
//
// The dump keeps DEFINER clauses of views, routines, triggers and events: they decide whose rights
// SQL SECURITY DEFINER objects run with, and silently rewriting them would change security. A
// restore as another account therefore needs SET USER (MariaDB) / SET_USER_ID (MySQL), and the
// error says so. MySQL cannot roll back DDL, so a failed restore can leave part of the dump behind.
//
// No parallel dump (Engine.parallelDump) here, on purpose. A consistent parallel dump needs N
// connections whose snapshots start at one point, as mydumper does it: FLUSH TABLES WITH READ LOCK
// on a coordinating connection, START TRANSACTION WITH CONSISTENT SNAPSHOT on every worker
// connection, then UNLOCK TABLES. The agent drives the vendor's tools instead (they know every
// object type and DEFINER rule), and each mysqldump/mariadb-dump opens its own connection and
// starts its own --single-transaction snapshot at a moment the agent cannot observe. So the read
// lock would have to be held across the start-up of N client processes, guessing when each took
// its snapshot: a wrong guess is an inconsistent backup, and while the lock is held every write on
// the server waits (FTWRL itself first waits for every running query, so one long report query
// stalls all writes behind it); it also needs the RELOAD privilege, which the backup user does not
// have (docs/privileges.md). MariaDB's BACKUP STAGE has the same shape. Doing it right means the
// agent holding the N worker connections itself, i.e. speaking the MySQL protocol, which it does
// not. MySQL/MariaDB backups therefore stay one consistent stream (a version 1 file; deduplicated,
// the same stream cut into a section per table as it passes: dedup/sql-sections.ts).
import type { Readable } from 'node:stream';
import type {
  DatabaseTarget,
  DumpProcess,
  Engine,
  EngineName,
  EngineOptions,
  RestoreOptions,
  ToolInfo,
} from './engine.ts';
import { EngineError, targetNotEmpty } from './engine.ts';
import { checkMysql } from './mysql-check.ts';
import { LogPositionWatcher, logPositionArgs } from './mysql-log-position.ts';
import {
  findMysqlTools,
  flavourDumpArgs,
  isMariadbBuild,
  passwordOptionFile,
  selectMysqlTool,
  toolPreference,
} from './mysql-tools.ts';
import { firstValue } from './postgres.ts';
import { defaultSpawn, type Explanation, feedStdin, runTool, startTool, type ToolSpec } from './process.ts';
import { nodeToolHost } from './tools.ts';

const MYSQL_ERROR_LINE =
  /^(ERROR \d+|(mysqldump|mariadb-dump|mysql|mariadb): (Got error|Couldn't|Error|error))/;

/**
 * Quotes a string as an SQL literal (backslash escapes are on in MariaDB's default sql_mode). Line
 * breaks and NUL are escaped too: the client reading SQL from stdin drops a CR before LF.
 */
export function sqlString(value: string): string {
  const escaped = value
    .replaceAll('\\', '\\\\')
    .replaceAll("'", "\\'")
    .replaceAll('\r', '\\r')
    .replaceAll('\n', '\\n')
    .replaceAll('\0', '\\0');
  return `'${escaped}'`;
}

export function sqlIdentifier(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

export function explainMysql(t: DatabaseTarget, stderr: string): Explanation | undefined {
  const where = `${t.host}:${t.port}`;
  if (/Access denied for user .* to database/.test(stderr)) {
    return {
      code: 'permission_denied',
      summary: `user "${t.user}" may not use database "${t.database}" on ${where}`,
      hint: `Grant the account access, e.g. GRANT ALL ON \`${t.database}\`.* TO the agent's user.`,
    };
  }
  if (/Access denied for user/.test(stderr)) {
    return {
      code: 'auth_failed',
      summary: `authentication failed for user "${t.user}" on ${where} (access denied)`,
      hint: `Check the password configured for this database (or ~/.my.cnf of the agent's user) and that the account '${t.user}'@'<this host>' exists on the server.`,
    };
  }
  const routine =
    /insufficient privileges to SHOW CREATE (FUNCTION|PROCEDURE|PACKAGE(?: BODY)?) (`(?:[^`]|``)*`)/.exec(
      stderr,
    );
  if (routine) {
    return {
      code: 'permission_denied',
      summary: `user "${t.user}" may not read the body of ${routine[1]!.toLowerCase()} ${routine[2]} (defined by another account) on ${where}`,
      hint: `Grant the right to read routine bodies: MariaDB 11.3+ GRANT SHOW CREATE ROUTINE ON \`${t.database}\`.*; older MariaDB GRANT SELECT ON mysql.proc; MySQL 8.0.20+ GRANT SHOW_ROUTINE ON *.* (see /docs/privileges). The dashboard's connection test names the one for this server.`,
    };
  }
  if (/you need \(at least one of\) the .*(SUPER|SET USER|SET_USER_ID|SYSTEM_USER)/.test(stderr)) {
    return {
      code: 'permission_denied',
      summary: `the dump has objects with another DEFINER than "${t.user}", which may not create them`,
      hint: 'Restore as an account with the SET USER (MariaDB) or SET_USER_ID (MySQL) privilege, or as the definer named in the error.',
    };
  }
  if (/Access denied; you need|command denied to user/.test(stderr)) {
    return {
      code: 'permission_denied',
      summary: `user "${t.user}" lacks a privilege on ${where} (see the stderr below)`,
      hint: 'Grant SELECT, SHOW VIEW, TRIGGER, EVENT and LOCK TABLES on the database for backups; ALL on it for restores.',
    };
  }
  if (/Unknown database/.test(stderr)) {
    return {
      code: 'database_missing',
      summary: `database "${t.database}" does not exist on ${where}`,
      hint: 'Check the database name, or create the database first (CREATE DATABASE).',
    };
  }
  if (
    /Can't connect|Unknown (MySQL|MariaDB) server host|Lost connection to (MySQL|MariaDB|server) .*initial/.test(
      stderr,
    )
  ) {
    return {
      code: 'connection_failed',
      summary: `cannot reach the MySQL/MariaDB server at ${where}`,
      hint: 'Check host and port, that the server is running, and that bind-address and the firewall admit this machine.',
    };
  }
  if (/max_allowed_packet|packet bigger than/.test(stderr)) {
    return {
      code: 'tool_failed',
      summary: `a row is larger than the server's max_allowed_packet on ${where}`,
      hint: 'Raise max_allowed_packet on the server (e.g. SET GLOBAL max_allowed_packet = 1073741824) and run again.',
    };
  }
  if (/already exists/.test(stderr)) {
    return {
      code: 'target_not_empty',
      summary: `an object of the dump already exists in "${t.database}"`,
      hint: 'Restore into an empty database, or add --replace to drop the existing contents first.',
    };
  }
  return undefined;
}

/**
 * How the agent runs the client tools of one MySQL-family engine: the tool preference, the spec of
 * an invocation (password in a temporary option file) and a one-shot query. The engine and the
 * binlog streamer (point-in-time recovery) share it.
 */
export function mysqlAccess(name: Exclude<EngineName, 'postgres'>, opts: EngineOptions = {}) {
  const spawn = opts.spawn ?? defaultSpawn;
  const toolHost = opts.toolHost ?? nodeToolHost(spawn);
  const prefer = toolPreference(name);

  /**
   * a tool invocation whose password (if any) sits in a fresh temporary option file; `session`
   * false leaves out the client-session options that mariadb-binlog/mysqlbinlog do not know
   */
  const specFor = async (
    t: DatabaseTarget,
    tool: ToolInfo,
    args: string[],
    session = true,
  ): Promise<ToolSpec> => {
    const optionFile = await passwordOptionFile(t.password);
    return {
      tool: tool.name,
      path: tool.path,
      // SECURITY: only the option file's path is on the command line, never the password.
      args: [
        ...optionFile.args,
        `--host=${t.host}`,
        `--port=${t.port}`,
        `--user=${t.user}`,
        ...(session ? ['--default-character-set=utf8mb4', '--max-allowed-packet=1G'] : []),
        ...args,
      ],
      errorLine: MYSQL_ERROR_LINE,
      explain: (stderr) => explainMysql(t, stderr),
      cleanup: optionFile.cleanup,
      spawn,
    };
  };

  /** `database: null` connects without selecting one */
  const query = async (t: DatabaseTarget, sql: string, database: string | null = t.database) => {
    const client = await selectMysqlTool(toolHost, prefer.client);
    const args = ['--connect-timeout=15', '--batch', '--skip-column-names'];
    if (database !== null) args.push(`--database=${database}`);
    return (await runTool(await specFor(t, client, args), sql)).trim();
  };

  return { spawn, toolHost, prefer, specFor, query };
}

export function createMysqlEngine(name: Exclude<EngineName, 'postgres'>, opts: EngineOptions = {}): Engine {
  const { toolHost, prefer, specFor, query } = mysqlAccess(name, opts);

  const isEmpty = async (t: DatabaseTarget) => {
    const db = sqlString(t.database);
    const count = await query(
      t,
      `SELECT (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${db})
            + (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ${db})
            + (SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ${db});`,
    );
    return count === '0';
  };

  /** Drops and recreates the database with its previous default character set and collation. */
  const recreateDatabase = async (t: DatabaseTarget) => {
    const options = await query(
      t,
      `SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${sqlString(t.database)};`,
    );
    const [charset, collation] = options.split('\t');
    const db = sqlIdentifier(t.database);
    const create =
      charset && collation
        ? `CREATE DATABASE ${db} CHARACTER SET ${charset} COLLATE ${collation}`
        : `CREATE DATABASE ${db}`;
    await query(t, `DROP DATABASE ${db}; ${create};`, null);
  };

  /**
   * Whether the server writes a binary log, and whether this account may take the global read lock
   * Oracle's mysqldump needs for the position (RELOAD; REPLICATION CLIENT for SHOW MASTER STATUS).
   */
  const binlogState = async (t: DatabaseTarget) => {
    const [logBin = '0', version = ''] = (await query(t, 'SELECT @@log_bin, VERSION();', null)).split('\t');
    if (logBin !== '1' || isMariadbBuild(version))
      return { logBin: logBin === '1', version, mayLockForPosition: false };
    const grants = await query(t, 'SHOW GRANTS;', null).catch(() => '');
    const mayLockForPosition =
      /GRANT ALL PRIVILEGES ON \*\.\*/.test(grants) ||
      (/GRANT [^\n]*\bRELOAD\b[^\n]* ON \*\.\*/.test(grants) &&
        /GRANT [^\n]*\b(REPLICATION CLIENT|BINLOG MONITOR)\b[^\n]* ON \*\.\*/.test(grants));
    return { logBin: true, version, mayLockForPosition };
  };

  return {
    name,

    detectTools: () => findMysqlTools(toolHost, [...prefer.dump, ...prefer.client]),

    serverVersion: (t) => query(t, 'SELECT VERSION();', null),

    async dump(t, dumpOpts = {}): Promise<DumpProcess> {
      const tool = await selectMysqlTool(toolHost, prefer.dump);
      // A server that cannot be asked fails the dump itself, with the dump tool's own error.
      const state = await binlogState(t).catch(() => ({
        logBin: false,
        version: '',
        mayLockForPosition: false,
      }));
      const positionArgs = logPositionArgs(tool, state);
      const spec = await specFor(t, tool, [
        // One consistent InnoDB snapshot without locking; it implies --skip-lock-tables.
        // (MyISAM tables are not covered by the snapshot: inherent to the engine.)
        '--single-transaction',
        '--quick', // stream rows instead of buffering whole tables in the tool
        '--routines',
        '--triggers',
        '--events',
        '--hex-blob', // binary columns as hex literals: the dump stays valid UTF-8 text
        '--no-tablespaces', // needs the PROCESS privilege on MySQL 8 otherwise, and is rarely wanted
        // Deduplicated backups (docs/dedup.md): rows in key order, so a change stays where its row
        // is. InnoDB reads its clustered index in that order anyway; other engines and tables
        // without a primary key (by their first unique index) pay a sort.
        ...(dumpOpts.keyOrder ? ['--order-by-primary'] : []),
        ...flavourDumpArgs(tool),
        ...positionArgs,
        '--',
        t.database,
      ]);
      const running = startTool({ ...spec, isDump: true });
      const dump = { done: running.done, kill: () => running.kill(), pid: running.pid };
      if (positionArgs.length === 0) return { ...dump, stdout: running.stdout };
      // Watching the stream costs the zstd program its direct pipe from the dump tool (the bytes
      // now pass through Node): paid only where a binary log exists to make the position useful.
      const watcher = new LogPositionWatcher();
      running.stdout.on('error', (error) => watcher.destroy(error));
      running.stdout.pipe(watcher);
      return {
        ...dump,
        stdout: watcher,
        get logPosition() {
          return watcher.position();
        },
      };
    },

    isEmpty,

    async databaseExists(t, name) {
      const n = await query(
        t,
        `SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${sqlString(name)};`,
        null,
      );
      return n !== '0';
    },

    async createDatabase(t, name) {
      const like = await query(
        t,
        `SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${sqlString(t.database)};`,
        null,
      ).catch(() => '');
      const [charset, collation] = like.split('\t');
      const options =
        charset && collation && /^\w+$/.test(charset) && /^\w+$/.test(collation)
          ? ` CHARACTER SET ${charset} COLLATE ${collation}`
          : '';
      await query(t, `CREATE DATABASE ${sqlIdentifier(name)}${options};`, null);
    },

    async dropDatabase(t, name) {
      await query(t, `DROP DATABASE IF EXISTS ${sqlIdentifier(name)};`, null);
    },

    async queryValue(t, sql) {
      const out = await query(
        t,
        `START TRANSACTION READ ONLY;\n${sql.trim().replace(/;\s*$/, '')};\nROLLBACK;\n`,
      );
      return firstValue(out);
    },

    async dataDirectory(t) {
      return (await query(t, 'SELECT @@datadir;', null).catch(() => '')) || undefined;
    },

    checkConnection: (t) =>
      checkMysql(t, {
        query: (sql) => query(t, sql),
        dumpTool: () => selectMysqlTool(toolHost, prefer.dump),
      }),

    async restore(t: DatabaseTarget, sql: Readable, restoreOpts: RestoreOptions = {}) {
      if (restoreOpts.intoExisting) {
        // the caller checked what the SQL touches (single-table restore)
      } else if (restoreOpts.replace) {
        await recreateDatabase(t);
      } else if (!(await isEmpty(t))) {
        sql.destroy();
        throw targetNotEmpty(t);
      }
      const client = await selectMysqlTool(toolHost, prefer.client);
      const running = startTool(
        await specFor(t, client, ['--connect-timeout=15', '--batch', `--database=${t.database}`]),
        'pipe',
      );
      running.stdout.resume();
      const [input, result] = await Promise.allSettled([feedStdin(running, sql), running.done]);
      if (input.status === 'rejected') {
        throw new EngineError(
          'input_failed',
          `the SQL input failed during the restore: ${(input.reason as Error)?.message ?? input.reason}`,
          'The database may hold part of the dump (MySQL cannot roll back DDL); fix the input and restore again with replace.',
          { cause: input.reason },
        );
      }
      if (result.status === 'rejected') {
        sql.destroy();
        throw result.reason;
      }
    },
  };
}
