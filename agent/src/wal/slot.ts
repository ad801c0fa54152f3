// The replication slot the WAL streamer reads through keeps every WAL file the agent has not
// streamed yet. While the agent streams that is a few MB; when its replication connection fails,
// the slot holds WAL back until the server's disk fills (or, PostgreSQL 13+, until
// max_slot_wal_keep_size lets the server drop it: a gap). The agent measures the slot with every
// status report so the control plane can warn in time (pitr/alerts.ts: "slot about to fill").
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { PitrSlot } from '@resistro/contract';
import { psqlRow } from './tools.ts';

type Target = Parameters<typeof psqlRow>[0];

const WAL_STATUSES = ['reserved', 'extended', 'unreserved', 'lost'] as const;

/** The server's write position (a standby: what it has received). */
const CURRENT_LSN =
  'case when pg_is_in_recovery() then pg_last_wal_receive_lsn() else pg_current_wal_lsn() end';

/** The query for PostgreSQL 13+; `old` leaves out what 12 and earlier do not have. */
function slotSql(slot: string, old: boolean): string {
  if (!/^[a-z0-9_]{1,63}$/.test(slot)) throw new Error(`not a slot name: ${slot}`);
  const keep =
    "case when current_setting('max_slot_wal_keep_size') = '-1' then null " +
    "else pg_size_bytes(current_setting('max_slot_wal_keep_size')) end";
  return [
    'select s.active,',
    `coalesce(pg_wal_lsn_diff(${CURRENT_LSN}, s.restart_lsn), 0)::bigint,`,
    old ? "'', null, null," : `s.wal_status, s.safe_wal_size, ${keep},`,
    // readable only by superusers and pg_read_all_settings: absent (null) for others
    "(select setting from pg_settings where name = 'data_directory'),",
    // psql's output is trimmed: a last column that is never empty keeps the empty ones before it
    "'end'",
    `from pg_replication_slots s where s.slot_name = '${slot}'`,
  ].join(' ');
}

/** A host name that is this machine: the agent can see the server's disk (unless in a container). */
export function isLocalHost(host: string): boolean {
  return host === '' || host.startsWith('/') || host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** Free bytes for an unprivileged writer on the file system holding `path`; undefined when unreadable. */
export async function freeBytes(path: string): Promise<number | undefined> {
  try {
    const s = await statfs(path);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

const num = (text: string | undefined): number | undefined => {
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? Math.max(0, n) : undefined;
};

/**
 * The slot as the server sees it: the WAL it retains, its state and limit, and the free space of
 * the WAL disk when the server runs on this host and tells its data directory. undefined: no such
 * slot (yet).
 */
export async function measureSlot(t: Target, slot: string, binDir?: string): Promise<PitrSlot | undefined> {
  let row: string[];
  try {
    row = await psqlRow(t, slotSql(slot, false), binDir);
  } catch (error) {
    if (!/wal_status|safe_wal_size|max_slot_wal_keep_size/.test((error as Error).message)) throw error;
    row = await psqlRow(t, slotSql(slot, true), binDir); // PostgreSQL 12 and earlier
  }
  if (row.length < 7) return undefined;
  const [active, retained, walStatus, safe, keep, dataDir] = row;
  const out: PitrSlot = { name: slot, active: active === 't', retainedBytes: num(retained) ?? 0 };
  const status = WAL_STATUSES.find((s) => s === walStatus);
  if (status) out.walStatus = status;
  const safeBytes = num(safe);
  if (safeBytes !== undefined) out.safeWalBytes = safeBytes;
  const keepBytes = num(keep);
  if (keepBytes !== undefined && keepBytes > 0) out.maxRetainedBytes = keepBytes;
  if (dataDir && isLocalHost(t.host)) {
    // pg_wal may be a link to its own disk; the data directory's disk when pg_wal is not readable
    const free = (await freeBytes(join(dataDir, 'pg_wal'))) ?? (await freeBytes(dataDir));
    if (free !== undefined) out.diskFreeBytes = free;
  }
  return out;
}
