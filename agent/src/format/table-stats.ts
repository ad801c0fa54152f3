// Per-table statistics inside a backup (FORMAT.md §12): the row count and content digest of every
// table, as the agent computed them from the dump while backing up. Table names and counts are the
// customer's data, so they only ever travel encrypted, inside the file:
//   version 2: the `tableStats2` (or, written before it, `tableStats`) key of the encrypted TOC;
//   version 1: the last line of the (encrypted) payload, an SQL comment that psql and mysql skip:
//              "\n-- resistro-table-stats-2 " || JSON || "\n"   (…-1 before it)
// Two object formats: -1 (SHA-256 per table, written until agent 2026-12) and -2 (GMAC per table,
// keyed with a random key of the backup's own; §12.1 says why). Both read; only -2 is written.
// Files written before either existed have no statistics; they restore exactly as before.

export const TABLE_STATS_FORMAT = 'resistro-table-stats-1';
export const TABLE_STATS_FORMAT_2 = 'resistro-table-stats-2';
/** what the last line of a version 1 payload starts with (after its newline), either format */
export const STATS_LINE_PREFIX = Buffer.from('\n-- resistro-table-stats-');
/** a statistics line longer than this is refused (about 100 000 tables) */
export const MAX_STATS_LINE = 16 * 1024 * 1024;
/** bytes of a format -2 statistics key (AES-256) */
export const STATS_KEY_LENGTH = 32;

/** format -1: SHA-256 of the table's row bytes */
export type TableStatEntry = { name: string; rows: number; sha256: string; bytes: number };
/** format -2: GMAC (AES-256-GCM, no plaintext) of the table's row bytes under the statistics key */
export type TableMacEntry = { name: string; rows: number; gmac: string; bytes: number };
export type AnyTableEntry = TableStatEntry | TableMacEntry;

export type TableStats =
  | {
      format: typeof TABLE_STATS_FORMAT;
      /** how the rows were read: PostgreSQL COPY blocks or MySQL INSERT statements */
      dialect: 'postgres' | 'mysql';
      tables: TableStatEntry[];
    }
  | {
      format: typeof TABLE_STATS_FORMAT_2;
      dialect: 'postgres' | 'mysql';
      /** base64url of the STATS_KEY_LENGTH-byte key the GMACs are computed with */
      key: string;
      tables: TableMacEntry[];
    };

/** How a table's rows are digested: what the statistics record, so a test restore does the same. */
export type TableDigest = { alg: 'sha256' } | { alg: 'gmac'; key: Buffer };

/** The digest a table entry records (hex), whichever format. */
export function entryDigest(t: AnyTableEntry): string {
  return 'gmac' in t ? t.gmac : t.sha256;
}

/** The digest the statistics were made with, to compute the restored copy's the same way. */
export function statsDigest(stats: TableStats): TableDigest {
  return stats.format === TABLE_STATS_FORMAT_2
    ? { alg: 'gmac', key: Buffer.from(stats.key, 'base64url') }
    : { alg: 'sha256' };
}

export class TableStatsError extends Error {
  constructor(message: string) {
    super(`the table statistics in the backup are malformed: ${message}`);
    this.name = 'TableStatsError';
  }
}

/** Checks a parsed statistics object (either format); throws TableStatsError. */
export function parseTableStats(raw: unknown): TableStats {
  const o = raw as { format?: unknown; dialect?: unknown; key?: unknown; tables?: unknown } | null;
  if (
    typeof o !== 'object' ||
    o === null ||
    (o.format !== TABLE_STATS_FORMAT && o.format !== TABLE_STATS_FORMAT_2)
  )
    throw new TableStatsError('format');
  if (o.dialect !== 'postgres' && o.dialect !== 'mysql') throw new TableStatsError('dialect');
  if (!Array.isArray(o.tables)) throw new TableStatsError('tables');
  const count = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  const entry = (t: Record<string, unknown>, i: number, field: 'sha256' | 'gmac', hexLength: number) => {
    if (
      typeof t !== 'object' ||
      t === null ||
      typeof t.name !== 'string' ||
      !count(t.rows) ||
      !count(t.bytes) ||
      typeof t[field] !== 'string' ||
      !new RegExp(`^[0-9a-f]{${hexLength}}$`).test(t[field] as string)
    )
      throw new TableStatsError(`table ${i}`);
    return { name: t.name, rows: t.rows as number, digest: t[field] as string, bytes: t.bytes as number };
  };
  if (o.format === TABLE_STATS_FORMAT)
    return {
      format: TABLE_STATS_FORMAT,
      dialect: o.dialect,
      tables: o.tables.map((t, i) => {
        const e = entry(t, i, 'sha256', 64);
        return { name: e.name, rows: e.rows, sha256: e.digest, bytes: e.bytes };
      }),
    };
  if (
    typeof o.key !== 'string' ||
    !/^[A-Za-z0-9_-]+$/.test(o.key) ||
    Buffer.from(o.key, 'base64url').length !== STATS_KEY_LENGTH
  )
    throw new TableStatsError('key');
  return {
    format: TABLE_STATS_FORMAT_2,
    dialect: o.dialect,
    key: o.key,
    tables: o.tables.map((t, i) => {
      const e = entry(t, i, 'gmac', 32);
      return { name: e.name, rows: e.rows, gmac: e.digest, bytes: e.bytes };
    }),
  };
}

