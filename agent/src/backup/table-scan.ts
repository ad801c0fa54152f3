// Per-table row counts and content checksums, computed from a dump's plain SQL as it streams past
// (FORMAT.md §12). The same scanner runs twice: on the backup's dump while backing up, and on a
// dump of the restored copy during a test restore; equal counts and hashes mean the copy holds the
// rows that were dumped, byte for byte as the dump tool wrote them.
//
//   PostgreSQL:     each table's COPY block: rows = its lines, sha256 over those lines (with their
//                   newlines), header and "\." terminator excluded.
//   MySQL/MariaDB:  each table's INSERT statements: rows = its value tuples, sha256 over every
//                   statement from its VALUES list to the end of the line. CREATE TABLE registers a
//                   table with 0 rows, so empty tables are listed too.
//
// The hot paths are one V8 string newline search per COPY row over a latin1 copy of the chunk
// (PostgreSQL; the row bytes are hashed with one update() per chunk) or one tight byte loop
// (MySQL's quoted strings), and nothing is buffered but a line head: the scanner's memory is
// constant.
import { createHash, type Hash } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EngineName } from '../engines/index.ts';
import { encodeStatsLine, type TableStats } from '../format/index.ts';

export type TableStat = {
  /** the table as the dump names it: PostgreSQL `schema.table` (quoted as pg_dump quotes), MySQL the raw name */
  name: string;
  rows: number;
  /** lowercase hex SHA-256 of the table's row bytes (see above) */
  sha256: string;
  /** the row bytes hashed: a size estimate for the restored table */
  bytes: number;
};

export type Dialect = 'postgres' | 'mysql';

export interface TableScanner {
  write(chunk: Buffer): void;
  /** the tables seen, in dump order; call once at the end of the stream */
  end(): TableStat[];
}

/** The SQL engines' dump dialects; undefined for sources whose backups are files. */
export function dialectOf(engine: EngineName): Dialect | undefined {
  if (engine === 'postgres') return 'postgres';
  return engine === 'mysql' || engine === 'mariadb' ? 'mysql' : undefined;
}

export type StatsTap = {
  /** the dump's bytes, unchanged, then (with `line`) the statistics line of FORMAT.md §12 */
  output: Readable;
  /** the statistics, once `output` ended */
  stats(): TableStats;
};

/**
 * Counts and hashes the dump on its way to the compressor. The dump's own failure is reported by
 * its exit status (the backup fails then, with or without statistics), so a stream error here
 * only ends the output.
 */
