import { describe, expect, it } from 'vitest';
import { isValidCron, nextRuns, previousRun } from './schedule.ts';

describe('schedules', () => {
  it('runs a daily schedule at the local time of its zone', () => {
    const [next] = nextRuns(
      { kind: 'daily', time: '02:00', timezone: 'Europe/Berlin' },
      new Date('2026-07-01T12:00:00Z'),
    );
    expect(next?.toISOString()).toBe('2026-07-02T00:00:00.000Z'); // 02:00 CEST
    const [winter] = nextRuns(
      { kind: 'daily', time: '02:00', timezone: 'Europe/Berlin' },
      new Date('2026-12-01T12:00:00Z'),
    );
    expect(winter?.toISOString()).toBe('2026-12-02T01:00:00.000Z'); // 02:00 CET
  });

  it('finds the previous run of a cron schedule', () => {
    const prev = previousRun(
      { kind: 'cron', expression: '0 */6 * * *', timezone: 'UTC' },
      new Date('2026-07-01T13:30:00Z'),
    );
    expect(prev?.toISOString()).toBe('2026-07-01T12:00:00.000Z');
  });

  it('rejects malformed cron expressions', () => {
    expect(isValidCron('0 2 * * *')).toBe(true);
    expect(isValidCron('0 2 * *')).toBe(false);
    expect(isValidCron('99 2 * * *')).toBe(false);
    expect(isValidCron('* * * * * *')).toBe(false);
  });
});