/** The object as written (keys in a fixed order, so equal statistics give equal bytes). */
export function tableStatsObject(stats: TableStats): TableStats {
  if (stats.format === TABLE_STATS_FORMAT_2)
    return {
      format: TABLE_STATS_FORMAT_2,
      dialect: stats.dialect,
      key: stats.key,
      tables: stats.tables.map((t) => ({ name: t.name, rows: t.rows, gmac: t.gmac, bytes: t.bytes })),
    };
  return {
    format: TABLE_STATS_FORMAT,
    dialect: stats.dialect,
    tables: stats.tables.map((t) => ({ name: t.name, rows: t.rows, sha256: t.sha256, bytes: t.bytes })),
  };
}

/** Version 1: the line appended to the payload after the dump's last byte. */
export function encodeStatsLine(stats: TableStats): Buffer {
  // JSON.stringify escapes every control character: the line cannot contain a newline.
  return Buffer.concat([
    Buffer.from(`\n-- ${stats.format} `),
    Buffer.from(JSON.stringify(tableStatsObject(stats))),
    Buffer.from('\n'),
  ]);
}

/**
 * Finds the statistics line at the end of a version 1 payload while it streams past (the restore,
 * or the full check): feed every chunk, then result(). Keeps only a few bytes unless it is inside
 * a candidate line; a candidate followed by anything but the end of the payload is dropped, so
 * only the very last line counts.
 */
export class StatsLineCatcher {
  #tail = Buffer.alloc(0);
  #line: Buffer[] | undefined;
  #lineBytes = 0;
  #tooLong = false;
  /** the candidate line has ended with its newline: it is the last one unless more follows */
  #complete = false;

  write(chunk: Buffer): void {
    if (chunk.length === 0) return;
    let buf = chunk;
    if (this.#complete) {
      // More follows the line: it was not the last one; its newline may start the next candidate.
      this.#reset();
      this.#tail = Buffer.from('\n');
    }
    for (;;) {
      if (this.#line) {
        const nl = buf.indexOf(10);
        if (nl === -1) {
          this.#keep(buf);
          return;
        }
        this.#keep(buf.subarray(0, nl + 1));
        const rest = buf.subarray(nl + 1);
        if (rest.length === 0) {
          this.#complete = true;
          return;
        }
        this.#reset();
        this.#tail = Buffer.from(buf.subarray(nl, nl + 1));
        buf = rest;
      }
      const joined = this.#tail.length > 0 ? Buffer.concat([this.#tail, buf]) : buf;
      const at = joined.indexOf(STATS_LINE_PREFIX);
      if (at === -1) {
        this.#tail = Buffer.from(joined.subarray(Math.max(0, joined.length - STATS_LINE_PREFIX.length + 1)));
        return;
      }
      this.#tail = Buffer.alloc(0);
      this.#line = [];
      this.#lineBytes = 0;
      buf = joined.subarray(at + STATS_LINE_PREFIX.length);
    }
  }

  #reset(): void {
    this.#line = undefined;
    this.#lineBytes = 0;
    this.#tooLong = false;
    this.#complete = false;
  }

  #keep(part: Buffer): void {
    this.#lineBytes += part.length;
    if (this.#lineBytes > MAX_STATS_LINE) this.#tooLong = true;
    else this.#line!.push(Buffer.from(part));
  }

  /** the statistics, or undefined when the payload does not end with them (an older backup) */
  result(): TableStats | undefined {
    if (!this.#line || !this.#complete || this.#tooLong) return undefined;
    // after the common prefix: "1 {…}" or "2 {…}", the number repeating the object's format
    const text = Buffer.concat(this.#line).toString('utf8');
    const m = /^([12]) (.*)\n$/s.exec(text);
    if (!m) throw new TableStatsError('not a statistics line');
    let raw: unknown;
    try {
      raw = JSON.parse(m[2]!);
    } catch {
      throw new TableStatsError('not JSON');
    }
    const stats = parseTableStats(raw);
    if (stats.format !== `resistro-table-stats-${m[1]}`) throw new TableStatsError('format');
    return stats;
  }
}
