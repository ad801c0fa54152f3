// PostgreSQL: pg_dump in plain format, restored with psql in one transaction.
//
// The dump leaves out ownership (--no-owner) and GRANT/REVOKE (--no-privileges): both name roles,
// and roles live in the cluster, not in the database. A restore into a fresh database on another
// server, as another user, would otherwise stop at the first `ALTER ... OWNER TO` or `GRANT` to a
// role that does not exist there (psql runs with ON_ERROR_STOP). Restored objects belong to the
// restoring user. Subscriptions are left out too: creating one needs superuser, and a restored
// subscription would point at the source's publisher. --quote-all-identifiers is deliberately
// absent: with it, pg_dump 15 also emits `COMMENT ON SCHEMA public`, which only the schema's owner
// may run, so a restore as a plain database user would fail.
import type { Readable } from 'node:stream';
import type {
  DatabaseTarget,
  DumpProcess,
  Engine,
  EngineOptions,
  RestoreOptions,
  ToolInfo,
} from './engine.ts';
import { EngineError, targetNotEmpty } from './engine.ts';
import { checkPostgres } from './postgres-check.ts';
import { PG_DUMP_COMMON_ARGS, runPsql, startPostgresParallelDump } from './postgres-parallel.ts';
import {
  findPgTools,
  type PgTool,
  pgMajorFromVersionNum,
  selectPgDump,
  selectPsql,
} from './postgres-tools.ts';
import { defaultSpawn, type Explanation, feedStdin, runTool, startTool, type ToolSpec } from './process.ts';
import { nodeToolHost } from './tools.ts';

const PG_ERROR_LINE = /^(pg_dump|psql)\b.*?: (error|ERROR|FATAL|PANIC):/;

