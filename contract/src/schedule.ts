import { Cron } from 'croner';
import type { Schedule } from './schemas.ts';

/** The cron expression (minute hour dom month dow) a schedule means, in its own time zone. */
export function scheduleToCron(schedule: Schedule): string {
  if (schedule.kind === 'cron') return schedule.expression;
  const [h, m] = schedule.time.split(':');
  return `${Number(m)} ${Number(h)} * * *`;
}

/** True when croner accepts the 5-field expression. */
export function isValidCron(expression: string, timezone = 'UTC'): boolean {
  if (expression.trim().split(/\s+/).length !== 5) return false;
  try {
    new Cron(expression, { timezone, paused: true });
    return true;
  } catch {
    return false;
  }
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The next `count` run times strictly after `from`. */
export function nextRuns(schedule: Schedule, from: Date, count = 1): Date[] {
  const cron = new Cron(scheduleToCron(schedule), { timezone: schedule.timezone, paused: true });
  return cron.nextRuns(count, from);
}

/** The most recent run time at or before `at`, looking back at most `horizonMs`. */
export function previousRun(schedule: Schedule, at: Date, horizonMs = 8 * 24 * 3600_000): Date | undefined {
  const cron = new Cron(scheduleToCron(schedule), { timezone: schedule.timezone, paused: true });
  let last: Date | undefined;
  let cursor = new Date(at.getTime() - horizonMs);
  for (;;) {
    const next = cron.nextRun(cursor);
    if (!next || next.getTime() > at.getTime()) return last;
    last = next;
    cursor = next;
  }
}