export function tapTableStats(input: Readable, dialect: Dialect, opts: { line: boolean }): StatsTap {
  const scanner = createTableScanner(dialect);
  let tables: TableStat[] | undefined;
  const output = new Transform({
    highWaterMark: 256 * 1024,
    transform(chunk: Buffer, _encoding, callback) {
      scanner.write(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      tables = scanner.end();
      callback(null, opts.line ? encodeStatsLine({ dialect, tables }) : undefined);
    },
  });
  pipeline(input, output).catch(() => {});
  return {
    output,
    stats() {
      if (!tables) throw new Error('the dump has not ended');
      return { format: 'resistro-table-stats-1', dialect, tables };
    },
  };
}

export function createTableScanner(dialect: Dialect): TableScanner {
  return dialect === 'postgres' ? new PostgresScanner() : new MysqlScanner();
}

class Tally {
  readonly name: string;
  rows = 0;
  bytes = 0;
  readonly #hash: Hash = createHash('sha256');
  constructor(name: string) {
    this.name = name;
  }
  add(data: Buffer): void {
    if (data.length === 0) return;
    this.#hash.update(data);
    this.bytes += data.length;
  }
  stat(): TableStat {
    return { name: this.name, rows: this.rows, sha256: this.#hash.digest('hex'), bytes: this.bytes };
  }
}

class Tallies {
  readonly #byName = new Map<string, Tally>();
  get(name: string): Tally {
    let t = this.#byName.get(name);
    if (!t) {
      t = new Tally(name);
      this.#byName.set(name, t);
    }
    return t;
  }
  stats(): TableStat[] {
    return [...this.#byName.values()].map((t) => t.stat());
  }
}

const NL = 10;
/** a line head longer than this is no COPY header / INSERT we care about (bounded memory) */
const MAX_HEAD = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// PostgreSQL

const TERMINATOR = Buffer.from('\\.\n');

/** `COPY schema.table (cols) FROM stdin;` → `schema.table`; undefined for any other line. */
export function copyTableName(line: string): string | undefined {
  if (!line.startsWith('COPY ') || !line.endsWith(' FROM stdin;')) return undefined;
  const ident = String.raw`(?:"(?:[^"]|"")*"|[^\s."(]+)`;
  const m = new RegExp(`^COPY (${ident}(?:\\.${ident})?) `).exec(line);
  return m?.[1];
}

class PostgresScanner implements TableScanner {
  readonly #tallies = new Tallies();
  /** inside a COPY block: its table */
  #table: Tally | undefined;
  /** outside: the current line's beginning, until its newline arrives */
  #head: Buffer[] = [];
  #headBytes = 0;
  /** inside, at a line start: bytes that may begin the terminator "\.\n" (not yet counted) */
  #pending: Buffer | undefined;
  #atLineStart = true;
  /** the current chunk as latin1 text (one char per byte), made when a COPY block needs it */
  #text: string | undefined;

  write(chunk: Buffer): void {
    let buf = chunk;
    if (this.#pending) {
      buf = Buffer.concat([this.#pending, chunk]);
      this.#pending = undefined;
    }
    this.#text = undefined;
    let p = 0;
    while (p < buf.length) p = this.#table ? this.#inside(buf, p, this.#table) : this.#outside(buf, p);
    this.#text = undefined;
  }

  end(): TableStat[] {
    return this.#tallies.stats();
  }

  #outside(buf: Buffer, p: number): number {
    const nl = buf.indexOf(NL, p);
    if (nl === -1) {
      if (this.#headBytes < MAX_HEAD) {
        this.#head.push(buf.subarray(p));
        this.#headBytes += buf.length - p;
      }
      return buf.length;
    }
    const line =
      this.#head.length === 0
        ? buf.toString('utf8', p, Math.min(nl, p + MAX_HEAD))
        : Buffer.concat([...this.#head, buf.subarray(p, nl)]).toString('utf8');
    this.#head = [];
    this.#headBytes = 0;
    const name = line.startsWith('COPY ') ? copyTableName(line) : undefined;
    if (name !== undefined) {
      this.#table = this.#tallies.get(name);
      this.#atLineStart = true;
    }
    return nl + 1;
  }

  #inside(buf: Buffer, p: number, table: Tally): number {
    if (this.#atLineStart) {
      const left = buf.length - p;
      if (left < TERMINATOR.length) {
        if (TERMINATOR.subarray(0, left).equals(buf.subarray(p))) {
          this.#pending = Buffer.from(buf.subarray(p)); // decided by the next chunk
          return buf.length;
        }
      } else if (buf[p] === 0x5c && buf[p + 1] === 0x2e && buf[p + 2] === NL) {
        this.#table = undefined;
        return p + TERMINATOR.length;
      }
    }
    // One pass over the newlines (a latin1 copy of the bytes, one char per byte, so V8's own
    // String indexOf finds them without a call into C++ per row): count the rows, and after each
    // newline check whether the next line is the terminator "\.\n" — the first such newline is
    // where buf.indexOf("\n\\.\n") would point.
    // Made once per chunk (a chunk may hold many small blocks), indices equal to buf's.
    this.#text ??= buf.toString('latin1');
    const text = this.#text;
    let rows = 0;
    let last = -1;
    for (let i = text.indexOf('\n', p); i !== -1; i = text.indexOf('\n', i + 1)) {
      rows++;
      last = i;
      if (
        text.charCodeAt(i + 1) === 0x5c &&
        text.charCodeAt(i + 2) === 0x2e &&
        text.charCodeAt(i + 3) === NL
      ) {
        table.add(buf.subarray(p, i + 1));
        table.rows += rows;
        this.#atLineStart = true;
        return i + 1;
      }
    }
    if (last === -1) {
      table.add(buf.subarray(p));
      this.#atLineStart = false;
      return buf.length;
    }
    table.rows += rows;
    table.add(buf.subarray(p, last + 1));
    const rest = buf.subarray(last + 1);
    // "\" or "\." at the very end may be the terminator's start: keep it for the next chunk.
    if (
      rest.length > 0 &&
      rest.length < TERMINATOR.length &&
      TERMINATOR.subarray(0, rest.length).equals(rest)
    ) {
      this.#pending = Buffer.from(rest);
      this.#atLineStart = true;
    } else {
      table.add(rest);
      this.#atLineStart = rest.length === 0;
    }
    return buf.length;
  }
}

// ---------------------------------------------------------------------------------------------
// MySQL / MariaDB

const INSERT_HEAD = 'INSERT INTO `';
const CREATE_HEAD = 'CREATE TABLE `';
const VALUES_WORD = Buffer.from(' VALUES');
const SEMICOLON = 0x3b;
const QUOTE = 0x27;
const BACKSLASH = 0x5c;
const OPEN = 0x28;

/** A backquoted identifier at the start of `text` (mysqldump doubles inner backquotes). */
function backquoted(text: string): { name: string; length: number } | undefined {
  if (!text.startsWith('`')) return undefined;
  let i = 1;
  let name = '';
  for (;;) {
    const close = text.indexOf('`', i);
    if (close === -1) return undefined;
    name += text.slice(i, close);
    if (text[close + 1] === '`') {
      name += '`';
      i = close + 2;
      continue;
    }
    return { name, length: close + 1 };
  }
}

/** What a dump line begins with: rows of a table, a table's definition, or nothing of interest. */
export function classifyMysqlHead(
  head: string,
): { kind: 'insert'; name: string } | { kind: 'create'; name: string } | undefined {
  if (head.startsWith('INSERT INTO `')) {
    const id = backquoted(head.slice('INSERT INTO '.length));
    return id ? { kind: 'insert', name: id.name } : undefined;
  }
  if (head.startsWith('CREATE TABLE `')) {
    const id = backquoted(head.slice('CREATE TABLE '.length));
    return id ? { kind: 'create', name: id.name } : undefined;
  }
  return undefined;
}

/**
 * Where the value list of an INSERT head begins (just after " VALUES"), or -1 while unknown.
 * mysqldump writes `INSERT INTO t VALUES (…),(…);` on one line; mariadb-dump 10.11 writes
 * `INSERT INTO t VALUES` and then one tuple per line. With generated columns a column list comes
 * first: `INSERT INTO t (a, b) VALUES …`.
 */
function valuesStart(head: Buffer, lineEnded: boolean): number {
  for (let at = head.indexOf(VALUES_WORD); at !== -1; at = head.indexOf(VALUES_WORD, at + 1)) {
    const end = at + VALUES_WORD.length;
    if (end === head.length ? lineEnded : head[end] === 0x20) return end;
  }
  return -1;
}

class MysqlScanner implements TableScanner {
  readonly #tallies = new Tallies();
  /** 'head': collecting a line's start; 'skip': rest of a line of no interest; 'values': an INSERT */
  #state: 'head' | 'skip' | 'values' = 'head';
  #head: Buffer[] = [];
  #table: Tally | undefined;
  #inString = false;
  #escaped = false;

  write(chunk: Buffer): void {
    let p = 0;
    while (p < chunk.length) {
      if (this.#state === 'skip') {
        const nl = chunk.indexOf(NL, p);
        if (nl === -1) return;
        this.#state = 'head';
        p = nl + 1;
      } else if (this.#state === 'head') p = this.#readHead(chunk, p);
      else p = this.#values(chunk, p, this.#table!);
    }
  }

  end(): TableStat[] {
    return this.#tallies.stats();
  }

  #readHead(buf: Buffer, p: number): number {
    // Most lines are decided by their first bytes: only INSERT and CREATE TABLE lines matter.
    const nl = buf.indexOf(NL, p);
    const stop = nl === -1 ? buf.length : nl;
    const head =
      this.#head.length === 0 ? buf.subarray(p, stop) : Buffer.concat([...this.#head, buf.subarray(p, stop)]);
    const before = head.length - (stop - p); // bytes of the head from earlier chunks
    const probe = head.toString('latin1', 0, 14);
    const candidate = INSERT_HEAD.startsWith(probe.slice(0, 13)) || CREATE_HEAD.startsWith(probe);
    const values = candidate && probe.startsWith(INSERT_HEAD) ? valuesStart(head, nl !== -1) : -1;
    const found = candidate
      ? classifyMysqlHead(head.toString('utf8', 0, values === -1 ? Math.min(head.length, MAX_HEAD) : values))
      : undefined;
    if (found?.kind === 'insert' && values !== -1) {
      this.#head = [];
      this.#table = this.#tallies.get(found.name);
      this.#state = 'values';
      this.#inString = false;
      this.#escaped = false;
      return p + (values - before);
    }
    if (found?.kind === 'create') this.#tallies.get(found.name);
    if (!candidate || found?.kind === 'create' || nl !== -1 || head.length >= MAX_HEAD) {
      this.#head = [];
      this.#state = nl === -1 ? 'skip' : 'head';
      return nl === -1 ? buf.length : nl + 1;
    }
    // an INSERT (or CREATE TABLE) whose head continues in the next chunk
    this.#head = [Buffer.from(head)];
    return buf.length;
  }

  /** One INSERT's value list: count the tuples, hash the bytes, until the ";" ending it. */
  #values(buf: Buffer, p: number, table: Tally): number {
    let inString = this.#inString;
    let escaped = this.#escaped;
    let rows = 0;
    let i = p;
    let end = -1;
    for (; i < buf.length; i++) {
      const b = buf[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (b === BACKSLASH) escaped = true;
        else if (b === QUOTE) inString = false;
      } else if (b === QUOTE) inString = true;
      else if (b === OPEN) rows++;
      else if (b === SEMICOLON) {
        end = i;
        break;
      }
    }
    this.#inString = inString;
    this.#escaped = escaped;
    table.rows += rows;
    if (end === -1) {
      table.add(buf.subarray(p));
      return buf.length;
    }
    table.add(buf.subarray(p, end));
    this.#state = 'skip'; // the rest of the line (its newline)
    return end + 1;
  }
}
