// Per-table statistics inside a backup (FORMAT.md §12): the row count and content hash of every
// table, as the agent computed them from the dump while backing up. Table names and counts are the
// customer's data, so they only ever travel encrypted, inside the file:
//   version 2: the `tableStats` key of the (encrypted) table of contents;
//   version 1: the last line of the (encrypted) payload, an SQL comment that psql and mysql skip:
//              "\n-- resistro-table-stats-1 " || JSON || "\n"
// Files written before either existed have no statistics; they restore exactly as before.

export const TABLE_STATS_FORMAT = 'resistro-table-stats-1';
/** what the last line of a version 1 payload starts with (after its newline) */
export const STATS_LINE_PREFIX = Buffer.from(`\n-- ${TABLE_STATS_FORMAT} `);
/** a statistics line longer than this is refused (about 100 000 tables) */
export const MAX_STATS_LINE = 16 * 1024 * 1024;

export type TableStatEntry = { name: string; rows: number; sha256: string; bytes: number };

export type TableStats = {
  format: typeof TABLE_STATS_FORMAT;
  /** how the rows were read: PostgreSQL COPY blocks or MySQL INSERT statements */
  dialect: 'postgres' | 'mysql';
  tables: TableStatEntry[];
};

export class TableStatsError extends Error {
  constructor(message: string) {
    super(`the table statistics in the backup are malformed: ${message}`);
    this.name = 'TableStatsError';
  }
}

/** Checks a parsed statistics object; throws TableStatsError. */
export function parseTableStats(raw: unknown): TableStats {
  const o = raw as Partial<TableStats> | null;
  if (typeof o !== 'object' || o === null || o.format !== TABLE_STATS_FORMAT)
    throw new TableStatsError('format');
  if (o.dialect !== 'postgres' && o.dialect !== 'mysql') throw new TableStatsError('dialect');
  if (!Array.isArray(o.tables)) throw new TableStatsError('tables');
  const count = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  const tables = o.tables.map((t: Partial<TableStatEntry>, i) => {
    if (
      typeof t !== 'object' ||
      t === null ||
      typeof t.name !== 'string' ||
      !count(t.rows) ||
      !count(t.bytes) ||
      typeof t.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(t.sha256)
    )
      throw new TableStatsError(`table ${i}`);
    return { name: t.name, rows: t.rows!, sha256: t.sha256, bytes: t.bytes! };
  });
  return { format: TABLE_STATS_FORMAT, dialect: o.dialect, tables };
}

/** The object as written (keys in a fixed order, so equal statistics give equal bytes). */
export function tableStatsObject(stats: Omit<TableStats, 'format'>): TableStats {
  return {
    format: TABLE_STATS_FORMAT,
    dialect: stats.dialect,
    tables: stats.tables.map((t) => ({ name: t.name, rows: t.rows, sha256: t.sha256, bytes: t.bytes })),
  };
}

/** Version 1: the line appended to the payload after the dump's last byte. */
export function encodeStatsLine(stats: Omit<TableStats, 'format'>): Buffer {
  // JSON.stringify escapes every control character: the line cannot contain a newline.
  return Buffer.concat([
    STATS_LINE_PREFIX,
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
    const text = Buffer.concat(this.#line).toString('utf8');
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new TableStatsError('not JSON');
    }
    return parseTableStats(raw);
  }
}
