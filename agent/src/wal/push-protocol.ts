// The wire between `resistro wal-push` (PostgreSQL's archive_command, running as the server's user)
// and the agent daemon, over a Unix socket:
//   client → `RESISTRO-WAL-PUSH 1 <file name> <size> <sha256 hex> <database or ->\n` then <size> bytes
//   agent  → `ok\n` once the file is in its spool and fsync'ed, or `error <message>\n`
// The agent answers ok only after the file and its directory entry are on disk, so archive_command
// returns 0 only when PostgreSQL may recycle the segment; anything else (no agent, no answer, an
// error) is a non-zero exit and PostgreSQL keeps the segment and retries.

export const PUSH_MAGIC = 'RESISTRO-WAL-PUSH 1';
/** PostgreSQL's largest WAL segment size (--wal-segsize 1024) */
export const MAX_PUSH_BYTES = 1024 * 1024 * 1024;

/** A WAL segment, a timeline history file, a backup history file, or a segment's .partial. */
const PUSHABLE = /^(?:[0-9A-F]{24}(?:\.partial)?|[0-9A-F]{8}\.history|[0-9A-F]{24}\.[0-9A-F]{8}\.backup)$/;
const SEGMENT = /^[0-9A-F]{24}$/;

export type PushHeader = { name: string; size: number; sha256: string; database: string | undefined };

export function isPushable(name: string): boolean {
  return PUSHABLE.test(name);
}

export function isSegment(name: string): boolean {
  return SEGMENT.test(name);
}

export function encodeHeader(h: PushHeader): string {
  return `${PUSH_MAGIC} ${h.name} ${h.size} ${h.sha256} ${h.database ?? '-'}\n`;
}

/** Parses the header line (without its newline); a message for anything malformed. */
export function parseHeader(line: string): PushHeader | string {
  if (!line.startsWith(`${PUSH_MAGIC} `)) return 'not a wal-push request';
  const [name, size, sha256, database, ...extra] = line.slice(PUSH_MAGIC.length + 1).split(' ');
  if (extra.length > 0 || !name || !size || !sha256 || !database) return 'malformed wal-push request';
  if (!isPushable(name)) return `"${name.slice(0, 64)}" is not a WAL file name`;
  if (!/^\d{1,10}$/.test(size) || Number(size) > MAX_PUSH_BYTES) return 'size out of range';
  if (!/^[0-9a-f]{64}$/.test(sha256)) return 'malformed checksum';
  if (database !== '-' && !/^[A-Za-z0-9_.-]{1,200}$/.test(database)) return 'malformed database';
  return { name, size: Number(size), sha256, database: database === '-' ? undefined : database };
}

/**
 * The cluster a WAL segment belongs to: the system identifier in the long header of its first page
 * (XLogLongPageHeaderData: the 20-byte page header, padded to 24, then xlp_sysid as uint64).
 * Undefined when the bytes do not start with a long page header.
 */
export function segmentSystemId(wal: Buffer): string | undefined {
  if (wal.length < 40) return undefined;
  const XLP_LONG_HEADER = 0x0002;
  if ((wal.readUInt16LE(2) & XLP_LONG_HEADER) === 0) return undefined;
  return wal.readBigUInt64LE(24).toString();
}
