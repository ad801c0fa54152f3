// Per-table row counts and content digests, computed from a dump's plain SQL as it streams past
// (FORMAT.md §12). The same scanner runs twice: on the backup's dump while backing up, and on a
// dump of the restored copy during a test restore (with the digest, and its key, the backup's
// statistics name); equal counts and digests mean the copy holds the rows that were dumped, byte
// for byte as the dump tool wrote them.
//
//   PostgreSQL:     each table's COPY block: rows = its lines, digest over those lines (with their
//                   newlines), header and "\." terminator excluded.
//   MySQL/MariaDB:  each table's INSERT statements: rows = its value tuples, digest over every
//                   statement from its VALUES list to the end of the line. CREATE TABLE registers a
//                   table with 0 rows, so empty tables are listed too.
//
// The digest new backups record is GMAC (AES-256-GCM over the rows as associated data, no
// plaintext) under a random key of the backup's own: with AES-NI and carry-less multiplication it
// costs about a tenth of SHA-256 per byte (0.05 against 0.56 CPU-s/GB), with the guarantee argued
// in FORMAT.md §12.1. SHA-256 remains for the statistics of backups written before.
//
// The hot paths are one V8 string newline search per COPY row over a latin1 copy of the chunk
// (PostgreSQL; the row bytes are digested with one update per chunk) or one tight byte loop
// (MySQL's quoted strings), and nothing is buffered but a line head: the scanner's memory is
// constant.
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EngineName } from '../engines/index.ts';
import {
  type AnyTableEntry,
  encodeStatsLine,
  STATS_KEY_LENGTH,
  type TableDigest,
  type TableStats,
} from '../format/index.ts';

/**
 * One table: `name` as the dump names it (PostgreSQL `schema.table` quoted as pg_dump quotes, MySQL
 * the raw name), its rows, the lowercase hex digest of its row bytes (`sha256` or `gmac`, see
 * above) and `bytes`, the row bytes digested (a size estimate for the restored table).
 */
export type TableStat = AnyTableEntry;

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
export function tapTableStats(
  input: Readable,
  dialect: Dialect,
  opts: { line: boolean; digest?: TableDigest },
): StatsTap {
  const digest = opts.digest ?? newStatsDigest();
  const scanner = createTableScanner(dialect, digest);
  let tables: TableStat[] | undefined;
  const output = new Transform({
    highWaterMark: 256 * 1024,
    transform(chunk: Buffer, _encoding, callback) {
      scanner.write(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      tables = scanner.end();
      callback(null, opts.line ? encodeStatsLine(statsObject(dialect, digest, tables)) : undefined);
    },
  });
  pipeline(input, output).catch(() => {});
  return {
    output,
    stats() {
      if (!tables) throw new Error('the dump has not ended');
      return statsObject(dialect, digest, tables);
    },
  };
}

/** The digest a new backup records: GMAC under a fresh random key (FORMAT.md §12.1). */
export function newStatsDigest(): TableDigest {
  // SECURITY: the key is drawn before the dump starts, so no row can be chosen to collide under
  // it; it is stored only inside the encrypted statistics (§12.1).
  return { alg: 'gmac', key: randomBytes(STATS_KEY_LENGTH) };
}

/** The statistics object of a backup, in the format its digest belongs to. */
export function statsObject(dialect: Dialect, digest: TableDigest, tables: TableStat[]): TableStats {
  if (digest.alg === 'gmac')
    return {
      format: 'resistro-table-stats-2',
      dialect,
      key: digest.key.toString('base64url'),
      tables: tables.map((t) => {
        if (!('gmac' in t)) throw new Error('a table without its GMAC');
        return t;
      }),
    };
  return {
    format: 'resistro-table-stats-1',
    dialect,
    tables: tables.map((t) => {
      if (!('sha256' in t)) throw new Error('a table without its SHA-256');
      return t;
    }),
  };
}

/** `digest`: SHA-256 (the format -1 statistics) unless given. */
export function createTableScanner(dialect: Dialect, digest: TableDigest = { alg: 'sha256' }): TableScanner {
  return dialect === 'postgres' ? new PostgresScanner(digest) : new MysqlScanner(digest);
}

/** GMAC is AES-GCM's tag over associated data only; one key per backup, so a fixed nonce (§12.1). */
const GMAC_NONCE = Buffer.alloc(12);

class Tally {
  readonly name: string;
  rows = 0;
  bytes = 0;
  readonly #update: (data: Buffer) => void;
  readonly #digest: () => { sha256: string } | { gmac: string };
  constructor(name: string, digest: TableDigest) {
    this.name = name;
    if (digest.alg === 'sha256') {
      const hash = createHash('sha256');
      this.#update = (data) => hash.update(data);
      this.#digest = () => ({ sha256: hash.digest('hex') });
    } else {
      const gmac = createCipheriv('aes-256-gcm', digest.key, GMAC_NONCE);
      // Repeated associated data is one GHASH input, exactly as if given at once (Node passes
      // each piece to OpenSSL's GCM AAD update, which carries partial blocks over).
      this.#update = (data) => gmac.setAAD(data);
      this.#digest = () => {
        gmac.final();
        return { gmac: gmac.getAuthTag().toString('hex') };
      };
    }
  }
  add(data: Buffer): void {
    if (data.length === 0) return;
    this.#update(data);
    this.bytes += data.length;
  }
  stat(): TableStat {
    return { name: this.name, rows: this.rows, ...this.#digest(), bytes: this.bytes };
  }
}

class Tallies {
  readonly #digest: TableDigest;
  readonly #byName = new Map<string, Tally>();
  constructor(digest: TableDigest) {
    this.#digest = digest;
  }
  get(name: string): Tally {
    let t = this.#byName.get(name);
    if (!t) {
      t = new Tally(name, this.#digest);
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
  readonly #tallies: Tallies;
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

  constructor(digest: TableDigest) {
    this.#tallies = new Tallies(digest);
  }

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
  readonly #tallies: Tallies;
  /** 'head': collecting a line's start; 'skip': rest of a line of no interest; 'values': an INSERT */
  #state: 'head' | 'skip' | 'values' = 'head';
  #head: Buffer[] = [];
  #table: Tally | undefined;
  #inString = false;
  #escaped = false;

  constructor(digest: TableDigest) {
    this.#tallies = new Tallies(digest);
  }

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
