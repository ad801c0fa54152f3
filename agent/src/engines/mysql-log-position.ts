// Where in the binary log a MySQL/MariaDB dump's snapshot stands, so that point-in-time recovery can
// replay the binlog from exactly there (issue 13). The dump tool writes it itself, from inside its
// own --single-transaction snapshot: with --master-data=2 (MariaDB) / --source-data=2 (MySQL 8.0.26+)
// a commented CHANGE MASTER line near the top, and MariaDB adds the GTID position as a comment at
// the end. The agent cannot ask the server afterwards: the position of the snapshot is only known
// inside the dump tool's connection. So the dump stream is watched as it passes: the first 64 KiB
// for the position, a rolling tail for the GTID. The lines stay in the dump (encrypted with it);
// the control plane learns only the position, to pick the dump a restore starts from.
//
// MariaDB takes the position from the snapshot itself (binlog_snapshot_file/position), with no
// global read lock and no extra privilege. Oracle mysqldump needs FLUSH TABLES WITH READ LOCK for
// it (RELOAD and REPLICATION CLIENT): it is asked for only when the account has them, so a backup
// that worked before never starts failing for a privilege it did not need.
import { Transform, type TransformCallback } from 'node:stream';
import { isMariadbBuild } from './mysql-tools.ts';

export type LogPosition = {
  /** binlog file name as the server names it, e.g. "mysql-bin.000042" */
  file: string;
  /** byte offset in that file of the first event after the snapshot */
  pos: number;
  /** MariaDB "domain-server-seq[,…]" (or MySQL uuid:interval set) where known */
  gtid?: string;
  /**
   * when the dump tool printed it, which is after its snapshot began: a point-in-time restore to
   * an earlier moment must not start from this dump
   */
  seenAt?: Date;
};

const HEAD_BYTES = 64 * 1024;
const TAIL_BYTES = 4 * 1024;

const POSITION_LINE =
  /^-- CHANGE (?:MASTER|REPLICATION SOURCE) TO (?:MASTER|SOURCE)_LOG_FILE='([^'\n]{1,255})', (?:MASTER|SOURCE)_LOG_POS=(\d{1,20});$/m;
const GTID_LINE = /^-- SET GLOBAL gtid_slave_pos='([0-9,-]{1,2000})';$/m;

/** The position from a dump's first bytes and its GTID from its last bytes (either may be absent). */
export function parseLogPosition(head: string, tail: string): LogPosition | undefined {
  const position = POSITION_LINE.exec(head);
  if (!position) return undefined;
  const pos = Number(position[2]);
  if (!Number.isSafeInteger(pos) || pos < 4) return undefined;
  const gtid = GTID_LINE.exec(tail)?.[1];
  return { file: position[1]!, pos, ...(gtid ? { gtid } : {}) };
}

/**
 * The dump option that makes the tool write its snapshot's position, or none: when the server
 * writes no binary log there is nothing to replay later (and the option would fail the dump).
 */
export function logPositionArgs(
  tool: { version: string },
  server: { logBin: boolean; version: string; mayLockForPosition: boolean },
): string[] {
  if (!server.logBin) return [];
  if (isMariadbBuild(tool.version)) {
    // MariaDB's tool reads a MariaDB server's snapshot position lock-free; a MySQL server would
    // need the global read lock, so the same rule as for Oracle's tool applies there.
    return isMariadbBuild(server.version) || server.mayLockForPosition ? ['--master-data=2'] : [];
  }
  if (!server.mayLockForPosition) return [];
  const [major = 0, minor = 0, patch = 0] = tool.version.split(/[.-]/).map(Number);
  const modern = major > 8 || (major === 8 && (minor > 0 || patch >= 26));
  return [modern ? '--source-data=2' : '--master-data=2'];
}

/** A pass-through that remembers the dump's first and last bytes; `position()` once it ended. */
export class LogPositionWatcher extends Transform {
  #head = '';
  #tail = Buffer.alloc(0);
  #seenAt: Date | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#head.length < HEAD_BYTES) {
      this.#head += chunk.subarray(0, HEAD_BYTES - this.#head.length).toString('latin1');
      if (!this.#seenAt && POSITION_LINE.test(this.#head)) this.#seenAt = new Date();
    }
    this.#tail =
      chunk.length >= TAIL_BYTES
        ? Buffer.from(chunk.subarray(chunk.length - TAIL_BYTES))
        : Buffer.concat([this.#tail, chunk]).subarray(-TAIL_BYTES);
    callback(null, chunk);
  }

  position(): LogPosition | undefined {
    const position = parseLogPosition(this.#head, this.#tail.toString('latin1'));
    return position && this.#seenAt ? { ...position, seenAt: this.#seenAt } : position;
  }
}
