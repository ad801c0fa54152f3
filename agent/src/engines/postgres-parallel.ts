// PostgreSQL, parallel: N pg_dumps from one exported snapshot (as pg_dump -j does internally), and
// the psql sessions a parallel restore runs.
//
// The snapshot: one psql session opens a REPEATABLE READ READ ONLY transaction, exports its snapshot
// (pg_export_snapshot), takes ACCESS SHARE locks on every table (so no DROP/ALTER can slip in
// between the snapshot and a pg_dump starting; ordinary writes go on), and lists the tables with
// their sizes, all as of that snapshot. It stays open until every pg_dump finished: each pg_dump
// --snapshot=… imports it and sees exactly the same data. Sections:
//   pre-data   pg_dump --section=pre-data                  (types, tables, functions, views ...)
//   data "*"   pg_dump --section=data --exclude-table-data=<each large table>  (small tables,
//              sequences' values, large objects)
//   data T     pg_dump --section=data --table=T            (one per table ≥ minSectionBytes)
//   post-data  pg_dump --section=post-data                 (indexes, constraints, triggers ...)
// Each is a complete plain-format fragment; in this order they are one psql script.
import { PassThrough, type Readable } from 'node:stream';
import type {
  DatabaseTarget,
  DumpProcess,
  DumpSection,
  ParallelDump,
  ParallelDumpOptions,
} from './engine.ts';
import type { PgTool } from './postgres-tools.ts';
import { feedStdin, type RunningTool, runTool, startTool, type ToolSpec } from './process.ts';

export const PG_DUMP_COMMON_ARGS = [
  '--format=plain',
  '--no-owner',
  '--no-privileges',
  '--no-subscriptions',
  // Fail instead of queueing forever behind an exclusive lock (a long ALTER TABLE).
  '--lock-wait-timeout=300s',
];

const USER_TABLES = `FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relpersistence <> 't' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg\\_%'`;

/** Everything the holder session runs; its output lines are tab-separated and tagged. */
const SNAPSHOT_SQL = `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SET LOCAL lock_timeout = '300s';
SELECT 'snapshot', pg_export_snapshot(), current_setting('server_version_num'), now();
DO $resistro_lock$ DECLARE r record; BEGIN
  FOR r IN SELECT c.oid::regclass AS rel ${USER_TABLES} AND c.relkind IN ('r', 'p') LOOP
    EXECUTE format('LOCK TABLE %s IN ACCESS SHARE MODE', r.rel);
  END LOOP;
END $resistro_lock$;
SELECT 'table', pg_table_size(c.oid),
  encode(convert_to('"' || replace(n.nspname, '"', '""') || '"."' || replace(c.relname, '"', '""') || '"', 'UTF8'), 'hex'),
  encode(convert_to(quote_ident(n.nspname) || '.' || quote_ident(c.relname), 'UTF8'), 'hex'),
  encode(convert_to(coalesce((SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY array_position(i.indkey::int2[], a.attnum))
    FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
    WHERE i.indrelid = c.oid AND i.indisprimary), ''), 'UTF8'), 'hex'),
  encode(convert_to(coalesce((SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''), ''), 'UTF8'), 'hex')
  ${USER_TABLES} AND c.relkind = 'r'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
  ORDER BY 2 DESC, 4;
SELECT 'end';
`;

type SpecOf = (t: DatabaseTarget, tool: PgTool, args: string[], isDump?: boolean) => ToolSpec;

