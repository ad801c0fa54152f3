// Single-table restore from a sectioned PostgreSQL backup: the table's CREATE TABLE (taken from the
// pre-data section, unless the table already exists) and its rows (its own data section, or only
// its COPY block of the shared "*" section), in one transaction. Reads the schema and that one
// section; no other table's bytes are touched.
//
// The sections come from a SectionSource (parallel.ts): a version 2 archive, a deduplicated
// backup's version 3 file, or a deduplicated backup read straight from storage (only the chunks of
// those two sections are read, with ranged reads). A damaged or missing chunk fails psql's input
// before it could commit: nothing is restored, and the error names the chunk.
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { type DatabaseTarget, EngineError } from '../engines/index.ts';
import type { PostgresSessions } from '../engines/postgres.ts';
import { UsageError } from '../errors.ts';
import { type EncryptionKey, FormatError, openArchive } from '../format/index.ts';
import { archiveSource, type RestoreSection, type SectionSource } from './parallel.ts';
import { closingLines, splitFragment } from './post-data.ts';

/** "schema.table" (either part may be "quoted") into its two raw names. */
export function parseQualified(text: string): { schema: string; table: string } | undefined {
  const part = String.raw`("(?:[^"]|"")*"|[^."]+)`;
  const m = new RegExp(`^${part}(?:\\.${part})?$`).exec(text.trim());
  if (!m) return undefined;
  const raw = (p: string) => (p.startsWith('"') ? p.slice(1, -1).replaceAll('""', '"') : p);
  return m[2] === undefined
    ? { schema: 'public', table: raw(m[1]!) }
    : { schema: raw(m[1]!), table: raw(m[2]) };
}

const sameTable = (a: { schema: string; table: string }, b: { schema: string; table: string }) =>
  a.schema === b.schema && a.table === b.table;

/** The index of the data section that holds `wanted`: its own, or the shared '*' section. */
export function findTableSection(
  sections: readonly Pick<RestoreSection, 'kind' | 'name'>[],
  wanted: { schema: string; table: string },
): number | undefined {
  const own = sections.findIndex((s) => {
    if (s.kind !== 'data' || s.name === '*') return false;
    const name = parseQualified(s.name);
    return name !== undefined && sameTable(name, wanted);
  });
  const shared = sections.findIndex((s) => s.kind === 'data' && s.name === '*');
  return own >= 0 ? own : shared >= 0 ? shared : undefined;
}

function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

/**
 * Only the lines of `wanted`'s COPY block (and its header), out of a data fragment. The pieces of
 * SQL end anywhere, also inside a character of several bytes (a deduplicated backup's chunks end
 * where the content says): they are decoded as one stream, never one by one.
 */
export async function* copyBlockOf(
  sql: AsyncIterable<Buffer>,
  wanted: string,
  found: { rows: boolean },
  into = wanted,
): AsyncGenerator<Buffer> {
  let inside = false;
  let rest = '';
  const prefix = `COPY ${wanted} `;
  const decoder = new StringDecoder('utf8');
  for await (const chunk of sql) {
    const lines = (rest + decoder.write(chunk)).split('\n');
    rest = lines.pop() ?? '';
    const out: string[] = [];
    for (const line of lines) {
      if (!inside && line.startsWith(prefix) && line.endsWith('FROM stdin;')) {
        inside = true;
        found.rows = true;
        out.push(`COPY ${into} ${line.slice(prefix.length)}`);
        continue;
      }
      if (inside) out.push(line);
      if (inside && line === '\\.') inside = false;
    }
    if (out.length > 0) yield Buffer.from(`${out.join('\n')}\n`);
  }
}

/** The CREATE TABLE of `from`, creating `to` instead (the definition's first line names it). */
function renameDefinition(sql: string, from: string, to: string): string {
  if (from === to) return sql;
  const head = `CREATE TABLE ${from} (`;
  const at = sql.indexOf(head);
  if (at === -1) throw new Error(`the definition of ${from} does not start as expected`);
  return `${sql.slice(0, at)}CREATE TABLE ${to} (${sql.slice(at + head.length)}`;
}

export type TableRestoreOptions = {
  sessions: PostgresSessions;
  replace: boolean;
  /** restore under this name instead (same schema unless qualified) */
  as?: string;
  onFileBytes?: (n: number) => void;
  /** how the user lists the backup's tables (the hint of an unknown table) */
  listCommand?: string;
};

