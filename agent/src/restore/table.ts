// Single-table restore from a sectioned PostgreSQL backup: the table's CREATE TABLE (taken from the
// pre-data section, unless the table already exists) and its rows (its own data section, or only
// its COPY block of the shared "*" section), in one transaction. Reads the schema and that one
// section; no other table's bytes are touched.
import { Readable } from 'node:stream';
import { type DatabaseTarget, EngineError } from '../engines/index.ts';
import type { PostgresSessions } from '../engines/postgres.ts';
import { UsageError } from '../errors.ts';
import {
  type EncryptionKey,
  openArchive,
  readSection,
  type SectionEntry,
  type Toc,
} from '../format/index.ts';
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

/** The data section that holds `wanted`: its own, or the shared '*' section. */
export function findTableSection(
  toc: Toc,
  wanted: { schema: string; table: string },
): SectionEntry | undefined {
  const own = toc.sections.find((s) => {
    if (s.kind !== 'data' || s.name === '*') return false;
    const name = parseQualified(s.name);
    return name !== undefined && sameTable(name, wanted);
  });
  return own ?? toc.sections.find((s) => s.kind === 'data' && s.name === '*');
}

function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

/** Only the lines of `wanted`'s COPY block (and its header), out of a data fragment. */
async function* copyBlockOf(
  sql: AsyncIterable<Buffer>,
  wanted: string,
  found: { rows: boolean },
  into = wanted,
): AsyncGenerator<Buffer> {
  let inside = false;
  let rest = '';
  const prefix = `COPY ${wanted} `;
  for await (const chunk of sql) {
    const lines = (rest + chunk.toString('utf8')).split('\n');
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

export async function restoreTable(
  path: string,
  key: EncryptionKey,
  target: DatabaseTarget,
  tableText: string,
  opts: {
    sessions: PostgresSessions;
    replace: boolean;
    /** restore under this name instead (same schema unless qualified) */
    as?: string;
    onFileBytes?: (n: number) => void;
  },
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
  const archive = await openArchive(path, key);
  const pre = archive.toc.sections.find((s) => s.kind === 'pre-data');
  const qualified = `${quoteIdent(wanted.schema)}.${quoteIdent(wanted.table)}`;
  // where the rows go: the table's own name, or --as
  const into = renamed ? `${quoteIdent(renamed.schema)}.${quoteIdent(renamed.table)}` : qualified;
  const section = findTableSection(archive.toc, wanted);
  if (!pre || !section)
    throw new UsageError('this backup has no table sections', 'Restore the whole backup instead.');

  // The schema (small: definitions only) gives the table's CREATE TABLE.
  const parts: Buffer[] = [];
  for await (const chunk of readSection(archive, pre.index, { onFileBytes: opts.onFileBytes }))
    parts.push(chunk as Buffer);
  const fragment = splitFragment(Buffer.concat(parts).toString('utf8'));
  const definition = fragment.entries.find(
    (e) => e.type === 'TABLE' && e.name === wanted.table && e.schema === wanted.schema,
  );
  if (!definition) {
    const tables = archive.toc.sections.filter((s) => s.kind === 'data' && s.name !== '*').map((s) => s.name);
    throw new UsageError(
      `the backup has no table ${qualified}`,
      `Run resistro restore --file … --list to see its tables${tables.length > 0 ? ` (e.g. ${tables.slice(0, 3).join(', ')})` : ''}.`,
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
  const rows = readSection(archive, section.index, { onFileBytes: opts.onFileBytes });
  // Only the table's COPY block: its section may also set the values of sequences it owns, which a
  // single-table restore does not create.
  const body = copyBlockOf(rows, qualified, found, into);
  const sql = Readable.from(
    (async function* () {
      yield Buffer.from(setup);
      for await (const chunk of body) yield chunk as Buffer;
    })(),
  );
  await opts.sessions.run(target, sql, { singleTransaction: true });
  return { section: section.name, created: state === 'missing' };
}