/** Lines of a running tool's stdout, as they arrive. */
function lineReader(running: RunningTool): () => Promise<string> {
  let buffered = '';
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  running.stdout.setEncoding('utf8');
  running.stdout.on('data', (text: string) => {
    buffered += text;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
    wake?.();
  });
  running.stdout.once('end', () => {
    ended = true;
    wake?.();
  });
  return async () => {
    while (lines.length === 0) {
      if (ended) throw new Error('psql ended before the snapshot was ready');
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    return lines.shift()!;
  };
}

export async function startPostgresParallelDump(
  t: DatabaseTarget,
  tools: { psql: PgTool; pgDump: PgTool; spec: SpecOf },
  opts: ParallelDumpOptions = {},
): Promise<ParallelDump> {
  const minBytes = opts.minSectionBytes ?? 1024 * 1024;
  const maxSections = opts.maxTableSections ?? 500;
  const holder = startTool(
    tools.spec(t, tools.psql, ['-X', '-q', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1'], true),
    'pipe',
  );
  holder.stdin!.on('error', () => {}); // psql's exit status tells
  let closed = false;
  const close = async () => {
    if (closed) return holder.done.catch(() => {});
    closed = true;
    // A read-only transaction: ending it commits nothing. Then psql exits at the end of its input.
    if (holder.stdin && !holder.stdin.destroyed) holder.stdin.end('COMMIT;\n');
    await holder.done;
  };
  try {
    holder.stdin!.write(SNAPSHOT_SQL);
    const next = lineReader(holder);
    const read = async () => {
      const line = await Promise.race([next(), holder.done.then(() => 'exit')]);
      return line.split('\t');
    };
    let snapshot = '';
    let serverVersionNum = '';
    let snapshotTime = '';
    const tables: { bytes: number; pattern: string; name: string; key: string; columns: string }[] = [];
    for (;;) {
      const fields = await read();
      if (fields[0] === 'snapshot') [, snapshot = '', serverVersionNum = '', snapshotTime = ''] = fields;
      else if (fields[0] === 'table')
        tables.push({
          bytes: Number(fields[1]),
          pattern: Buffer.from(fields[2] ?? '', 'hex').toString('utf8'),
          name: Buffer.from(fields[3] ?? '', 'hex').toString('utf8'),
          key: Buffer.from(fields[4] ?? '', 'hex').toString('utf8'),
          columns: Buffer.from(fields[5] ?? '', 'hex').toString('utf8'),
        });
      else if (fields[0] === 'end') break;
      else if (fields[0] === 'exit') throw new Error('psql exited before the snapshot was ready');
    }
    if (!/^[0-9A-F-]+$/i.test(snapshot))
      throw new Error(`unexpected snapshot id from the server: ${snapshot}`);

    const own = tables.filter((table) => table.bytes >= minBytes).slice(0, maxSections);
    const restBytes = tables.filter((table) => !own.includes(table)).reduce((n, table) => n + table.bytes, 0);
    const sections: (DumpSection & {
      args: string[];
      keyOrder?: { table: string; key: string; columns: string };
    })[] = [
      { kind: 'pre-data', name: '', estimatedBytes: 0, args: ['--section=pre-data'] },
      {
        kind: 'data',
        name: '*',
        estimatedBytes: restBytes,
        meta: { tables: tables.length - own.length },
        args: ['--section=data', ...own.map((table) => `--exclude-table-data=${table.pattern}`)],
      },
      ...own.map((table) => ({
        kind: 'data' as const,
        name: table.name,
        estimatedBytes: table.bytes,
        meta: { tableBytes: table.bytes, ...(opts.keyOrder && table.key && { order: 'primary key' }) },
        args: ['--section=data', `--table=${table.pattern}`],
        ...(opts.keyOrder &&
          table.key &&
          table.columns && { keyOrder: { table: table.name, key: table.key, columns: table.columns } }),
      })),
      { kind: 'post-data', name: '', estimatedBytes: 0, args: ['--section=post-data'] },
    ];
    const common = [...PG_DUMP_COMMON_ARGS, `--snapshot=${snapshot}`];
    return {
      sections: sections.map(({ args: _args, ...section }) => section),
      meta: {
        engine: 'postgres',
        tool: `pg_dump ${tools.pgDump.version}`,
        serverVersionNum,
        snapshotTime,
      },
      async start(index): Promise<DumpProcess> {
        const section = sections[index];
        if (!section) throw new RangeError(`no section ${index}`);
        if (closed) throw new Error('the snapshot was released');
        if (section.keyOrder) return startKeyOrderCopy(t, tools, snapshot, section.keyOrder);
        const running = startTool(tools.spec(t, tools.pgDump, [...common, ...section.args], true));
        return { stdout: running.stdout, done: running.done, kill: () => running.kill(), pid: running.pid };
      },
      close,
    };
  } catch (error) {
    holder.kill();
    await holder.done.catch(() => {});
    closed = true;
    // psql's own failure (connection, permission) says more than "ended early".
    const failure = await holder.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    throw failure ?? error;
  }
}

/** What every data section of pg_dump starts with; the restore needs the same settings. */
const DATA_PREAMBLE = `--
-- PostgreSQL database dump (table data in primary-key order, by resistro)
--

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

`;

/**
 * A table's data section in primary-key order (deduplicated backups, docs/dedup.md): the same
 * plain-format COPY block pg_dump writes, but its rows sorted by the key, read from the exported
 * snapshot by psql. In physical order an updated row moves to the end of the heap and an insert
 * fills free space in old pages, so most chunks of a table would change every day; in key order
 * a change stays where its row is. Sequence values stay in the "*" section, as pg_dump writes them
 * there too. The session settings are pg_dump's (ISO dates, full float precision, UTF-8).
 */
function startKeyOrderCopy(
  t: DatabaseTarget,
  tools: { psql: PgTool; spec: SpecOf },
  snapshot: string,
  table: { table: string; key: string; columns: string },
): DumpProcess {
  const sql = `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SET TRANSACTION SNAPSHOT '${snapshot}';
SET client_encoding = 'UTF8';
SET DateStyle = ISO;
SET IntervalStyle = postgres;
SET extra_float_digits = 3;
SET statement_timeout = 0;
COPY (SELECT ${table.columns} FROM ONLY ${table.table} ORDER BY ${table.key}) TO STDOUT;
COMMIT;
`;
  const running = startTool(
    tools.spec(t, tools.psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', '-'], true),
    'pipe',
  );
  running.stdin!.on('error', () => {}); // psql's exit status tells
  running.stdin!.end(sql);
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  out.write(`${DATA_PREAMBLE}COPY ${table.table} (${table.columns}) FROM stdin;\n`);
  running.stdout.pipe(out, { end: false });
  running.stdout.once('end', () => out.end('\\.\n\n'));
  running.stdout.once('error', (error) => out.destroy(error));
  return { stdout: out, done: running.done, kill: () => running.kill(), pid: running.pid };
}

/**
 * What a data section's session runs first, in the same transaction as its COPY: every table it is
 * about to load is truncated, which gives the table new (empty) storage in this transaction. COPY
 * into storage made in its own transaction does not look in the free space map and appends its
 * rows strictly in the order they come (as `pg_restore -j` gets by the same TRUNCATE, and as the
 * one-transaction restore gets because its CREATE TABLE is in the same transaction). Without it,
 * a row that does not fit on the page being filled moves the COPY to a new page, and a later,
 * smaller row goes back into the free space left on an earlier one: the restored table then holds
 * the same rows in another physical order whenever the source's pages were not packed the way one
 * COPY packs them (rows deleted or updated, or two sessions inserting at once), and its dump
 * differs from the source's. On wal_level=minimal it also spares the COPY's WAL, as in pg_restore.
 *
 * `only`: the tables of a table's own section; `except`: for the shared section, every user table
 * but those loaded by their own sections (their sessions may be loading them at this moment). The
 * names are the table of contents' (quote_ident schema . quote_ident table), resolved by the
 * target with to_regclass, so a name quoted by another server version still matches. They travel
 * as a setting, never inside the SQL text. A table that another session holds (locked) or that
 * holds rows is never truncated: should a name ever fail to match, nothing is lost. A section of
 * more tables than the server's lock table has room for (two locks each, held until the COPY
 * commits) is left as it is. Measured: 2,000 empty tables took 6.9 s (3.4 ms each, fsync on, load
 * average 10); pg_restore -j pays the same per table.
 *
 * Undefined when the SQL would be too long for one argument of psql (Linux caps one at 128 KiB):
 * a shared section whose list of tables to leave alone is that long (hundreds of long names) then
 * loads without it, its rows possibly in another physical order (the same rows).
 */
export function freshTablesSql(
  tables: { only: readonly string[] } | { except: readonly string[] },
): string | undefined {
  const [mode, names] = 'only' in tables ? ['only', tables.only] : ['except', tables.except];
  // An escape string: the same meaning whatever standard_conforming_strings says.
  const value = JSON.stringify(names).replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  if (Buffer.byteLength(value) > 96 * 1024) return undefined;
  return `SET LOCAL resistro.fresh_${mode} = E'${value}';
DO $resistro_fresh$
DECLARE
  only_names jsonb := nullif(current_setting('resistro.fresh_only', true), '')::jsonb;
  except_names jsonb := nullif(current_setting('resistro.fresh_except', true), '')::jsonb;
  tables regclass[];
  r record;
  empty boolean;
BEGIN
  SELECT coalesce(array_agg(c.oid::regclass), '{}') INTO tables ${USER_TABLES} AND c.relkind = 'r'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
    AND (only_names IS NULL OR c.oid IN (SELECT to_regclass(x) FROM jsonb_array_elements_text(only_names) x))
    AND (except_names IS NULL OR c.oid NOT IN (SELECT to_regclass(x) FROM jsonb_array_elements_text(except_names) x
      WHERE to_regclass(x) IS NOT NULL));
  -- Each truncated table holds two locks (itself and its TOAST table) until the COPY commits; the
  -- server's lock table has room for max_locks_per_transaction × max_connections in all. A section
  -- of more tables than a third of that loads without it, as before, instead of running out.
  IF cardinality(tables) * 3 > current_setting('max_locks_per_transaction')::int * current_setting('max_connections')::int THEN
    RETURN;
  END IF;
  FOR r IN SELECT unnest(tables) AS rel LOOP
    BEGIN
      EXECUTE format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE NOWAIT', r.rel);
    EXCEPTION WHEN lock_not_available THEN
      CONTINUE;
    END;
    EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM ONLY %s)', r.rel) INTO empty;
    IF empty THEN
      EXECUTE format('TRUNCATE ONLY %s', r.rel);
    END IF;
  END LOOP;
END $resistro_fresh$;
`;
}

/** One psql session that replays SQL: the building block of the parallel restore. */
export async function runPsql(
  t: DatabaseTarget,
  tools: { psql: PgTool; spec: SpecOf },
  sql: Readable | string,
  opts: {
    singleTransaction: boolean;
    /** SQL run before `sql`, in the same transaction when `singleTransaction` (psql -c) */
    first?: string;
    /** `sql` is zstd-compressed: this program decompresses it straight into psql's stdin */
    zstd?: ToolSpec;
    /**
     * Kills the session's programs (psql first: its transaction rolls back). Needed beyond
     * destroying `sql`: once all of the input is handed over, psql may still be working on it
     * (or hang on a dead network path), and a stopped stream no longer reaches it.
     */
    signal?: AbortSignal;
  },
): Promise<void> {
  const args = [
    '-X',
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    ...(opts.singleTransaction ? ['--single-transaction'] : []),
    ...(opts.first ? ['-c', opts.first] : []),
  ];
  if (typeof sql === 'string') {
    await runTool(tools.spec(t, tools.psql, [...args, '-f', '-']), sql);
    return;
  }
  if (opts.zstd)
    return runPsqlThroughZstd(tools.spec(t, tools.psql, [...args, '-f', '-']), opts.zstd, sql, opts.signal);
  const running = startTool(tools.spec(t, tools.psql, [...args, '-f', '-']), 'pipe');
  running.stdout.resume();
  const onAbort = () => running.kill('SIGKILL');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();
  try {
    const fed = feedStdin(running, sql);
    const [input, client] = await Promise.allSettled([fed, running.done]);
    if (input.status === 'rejected') throw input.reason;
    if (client.status === 'rejected') {
      sql.destroy();
      throw opts.signal?.aborted ? opts.signal.reason : client.reason;
    }
    opts.signal?.throwIfAborted();
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * compressed ─▶ zstd -d ─▶ psql, where zstd's stdout IS psql's stdin: the SQL never passes through
 * Node (measured: about 2 CPU-s less per GB of SQL than decompressing and piping it in Node).
 * psql commits whatever it read once its stdin ends, so whenever the input fails or zstd does not
 * exit cleanly, psql is killed FIRST (SIGKILL: it runs no more code, its transaction rolls back)
 * and only then zstd, whose exit would otherwise end psql's input early.
 */
async function runPsqlThroughZstd(
  psqlSpec: ToolSpec,
  zstdSpec: ToolSpec,
  compressed: Readable,
  signal?: AbortSignal,
) {
  const zstd = startTool(zstdSpec, 'pipe');
  let psql: ReturnType<typeof startTool>;
  try {
    psql = startTool(psqlSpec, zstd.stdout);
  } catch (error) {
    zstd.kill('SIGKILL');
    throw error;
  }
  // Our copy of the pipe between them goes: psql alone reads it.
  zstd.stdout.destroy();
  psql.stdout.resume();
  let killed = false;
  const killBoth = () => {
    if (killed) return;
    killed = true;
    psql.kill('SIGKILL');
    zstd.kill('SIGKILL');
  };
  // Registered before feedStdin's own listener (which kills zstd): listeners run in order.
  compressed.on('error', killBoth);
  if (compressed.destroyed || compressed.errored) killBoth();
  signal?.addEventListener('abort', killBoth, { once: true });
  if (signal?.aborted) killBoth();
  const fed = feedStdin(zstd, compressed);
  let psqlExited = false;
  let zstdFailedFirst = false;
  const [input, decompressor, client] = await Promise.allSettled([
    fed,
    zstd.done.catch((error: unknown) => {
      // zstd failing on its own (not because psql stopped reading): psql must not commit.
      if (!psqlExited && !killed) zstdFailedFirst = true;
      killBoth();
      throw error;
    }),
    psql.done.finally(() => {
      psqlExited = true;
    }),
  ]);
  compressed.off('error', killBoth);
  signal?.removeEventListener('abort', killBoth);
  if (signal?.aborted) throw signal.reason;
  // The cause, in order: a damaged or stopped input, zstd, psql's own failure (then zstd's broken
  // pipe only followed from it).
  if (input.status === 'rejected') throw input.reason;
  if (zstdFailedFirst && decompressor.status === 'rejected') throw decompressor.reason;
  if (client.status === 'rejected') {
    compressed.destroy();
    throw client.reason;
  }
  if (decompressor.status === 'rejected') throw decompressor.reason;
}
