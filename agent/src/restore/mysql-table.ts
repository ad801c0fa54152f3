// Single-table restore from a MySQL/MariaDB backup (one SQL stream, format version 1): the whole
// file is checked first (MySQL cannot roll back DDL), then the dump streams through a filter that
// passes only the chosen tables' blocks (structure and rows, as the dump tool delimits them with its
// "-- Table structure for table `t`" and "-- Dumping data for table `t`" comments) into the mysql
// client. Memory stays flat: only the first bytes of each line are looked at; the rest streams on.
// Triggers are left out (they may name other tables); with --as, foreign keys are too (their names
// are unique per database and would clash with the original table's). A deduplicated backup is
// already cut by table: only its preamble and the tables' sections go through the same filter
// (restoreMysqlTablesFrom).
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type DatabaseTarget, EngineError, getEngine } from '../engines/index.ts';
import type { SpawnFn } from '../engines/process.ts';
import { UsageError } from '../errors.ts';
import type { EncryptionKey } from '../format/index.ts';
import type { SectionSource } from './parallel.ts';
import { checkBackupFile, openSqlStream } from './restore.ts';

const HEAD_BYTES = 512;
const BLOCK_START =
  /^-- (?:Table structure for table|Dumping data for table|Temporary table structure for view|Temporary view structure for view|Final view structure for view|Dumping routines for database|Dumping events for database) /;
