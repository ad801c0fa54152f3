// Cutting a plain pg_dump fragment into its entries (every object pg_dump writes starts with a
// "-- Name: …; Type: …; Schema: …; Owner: …" comment block), so that the parallel restore can spread
// post-data over N sessions, and a single-table restore can take one table's CREATE TABLE out of
// pre-data. Only the structure pg_dump itself writes is relied on; an entry we cannot place runs
// serially, in its original order, after everything else.

export type DumpEntry = {
  name: string;
  type: string;
  schema: string;
  sql: string;
  /** the table the entry builds on (qualified as pg_dump writes it), when the SQL says so */
  table: string | undefined;
};

export type DumpFragment = {
  /** the SET lines (and psql's \restrict line) every session needs before any entry */
  preamble: string;
  entries: DumpEntry[];
  /** what follows the last entry (the "dump complete" comment and \unrestrict) */
  tail: string;
};

const HEADER =
  /\n--\n-- (?:Data for )?Name: ([^\n]*?); Type: ([A-Z][A-Z ]*); Schema: ([^\n;]*); Owner: [^\n]*\n--\n/g;
const COMPLETE = /\n--\n-- PostgreSQL database dump complete\n--\n/;
const IDENT = String.raw`(?:"(?:[^"]|"")*"|[^\s."(),;]+)`;
const QUALIFIED = String.raw`(${IDENT}\.${IDENT})`;
const ALTER_TABLE = new RegExp(String.raw`^ALTER TABLE (?:ONLY )?${QUALIFIED}`, 'm');
const CREATE_INDEX = new RegExp(
  String.raw`^CREATE (?:UNIQUE )?INDEX ${IDENT} ON (?:ONLY )?${QUALIFIED}`,
  'm',
);

export function splitFragment(text: string): DumpFragment {
  const headers = [...text.matchAll(HEADER)];
  const completeAt = text.search(COMPLETE);
  const end = completeAt >= 0 ? completeAt : text.length;
  if (headers.length === 0) return { preamble: text.slice(0, end), entries: [], tail: text.slice(end) };
  const entries = headers.map((h, i) => {
    const start = h.index!;
    const stop = i + 1 < headers.length ? headers[i + 1]!.index! : end;
    const sql = text.slice(start, stop);
    const body = sql.slice(h[0].length);
    const table = (ALTER_TABLE.exec(body) ?? CREATE_INDEX.exec(body))?.[1];
    return { name: h[1]!, type: h[2]!, schema: h[3]!, sql, table };
  });
  return { preamble: text.slice(0, headers[0]!.index!), entries, tail: text.slice(end) };
}

/** The psql lines that end a fragment's restricted mode (\unrestrict), to close every script we build. */
export function closingLines(fragment: DumpFragment): string {
  return fragment.tail
    .split('\n')
    .filter((line) => line.startsWith('\\unrestrict'))
    .map((line) => `${line}\n`)
    .join('');
}

/** A runnable script: the fragment's preamble, the entries, and its closing lines. */
export function scriptOf(fragment: DumpFragment, entries: readonly DumpEntry[]): string {
  return `${fragment.preamble}${entries.map((e) => e.sql).join('')}\n${closingLines(fragment)}`;
}

/**
 * The post-data entries in three waves, in dependency order:
 *  1. indexes and primary-key/unique/check/exclusion constraints, grouped by table (the groups of
 *     different tables run concurrently; one table's are built one after another, as its
 *     ACCESS EXCLUSIVE locks would serialise them anyway);
 *  2. foreign keys, each on its own (they need the unique indexes of wave 1);
 *  3. everything else (triggers, rules, comments, index attachments, materialized view data,
 *     policies, ...) in pg_dump's order, on one session.
 */
export function postDataWaves(fragment: DumpFragment): {
  groups: DumpEntry[][];
  foreignKeys: DumpEntry[];
  rest: DumpEntry[];
} {
  const byTable = new Map<string, DumpEntry[]>();
  const foreignKeys: DumpEntry[] = [];
  const rest: DumpEntry[] = [];
  for (const entry of fragment.entries) {
    if ((entry.type === 'INDEX' || entry.type === 'CONSTRAINT') && entry.table) {
      const group = byTable.get(entry.table) ?? [];
      group.push(entry);
      byTable.set(entry.table, group);
    } else if (entry.type === 'FK CONSTRAINT' && entry.table) foreignKeys.push(entry);
    else rest.push(entry);
  }
  return { groups: [...byTable.values()], foreignKeys, rest };
}