/** `dbname='…'` so a database name containing `=` is never read as a connection string */
function dbnameConninfo(database: string): string {
  return `dbname='${database.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

function connectionArgs(t: DatabaseTarget): string[] {
  // SECURITY: no password here. argv is world-readable (ps, /proc/<pid>/cmdline).
  return [
    '--host',
    t.host,
    '--port',
    String(t.port),
    '--username',
    t.user,
    '--no-password',
    `--dbname=${dbnameConninfo(t.database)}`,
  ];
}

function connectionEnv(t: DatabaseTarget): Record<string, string> {
  const env: Record<string, string> = { PGAPPNAME: 'resistro-agent', PGCONNECT_TIMEOUT: '15' };
  // SECURITY: the password travels in the child's environment, which only its own user and root
  // can read (/proc/<pid>/environ is mode 0400). Undefined: libpq reads ~/.pgpass itself.
  if (t.password !== undefined) env.PGPASSWORD = t.password;
  return env;
}

export function explainPostgres(t: DatabaseTarget, stderr: string): Explanation | undefined {
  const where = `${t.host}:${t.port}`;
  if (
    /password authentication failed|no password supplied|SCRAM authentication|authentication failed/.test(
      stderr,
    )
  ) {
    return {
      code: 'auth_failed',
      summary: `authentication failed for user "${t.user}" on ${where}`,
      hint: `Check the password (for backups: the one configured for this database, or ~/.pgpass of the agent's user; for restores: PGPASSWORD, ~/.pgpass or the prompt) and that pg_hba.conf lets "${t.user}" connect from this host with password authentication.`,
    };
  }
  if (/no pg_hba\.conf entry/.test(stderr)) {
    return {
      code: 'auth_failed',
      summary: `authentication failed: pg_hba.conf on ${where} has no entry for user "${t.user}" from this host`,
      hint: 'Add a host line for this user and database to pg_hba.conf on the server and reload PostgreSQL.',
    };
  }
  if (/database ".*" does not exist/.test(stderr)) {
    return {
      code: 'database_missing',
      summary: `database "${t.database}" does not exist on ${where}`,
      hint: 'Check the database name, or create the database first (createdb).',
    };
  }
  if (
    /Connection refused|could not connect|could not translate host name|timeout expired|Network is unreachable/.test(
      stderr,
    )
  ) {
    return {
      code: 'connection_failed',
      summary: `cannot reach the PostgreSQL server at ${where}`,
      hint: 'Check host and port, that PostgreSQL is running, and that listen_addresses and the firewall admit this machine.',
    };
  }
  if (
    /invalid response to SSL negotiation|unsupported frontend protocol|expected authentication request/.test(
      stderr,
    )
  ) {
    return {
      code: 'connection_failed',
      summary: `the server at ${where} does not speak PostgreSQL's protocol`,
      hint: 'Check the port: PostgreSQL listens on 5432 by default, MySQL and MariaDB on 3306.',
    };
  }
  if (/permission denied|must be owner/.test(stderr)) {
    return {
      code: 'permission_denied',
      summary: `user "${t.user}" lacks a privilege on ${where} (see the stderr below)`,
      hint: 'Back up and restore as the owner of the database; for backups, pg_read_all_data (PostgreSQL 14+) also works.',
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
 * Empties a database inside the restore's transaction: drops every non-system schema, then
 * recreates `public` with its previous comment, owner and privileges (pg_dump leaves a default
 * `public` out of the dump, so it has to look exactly as before). If the restore fails, this rolls back
 * with it and the old contents stay. Before PostgreSQL 15 `public` belongs to the bootstrap
 * superuser and only its owner may drop it: a database owner then empties it instead (tables,
 * views, sequences, routines, types; what an extension installed stays).
 */
export const PG_WIPE_SQL = `SET client_min_messages = warning;
DO $resistro_wipe$
DECLARE
  public_oid oid;
  public_mine boolean;
  public_owner text;
  public_acl aclitem[];
  public_comment text;
  item record;
  names text[];
  name text;
BEGIN
  SELECT oid, pg_has_role(nspowner, 'USAGE'), nspowner::regrole::text, nspacl, obj_description(oid, 'pg_namespace')
    INTO public_oid, public_mine, public_owner, public_acl, public_comment FROM pg_namespace WHERE nspname = 'public';
  FOR item IN SELECT nspname FROM pg_namespace
      WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%'
        AND (nspname <> 'public' OR public_mine IS NOT FALSE) LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', item.nspname);
  END LOOP;
  IF public_mine IS FALSE THEN
    SELECT array_agg(format('DROP %s IF EXISTS public.%I CASCADE',
        CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
          WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, c.relname))
      INTO names FROM pg_class c
      WHERE c.relnamespace = public_oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e');
    FOREACH name IN ARRAY coalesce(names, '{}') LOOP EXECUTE name; END LOOP;
    SELECT array_agg(format('public.%I(%s)', p.proname, pg_get_function_identity_arguments(p.oid)))
      INTO names FROM pg_proc p
      WHERE p.pronamespace = public_oid
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e');
    FOREACH name IN ARRAY coalesce(names, '{}') LOOP
      IF current_setting('server_version_num')::int >= 110000 THEN
        EXECUTE 'DROP ROUTINE IF EXISTS ' || name || ' CASCADE';
      ELSE
        BEGIN
          EXECUTE 'DROP FUNCTION IF EXISTS ' || name || ' CASCADE';
        EXCEPTION WHEN wrong_object_type THEN
          EXECUTE 'DROP AGGREGATE IF EXISTS ' || name || ' CASCADE';
        END;
      END IF;
    END LOOP;
    SELECT array_agg(format('DROP %s IF EXISTS public.%I CASCADE',
        CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, t.typname))
      INTO names FROM pg_type t
      WHERE t.typnamespace = public_oid
        AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e');
    FOREACH name IN ARRAY coalesce(names, '{}') LOOP EXECUTE name; END LOOP;
    RETURN;
  END IF;
  CREATE SCHEMA public;
  IF public_comment IS NOT NULL THEN
    EXECUTE format('COMMENT ON SCHEMA public IS %L', public_comment);
  END IF;
  IF public_owner IS NOT NULL THEN
    EXECUTE format('ALTER SCHEMA public OWNER TO %s', public_owner);
    FOR item IN SELECT a.grantee, a.privilege_type, a.is_grantable FROM aclexplode(public_acl) a LOOP
      EXECUTE format('GRANT %s ON SCHEMA public TO %s%s', item.privilege_type,
        CASE WHEN item.grantee = 0 THEN 'PUBLIC' ELSE item.grantee::regrole::text END,
        CASE WHEN item.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
  END IF;
END
$resistro_wipe$;
RESET client_min_messages;`;

/** true when nothing a dump would create is there: relations, routines, types, extra schemas */
const PG_IS_EMPTY_SQL = `
WITH user_ns AS (
  SELECT oid, nspname FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%'
), ext_member AS (
  SELECT objid FROM pg_depend WHERE deptype = 'e'
)
SELECT NOT EXISTS (
  SELECT 1 FROM pg_class c JOIN user_ns n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c') AND c.oid NOT IN (SELECT objid FROM ext_member)
  UNION ALL
  SELECT 1 FROM pg_proc p JOIN user_ns n ON n.oid = p.pronamespace
  WHERE p.oid NOT IN (SELECT objid FROM ext_member)
  UNION ALL
  SELECT 1 FROM pg_type ty JOIN user_ns n ON n.oid = ty.typnamespace
  WHERE ty.typtype IN ('e', 'd', 'r', 'm') AND ty.oid NOT IN (SELECT objid FROM ext_member)
  UNION ALL
  SELECT 1 FROM user_ns n WHERE n.nspname <> 'public' AND n.oid NOT IN (SELECT objid FROM ext_member)
)`;

/** A PostgreSQL identifier, always quoted (keeps its case). */
export function pgIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A PostgreSQL string literal (standard_conforming_strings: only quotes double). */
export function pgLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** What the parallel restore (restore/parallel.ts) needs beyond the Engine interface. */
export type PostgresSessions = {
  /**
   * One psql session replaying `sql`; `singleTransaction`: all of it or nothing; `zstd`: `sql` is
   * zstd-compressed and this program decompresses it on its way into psql; `first`: SQL run before
   * it in the same session (and transaction), e.g. freshTablesSql.
   */
  run(
    t: DatabaseTarget,
    sql: Readable | string,
    opts: { singleTransaction: boolean; first?: string; zstd?: ToolInfo; signal?: AbortSignal },
  ): Promise<void>;
  isEmpty(t: DatabaseTarget): Promise<boolean>;
  /** drops everything a restore created (PG_WIPE_SQL), in one transaction */
  wipe(t: DatabaseTarget): Promise<void>;
  /** one small query's output (unaligned, tuples only) */
  query(t: DatabaseTarget, sql: string): Promise<string>;
};

export function createPostgresSessions(opts: EngineOptions = {}): PostgresSessions {
  const spawn = opts.spawn ?? defaultSpawn;
  const toolHost = opts.toolHost ?? nodeToolHost(spawn);
  const spec = (t: DatabaseTarget, tool: PgTool, args: string[], isDump = false): ToolSpec => ({
    tool: tool.name,
    path: tool.path,
    args: [...args, ...connectionArgs(t)],
    env: connectionEnv(t),
    errorLine: PG_ERROR_LINE,
    explain: (stderr) => explainPostgres(t, stderr),
    spawn,
    isDump,
  });
  // Looked up once for all of a restore's sessions: finding psql runs `psql --version` for every
  // candidate, and a parallel restore starts a session per section and per index group.
  let found: Promise<PgTool> | undefined;
  const psql = () => {
    found ??= findPgTools(toolHost, 'psql').then(selectPsql);
    found.catch(() => {
      found = undefined;
    });
    return found;
  };
  const query = async (t: DatabaseTarget, sql: string) =>
    (
      await runTool(spec(t, await psql(), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql]))
    ).trim();
  return {
    run: async (t, sql, o) =>
      runPsql(t, { psql: await psql(), spec }, sql, {
        singleTransaction: o.singleTransaction,
        first: o.first,
        signal: o.signal,
        zstd: o.zstd && {
          tool: 'zstd',
          path: o.zstd.path,
          args: ['-q', '-d', '-c'],
          errorLine: /(?!)/, // never: zstd's exit status tells
          explain: () => undefined,
          spawn,
        },
      }),
    isEmpty: async (t) => (await query(t, PG_IS_EMPTY_SQL)) === 't',
    wipe: async (t) => runPsql(t, { psql: await psql(), spec }, PG_WIPE_SQL, { singleTransaction: true }),
    query,
  };
}

/** The first column of the first line of a tab-separated result. */
export function firstValue(out: string): string {
  const line = out.split('\n').find((l) => l.length > 0) ?? '';
  return line.split('\t')[0] ?? '';
}

export function createPostgresEngine(opts: EngineOptions = {}): Engine {
  const spawn = opts.spawn ?? defaultSpawn;
  const toolHost = opts.toolHost ?? nodeToolHost(spawn);

  const toolSpec = (t: DatabaseTarget, tool: PgTool, args: string[], isDump = false): ToolSpec => ({
    tool: tool.name,
    path: tool.path,
    args: [...args, ...connectionArgs(t)],
    env: connectionEnv(t),
    errorLine: PG_ERROR_LINE,
    explain: (stderr) => explainPostgres(t, stderr),
    spawn,
    isDump,
  });

  /** `forDump`: the query prepares a dump, so its failure is the dump's failure (a DumpError) */
  const query = async (t: DatabaseTarget, sql: string, forDump = false): Promise<string> => {
    const psql = selectPsql(await findPgTools(toolHost, 'psql'));
    const args = ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql];
    const out = await runTool(toolSpec(t, psql, args, forDump));
    return out.trim();
  };

  const serverInfo = async (t: DatabaseTarget, forDump = false) => {
    const out = await query(
      t,
      "select current_setting('server_version_num') || ' ' || current_setting('server_version')",
      forDump,
    );
    const space = out.indexOf(' ');
    return { num: Number(out.slice(0, space)), version: out.slice(space + 1) };
  };

  const isEmpty = async (t: DatabaseTarget) => (await query(t, PG_IS_EMPTY_SQL)) === 't';

  return {
    name: 'postgres',

    async detectTools(): Promise<ToolInfo[]> {
      const tools = [...(await findPgTools(toolHost, 'pg_dump')), ...(await findPgTools(toolHost, 'psql'))];
      return tools.map(({ name, version, path }) => ({ name, version, path }));
    },

    async serverVersion(t) {
      return (await serverInfo(t)).version;
    },

    async dump(t): Promise<DumpProcess> {
      const server = await serverInfo(t, true);
      const pgDump = selectPgDump(await findPgTools(toolHost, 'pg_dump'), pgMajorFromVersionNum(server.num));
      const running = startTool(toolSpec(t, pgDump, PG_DUMP_COMMON_ARGS, true));
      return { stdout: running.stdout, done: running.done, kill: () => running.kill(), pid: running.pid };
    },

    async parallelDump(t, parallelOpts) {
      const server = await serverInfo(t, true);
      const pgDump = selectPgDump(await findPgTools(toolHost, 'pg_dump'), pgMajorFromVersionNum(server.num));
      const psql = selectPsql(await findPgTools(toolHost, 'psql'));
      return startPostgresParallelDump(t, { psql, pgDump, spec: toolSpec }, parallelOpts);
    },

    isEmpty,

    async databaseExists(t, name) {
      return (
        (await query(t, `select exists (select 1 from pg_database where datname = ${pgLiteral(name)})`)) ===
        't'
      );
    },

    async createDatabase(t, name) {
      await query(t, `CREATE DATABASE ${pgIdentifier(name)}`);
    },

    async dropDatabase(t, name) {
      // Only ever a database this agent created for a restore that failed: a session of the
      // stopped restore may still hang on (a dead network path), so PostgreSQL 13+ ends it (FORCE);
      // older servers get a few tries while it closes.
      const force = (await serverInfo(t)).num >= 130000 ? ' WITH (FORCE)' : '';
      for (let attempt = 1; ; attempt++) {
        try {
          await query(t, `DROP DATABASE IF EXISTS ${pgIdentifier(name)}${force}`);
          return;
        } catch (error) {
          const text = `${(error as Error).message} ${(error as EngineError).stderr ?? ''}`;
          if (attempt >= 5 || !/being accessed by other users/.test(text)) throw error;
          await new Promise((r) => setTimeout(r, 500 * attempt));
        }
      }
    },

    async queryValue(t, sql) {
      const psql = selectPsql(await findPgTools(toolHost, 'psql'));
      // A script, not -c: psql prints each statement's result, and BEGIN/ROLLBACK print nothing (-q).
      const script = `BEGIN READ ONLY;\n${sql.trim().replace(/;\s*$/, '')};\nROLLBACK;\n`;
      const out = await runTool(
        toolSpec(t, psql, [
          '-X',
          '-q',
          '-A',
          '-t',
          '-P',
          'null=NULL',
          '-F',
          '\t',
          '-v',
          'ON_ERROR_STOP=1',
          '-f',
          '-',
        ]),
        script,
      );
      return firstValue(out);
    },

    async dataDirectory(t) {
      // readable by superusers and pg_read_all_settings only; otherwise the check is skipped
      return (await query(t, "select current_setting('data_directory')").catch(() => '')) || undefined;
    },

    checkConnection: (t) =>
      checkPostgres(t, {
        serverInfo: () => serverInfo(t),
        query: (sql) => query(t, sql),
        pgDumps: () => findPgTools(toolHost, 'pg_dump'),
      }),

    async restore(t: DatabaseTarget, sql: Readable, restoreOpts: RestoreOptions = {}) {
      if (!restoreOpts.replace && !(await isEmpty(t))) {
        sql.destroy();
        throw targetNotEmpty(t);
      }
      const psql = selectPsql(await findPgTools(toolHost, 'psql'));
      const wipe = restoreOpts.replace ? ['-c', PG_WIPE_SQL] : [];
      // --single-transaction wraps the wipe and the whole dump: all of it is committed or none.
      const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', ...wipe, '-f', '-'];
      const running = startTool(toolSpec(t, psql, args), 'pipe');
      running.stdout.resume(); // psql -q prints little; never let it block on a full pipe
      const fed = feedStdin(running, sql);
      const [input, client] = await Promise.allSettled([fed, running.done]);
      if (input.status === 'rejected') {
        throw new EngineError(
          'input_failed',
          `the SQL input failed during the restore: ${(input.reason as Error)?.message ?? input.reason}`,
          'Nothing was committed (the restore runs in one transaction); fix the input and restore again.',
          { cause: input.reason },
        );
      }
      if (client.status === 'rejected') {
        sql.destroy();
        throw client.reason;
      }
    },
  };
}