const TABLE_BLOCK = /^-- (?:Table structure for table|Dumping data for table) `((?:[^`]|``)*)`/;
/** statement heads that name the table, in the order mysqldump writes them */
const NAMING = [
  /^(DROP TABLE IF EXISTS )`(?:[^`]|``)*`/,
  /^(CREATE TABLE )`(?:[^`]|``)*`/,
  /^(LOCK TABLES )`(?:[^`]|``)*`/,
  /^(\/\*!40000 ALTER TABLE )`(?:[^`]|``)*`/,
  /^(INSERT INTO )`(?:[^`]|``)*`/,
];

const backquote = (name: string) => `\`${name.replaceAll('`', '``')}\``;

/** "name" or "database.name" (either part may be `quoted`): the table's raw name. */
export function parseMysqlTable(text: string): string | undefined {
  const part = '(`(?:[^`]|``)+`|[^.`]+)';
  const m = new RegExp(`^${part}(?:\\.${part})?$`).exec(text.trim());
  if (!m) return undefined;
  const last = m[2] ?? m[1]!;
  return last.startsWith('`') ? last.slice(1, -1).replaceAll('``', '`') : last;
}

/**
 * Passes the preamble (the SET lines before the first table) and the blocks of `tables`; renames
 * per `rename` (old → new).
 */
export class TableFilter extends Transform {
  readonly #tables: Set<string>;
  readonly #rename: Map<string, string>;
  #head: Buffer[] = [];
  #headBytes = 0;
  /** undefined: still in the preamble; else the table of the current block ('' for other blocks) */
  #block: string | undefined;
  #inTrigger = false;
  /** the current line: passing through ('pass'), dropped ('drop'), or its head still being read */
  #line: 'head' | 'pass' | 'drop' = 'head';
  /** with a rename: the CREATE TABLE statement being collected, to leave its foreign keys out */
  #create: Buffer[] | undefined;
  readonly found = new Set<string>();

  constructor(tables: string[], rename: Map<string, string> = new Map()) {
    super();
    this.#tables = new Set(tables);
    this.#rename = rename;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    let p = 0;
    while (p < chunk.length) {
      const nl = chunk.indexOf(10, p);
      const end = nl === -1 ? chunk.length : nl + 1;
      if (this.#line === 'head') {
        this.#head.push(chunk.subarray(p, end));
        this.#headBytes += end - p;
        if (nl === -1 && this.#headBytes < HEAD_BYTES) {
          callback();
          return;
        }
        this.#decide(Buffer.concat(this.#head), nl !== -1);
        this.#head = [];
        this.#headBytes = 0;
      } else if (this.#line === 'pass') this.#emit(chunk.subarray(p, end));
      if (nl !== -1) this.#line = 'head';
      p = end;
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.#head.length > 0) this.#decide(Buffer.concat(this.#head), true);
    callback();
  }

  #emit(bytes: Buffer | string): void {
    // kept as bytes: a piece may end inside a character, decoded only once the statement is whole
    if (this.#create) this.#create.push(Buffer.from(bytes));
    else this.push(bytes);
  }

  /** A line's first bytes decide what happens to all of it. */
  #decide(head: Buffer, complete: boolean): void {
    const text = head.toString('utf8');
    let out: Buffer = head;
    if (BLOCK_START.test(text)) {
      const m = TABLE_BLOCK.exec(text);
      this.#block = m ? m[1]!.replaceAll('``', '`') : '';
      this.#inTrigger = false;
    }
    const keep = this.#block === undefined || this.#tables.has(this.#block);
    if (keep && this.#block) this.found.add(this.#block);
    if (keep && this.#block !== undefined) {
      if (text.startsWith('DELIMITER ;;')) this.#inTrigger = true;
      const trigger = this.#inTrigger;
      if (text.startsWith('DELIMITER ;\n') || text === 'DELIMITER ;') this.#inTrigger = false;
      if (trigger) {
        this.#line = complete ? 'head' : 'drop';
        return;
      }
      const to = this.#rename.get(this.#block);
      if (to !== undefined) {
        for (const naming of NAMING) {
          const m = naming.exec(text);
          if (!m) continue;
          // The match ends with a backquote: whole characters, so its UTF-8 length is its bytes.
          out = Buffer.concat([
            Buffer.from(`${m[1]}${backquote(to)}`),
            head.subarray(Buffer.byteLength(m[0])),
          ]);
          if (text.startsWith('CREATE TABLE ')) this.#create = [];
          break;
        }
      }
      this.#emit(out);
      if (this.#create && /;\s*$/.test(text) && complete) this.#finishCreate();
      this.#line = complete ? 'head' : 'pass';
      return;
    }
    if (keep) this.push(head); // the preamble
    this.#line = complete ? 'head' : keep ? 'pass' : 'drop';
  }

  /** The renamed CREATE TABLE without its foreign keys (their names would clash). */
  #finishCreate(): void {
    const lines = Buffer.concat(this.#create!).toString('utf8').split('\n');
    this.#create = undefined;
    const kept = lines.filter((l) => !/^\s*CONSTRAINT `(?:[^`]|``)*` FOREIGN KEY /.test(l));
    // the last column or key before ") ENGINE" must not end with a comma any more
    const close = kept.findIndex((l) => /^\) /.test(l) || l === ')' || /^\)\s*;?$/.test(l));
    if (close > 0) kept[close - 1] = kept[close - 1]!.replace(/,\s*$/, '');
    this.push(kept.join('\n'));
  }
}

type MysqlTableOptions = {
  replace: boolean;
  as?: string;
  spawn?: SpawnFn;
  onFileBytes?: (n: number) => void;
  /** how the user lists the backup's tables (the hint of an unknown table) */
  listCommand?: string;
};

/** The tables asked for (raw names) and the --as rename. */
function parseTables(tableTexts: string[], as: string | undefined) {
  const tables = tableTexts.map((text) => {
    const name = parseMysqlTable(text);
    if (!name)
      throw new UsageError(
        `--table ${text} is not a table name`,
        'Write it as name or database.name, e.g. orders.',
      );
    return name;
  });
  const rename = new Map<string, string>();
  if (as !== undefined) {
    const to = parseMysqlTable(as);
    if (!to || tables.length !== 1)
      throw new UsageError(
        '--as needs exactly one --table and a table name',
        'Example: --table orders --as orders_restored',
      );
    rename.set(tables[0]!, to);
  }
  return { tables, rename };
}

const unknownTable = (table: string, known: string[], listCommand: string | undefined) =>
  new UsageError(
    `the backup has no table ${backquote(table)}`,
    `Run ${listCommand ?? 'resistro restore --file … --list'} to see its tables${known.length > 0 ? ` (e.g. ${known.slice(0, 3).join(', ')})` : ''}.`,
  );

/** Refuses a target table that holds rows, unless --replace (the dump's DROP TABLE then replaces it). */
async function checkTargetTables(
  engine: ReturnType<typeof getEngine>,
  target: DatabaseTarget,
  tables: string[],
  rename: Map<string, string>,
  replace: boolean,
): Promise<void> {
  if (!engine.queryValue) throw new Error(`${target.engine} cannot restore single tables`);
  for (const table of tables) {
    const into = rename.get(table) ?? table;
    const exists = await engine.queryValue(
      target,
      `SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${into.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`,
    );
    if (exists !== '0' && !replace) {
      const rows = await engine.queryValue(target, `SELECT EXISTS (SELECT 1 FROM ${backquote(into)})`);
      if (rows !== '0')
        throw new EngineError(
          'target_not_empty',
          `table ${backquote(into)} in "${target.database}" already has rows; refusing to restore over them`,
          'Restore under another name (--as), into another database, or add --replace to drop and re-create the table.',
        );
    }
  }
}

/** The dump's SQL through the filter into the mysql client; a table the SQL never named is refused. */
async function feedTables(
  engine: ReturnType<typeof getEngine>,
  target: DatabaseTarget,
  sql: Readable,
  tables: string[],
  rename: Map<string, string>,
  listCommand: string | undefined,
): Promise<{ tables: string[] }> {
  const filter = new TableFilter(tables, rename);
  // The dump's DROP TABLE IF EXISTS + CREATE TABLE of just these tables replace them: checked before.
  const [fed, restored] = await Promise.allSettled([
    pipeline(sql, filter),
    engine.restore(target, filter, { intoExisting: true }),
  ]);
  if (restored.status === 'rejected') throw restored.reason;
  if (fed.status === 'rejected') throw fed.reason;
  const missing = tables.filter((t) => !filter.found.has(t));
  if (missing.length > 0)
    throw new UsageError(
      `the backup has no table ${missing.map(backquote).join(', ')}`,
      `Run ${listCommand ?? 'resistro restore --file … --list'} to see its tables.`,
    );
  return { tables: tables.map((t) => rename.get(t) ?? t) };
}

export async function restoreMysqlTables(
  path: string,
  key: EncryptionKey,
  target: DatabaseTarget,
  tableTexts: string[],
  opts: MysqlTableOptions,
): Promise<{ tables: string[]; sections?: number }> {
  const { tables, rename } = parseTables(tableTexts, opts.as);
  // The whole file first: a damaged one must not have dropped a table before it fails.
  const check = await checkBackupFile(path, key, opts.onFileBytes);
  const known = check.tableStats?.tables.map((t) => t.name);
  const engine = getEngine(target.engine, { spawn: opts.spawn });
  for (const table of tables)
    if (known && !known.includes(table)) throw unknownTable(table, known, opts.listCommand);
  await checkTargetTables(engine, target, tables, rename, opts.replace);
  return feedTables(engine, target, await openSqlStream(path, key), tables, rename, opts.listCommand);
}

/**
 * Tables of a deduplicated backup (its version 3 file, or read straight from storage), which is cut
 * into a section per table (dedup/sql-sections.ts): only the pre-data section (the dump's SET
 * lines) and the sections of these tables are read, each chunk checked. They are read twice, as a
 * whole deduplicated restore reads its backup: first every chunk is checked (MySQL cannot roll back
 * DDL: a damaged chunk must not have dropped a table), then they stream into the mysql client.
 * `source` must give plain SQL.
 */
export async function restoreMysqlTablesFrom(
  source: SectionSource,
  target: DatabaseTarget,
  tableTexts: string[],
  opts: MysqlTableOptions,
): Promise<{ tables: string[]; sections: number }> {
  const { tables, rename } = parseTables(tableTexts, opts.as);
  const known = source.sections.filter((s) => s.kind === 'data').map((s) => s.name);
  for (const table of tables) if (!known.includes(table)) throw unknownTable(table, known, opts.listCommand);
  const wanted = new Set(tables);
  const picked = source.sections.flatMap((s, i) =>
    s.kind === 'pre-data' || (s.kind === 'data' && wanted.has(s.name)) ? [i] : [],
  );
  const sql = () =>
    Readable.from(
      (async function* () {
        for (const index of picked)
          for await (const chunk of source.read(index, { plain: true })) yield chunk as Buffer;
      })(),
      { objectMode: false },
    );
  for await (const _ of sql()) {
    // every chunk authenticated; nothing kept
  }
  const engine = getEngine(target.engine, { spawn: opts.spawn });
  await checkTargetTables(engine, target, tables, rename, opts.replace);
  const result = await feedTables(engine, target, sql(), tables, rename, opts.listCommand);
  return { ...result, sections: picked.length };
}
