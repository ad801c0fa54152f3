// Just enough of the MySQL/MariaDB binary log format to cut it safely: a binlog file is the 4-byte
// magic "\xfebin" followed by events, each starting with a 19-byte header (timestamp u32, type u8,
// server_id u32, event_size u32, log_pos u32, flags u16; little-endian). event_size covers the
// whole event including its checksum; log_pos is the offset where the next event starts. The
// streamer cuts segments only at event boundaries (a half-written event at the end of the spool
// file waits for the next cut) and reads the event timestamps, which map times to positions.

export const BINLOG_MAGIC = Buffer.from([0xfe, 0x62, 0x69, 0x6e]);
export const EVENT_HEADER_LENGTH = 19;

const STOP_EVENT = 3;
const ROTATE_EVENT = 4;

export type ScanResult = {
  /** offset in the file after the last complete event (the start offset when none is complete) */
  end: number;
  /** complete events seen */
  events: number;
  /** seconds since the epoch of the first and last complete event (0 = none, or a synthetic one) */
  firstEventAt: number;
  lastEventAt: number;
  /** the last complete event ends the file: a rotate to the next file, or the server stopped */
  final: boolean;
};

export class BinlogFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BinlogFormatError';
  }
}

/**
 * Scans `bytes`, which are the file's bytes from offset `start` on (start 0: the file's beginning,
 * magic included), and returns where the complete events end. Refuses bytes that are not a binlog:
 * a wrong magic, an event whose size or log_pos does not fit (the spool file is not what we think).
 */
export function scanEvents(bytes: Buffer, start: number): ScanResult {
  let offset = 0;
  if (start === 0) {
    if (bytes.length < BINLOG_MAGIC.length) return empty(start);
    if (!bytes.subarray(0, BINLOG_MAGIC.length).equals(BINLOG_MAGIC))
      throw new BinlogFormatError('not a binary log: the file does not start with the binlog magic');
    offset = BINLOG_MAGIC.length;
  } else if (start < BINLOG_MAGIC.length) {
    throw new BinlogFormatError(`a binlog position cannot be ${start}`);
  }
  const result = empty(start + offset);
  while (offset + EVENT_HEADER_LENGTH <= bytes.length) {
    const timestamp = bytes.readUInt32LE(offset);
    const type = bytes[offset + 4]!;
    const size = bytes.readUInt32LE(offset + 9);
    const logPos = bytes.readUInt32LE(offset + 13);
    if (size < EVENT_HEADER_LENGTH)
      throw new BinlogFormatError(`event at ${start + offset} claims a size of ${size} bytes`);
    if (offset + size > bytes.length) break;
    const next = start + offset + size;
    // log_pos 0 marks an event that was not read from a file (artificial); in a file it is `next`.
    // Binlog files larger than 4 GiB wrap log_pos; compare modulo 2^32.
    if (logPos !== 0 && logPos !== next % 2 ** 32)
      throw new BinlogFormatError(
        `event at ${start + offset} says the next starts at ${logPos}, not ${next}`,
      );
    offset += size;
    result.end = next;
    result.events++;
    if (timestamp !== 0) {
      if (result.firstEventAt === 0) result.firstEventAt = timestamp;
      result.lastEventAt = Math.max(result.lastEventAt, timestamp);
    }
    result.final = type === ROTATE_EVENT || type === STOP_EVENT;
  }
  return result;
}

function empty(end: number): ScanResult {
  return { end, events: 0, firstEventAt: 0, lastEventAt: 0, final: false };
}

/** "mysql-bin.000042" → { base: "mysql-bin", number: 42 }; undefined for other names. */
export function parseBinlogName(name: string): { base: string; number: number } | undefined {
  const match = /^([A-Za-z0-9_.-]{1,200})\.(\d{6,10})$/.exec(name);
  if (!match) return undefined;
  return { base: match[1]!, number: Number(match[2]) };
}

/** The binlog file after `name`, as the server numbers them (six digits at least). */
export function nextBinlogName(name: string): string | undefined {
  const parsed = parseBinlogName(name);
  if (!parsed) return undefined;
  const digits = name.length - parsed.base.length - 1;
  return `${parsed.base}.${String(parsed.number + 1).padStart(digits, '0')}`;
}

/** Orders binlog names by their number (names of one server share the base). */
export function compareBinlogNames(a: string, b: string): number {
  return (parseBinlogName(a)?.number ?? 0) - (parseBinlogName(b)?.number ?? 0);
}
