// The alert conditions as pure functions of a subject's state and the time: unit-tested without a
// database, evaluated by detect.ts for each subject in a batch.
import { formatBytes as formatBytesIn, type Schedule, scheduleToCron } from '@resistro/contract';
import { Cron } from 'croner';

const MINUTE = 60_000;

/** A run must start within half its interval, at least 5 and at most 60 minutes after its time. */
export const GRACE_MIN_MS = 5 * MINUTE;
export const GRACE_MAX_MS = 60 * MINUTE;
/** An agent's clock may be a little ahead: a backup started this much before its time counts. */
export const EARLY_START_MS = 5 * MINUTE;
/** "failing": this many finished backups in a row failed (the agent retries once a minute). */
export const FAILING_AFTER = 2;
/** "size drop": at most half the median of the previous (up to 7, at least 3) successful backups. */
export const SIZE_DROP_RATIO = 0.5;
export const SIZE_HISTORY = 7;
export const SIZE_MIN_HISTORY = 3;
export const STORAGE_HIGH_RATIO = 0.8;

/** Cron objects per schedule, reused within a run (many databases share one schedule). */
export class ScheduleCache {
  readonly #crons = new Map<string, Cron>();
  cron(schedule: Schedule): Cron {
    const key = `${schedule.timezone}|${scheduleToCron(schedule)}`;
    let c = this.#crons.get(key);
    if (!c) {
      c = new Cron(scheduleToCron(schedule), { timezone: schedule.timezone, paused: true });
      this.#crons.set(key, c);
    }
    return c;
  }
}

export function graceMs(cron: Cron, at: Date): number {
  const [prev] = cron.previousRuns(1, at);
  const next = prev ? cron.nextRun(prev) : null;
  if (!prev || !next) return GRACE_MAX_MS;
  return Math.min(GRACE_MAX_MS, Math.max(GRACE_MIN_MS, (next.getTime() - prev.getTime()) / 2));
}

/**
 * The scheduled run that was missed, if any: the newest run whose grace window has ended by `at`,
 * scheduled after the database was last changed (created, edited, resumed), with no backup
 * started since shortly before it.
 */
export function missedRun(
  cron: Cron,
  at: Date,
  activeSince: Date,
  lastBackupAt: Date | null,
): { due: Date; graceMs: number } | null {
  const grace = graceMs(cron, at);
  const [due] = cron.previousRuns(1, new Date(at.getTime() - grace + 1));
  if (!due || due.getTime() <= activeSince.getTime()) return null;
  if (lastBackupAt && lastBackupAt.getTime() >= due.getTime() - EARLY_START_MS) return null;
  return { due, graceMs: grace };
}

/** How many of the newest finished backups failed in a row (statuses newest first). */
export function trailingFailures(statuses: readonly string[]): number {
  const i = statuses.indexOf('succeeded');
  return i === -1 ? statuses.length : i;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Sizes of successful backups, newest first: is the newest at most half the usual size? */
export function sizeDrop(
  sizesNewestFirst: readonly number[],
): { size: number; median: number; history: number } | null {
  const [newest, ...rest] = sizesNewestFirst;
  const previous = rest.slice(0, SIZE_HISTORY);
  if (newest === undefined || previous.length < SIZE_MIN_HISTORY) return null;
  const m = median(previous);
  return m > 0 && newest <= m * SIZE_DROP_RATIO
    ? { size: newest, median: m, history: previous.length }
    : null;
}

export function storageLevel(usedBytes: number, quotaBytes: number): { high: boolean; full: boolean } {
  return { high: usedBytes > quotaBytes * STORAGE_HIGH_RATIO, full: usedBytes > quotaBytes };
}

/** The stored (English) detail's sizes; the account's language renders its own from the facts. */
export function formatBytes(n: number): string {
  return formatBytesIn(n, 'en');
}

export function formatTime(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