/** One table of a version 2 archive on disk. */
export async function restoreTable(
  path: string,
  key: EncryptionKey,
  target: DatabaseTarget,
  tableText: string,
  opts: TableRestoreOptions,
): Promise<{ section: string; created: boolean }> {
  const archive = await openArchive(path, key);
  return restoreTableFrom(archiveSource(archive, { onFileBytes: opts.onFileBytes }), target, tableText, opts);
}

/**
 * One table of any sectioned source. `source` must give plain SQL (`compressed` false): the
 * table's COPY block is picked out of its section here.
 */
export async function restoreTableFrom(
  source: SectionSource,
  target: DatabaseTarget,
  tableText: string,
  opts: TableRestoreOptions,
): Promise<{ section: string; created: boolean }> {
  const wanted = parseQualified(tableText);
  if (!wanted)
    throw new UsageError(
      `--table ${tableText} is not a table name`,
      'Write it as schema.table, e.g. public.orders.',
    );
  const renamed =
    opts.as === undefined
      ? undefined
      : parseQualified(opts.as.includes('.') ? opts.as : `${wanted.schema}.${opts.as}`);
  if (opts.as !== undefined && !renamed)
    throw new UsageError(
      `--as ${opts.as} is not a table name`,
      'Write it as name or schema.name, e.g. orders_restored.',
    );
  const pre = source.sections.findIndex((s) => s.kind === 'pre-data');
  const qualified = `${quoteIdent(wanted.schema)}.${quoteIdent(wanted.table)}`;
  // where the rows go: the table's own name, or --as
  const into = renamed ? `${quoteIdent(renamed.schema)}.${quoteIdent(renamed.table)}` : qualified;
  const sectionIndex = findTableSection(source.sections, wanted);
  if (pre < 0 || sectionIndex === undefined)
    throw new UsageError('this backup has no table sections', 'Restore the whole backup instead.');
  const section = source.sections[sectionIndex]!;

  // The schema (small: definitions only) gives the table's CREATE TABLE.
  const parts: Buffer[] = [];
  for await (const chunk of source.read(pre, { plain: true })) parts.push(chunk as Buffer);
  const fragment = splitFragment(Buffer.concat(parts).toString('utf8'));
  const definition = fragment.entries.find(
    (e) => e.type === 'TABLE' && e.name === wanted.table && e.schema === wanted.schema,
  );
  if (!definition) {
    const tables = source.sections.filter((s) => s.kind === 'data' && s.name !== '*').map((s) => s.name);
    throw new UsageError(
      `the backup has no table ${qualified}`,
      `Run ${opts.listCommand ?? 'resistro restore --file … --list'} to see its tables${tables.length > 0 ? ` (e.g. ${tables.slice(0, 3).join(', ')})` : ''}.`,
    );
  }
  // Two queries: a table that does not exist cannot even be named in the second one.
  const exists =
    (await opts.sessions.query(target, `select to_regclass('${into.replaceAll("'", "''")}') is not null`)) ===
    't';
  const state = !exists
    ? 'missing'
    : (await opts.sessions.query(target, `select exists (select 1 from ${into} limit 1)`)) === 't'
      ? 'rows'
      : 'empty';
  if (state === 'rows' && !opts.replace) {
    throw new EngineError(
      'target_not_empty',
      `table ${into} in "${target.database}" already has rows; refusing to restore over them`,
      'Restore into another database, or add --replace to empty the table first (in the same transaction).',
    );
  }
  const setup = [
    fragment.preamble,
    state === 'missing' ? renameDefinition(definition.sql, qualified, into) : '',
    state === 'rows' ? `TRUNCATE ONLY ${into};\n` : '',
    closingLines(fragment),
  ].join('');
  const found = { rows: false };
  const rows = source.read(sectionIndex, { plain: true });
  // Only the table's COPY block: its section may also set the values of sequences it owns, which a
  // single-table restore does not create.
  const body = copyBlockOf(rows, qualified, found, into);
  const sql = Readable.from(
    (async function* () {
      yield Buffer.from(setup);
      for await (const chunk of body) yield chunk as Buffer;
    })(),
  );
  try {
    await opts.sessions.run(target, sql, { singleTransaction: true });
  } catch (error) {
    // A damaged or missing chunk surfaces as psql's input failing: its own error names the chunk.
    if (error instanceof EngineError && error.code === 'input_failed' && error.cause instanceof FormatError)
      throw error.cause;
    throw error;
  }
  return { section: section.name, created: state === 'missing' };
}
