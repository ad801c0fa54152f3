import { Cron } from 'croner';
import { describe, expect, it } from 'vitest';
import { graceMs, median, missedRun, sizeDrop, storageLevel, trailingFailures } from './conditions.ts';

const daily = new Cron('0 2 * * *', { timezone: 'UTC', paused: true });
const every5 = new Cron('*/5 * * * *', { timezone: 'UTC', paused: true });
const at = (iso: string) => new Date(iso);

describe('missed backups', () => {
  it('gives a daily schedule an hour of grace and a 5-minute one five minutes', () => {
    expect(graceMs(daily, at('2026-07-02T12:00:00Z'))).toBe(60 * 60_000);
    expect(graceMs(every5, at('2026-07-02T12:01:00Z'))).toBe(5 * 60_000);
  });

  it('reports a run only after its grace window has passed without a backup', () => {
    const since = at('2026-06-01T00:00:00Z');
    expect(missedRun(daily, at('2026-07-02T02:59:00Z'), since, at('2026-07-01T02:00:10Z'))).toBeNull();
    const missed = missedRun(daily, at('2026-07-02T03:00:00Z'), since, at('2026-07-01T02:00:10Z'));
    expect(missed?.due.toISOString()).toBe('2026-07-02T02:00:00.000Z');
  });

  it('counts a backup that started late or a little early as not missed', () => {
    const since = at('2026-06-01T00:00:00Z');
    expect(missedRun(daily, at('2026-07-02T05:00:00Z'), since, at('2026-07-02T04:30:00Z'))).toBeNull();
    expect(missedRun(daily, at('2026-07-02T05:00:00Z'), since, at('2026-07-02T01:57:00Z'))).toBeNull();
    expect(missedRun(daily, at('2026-07-02T05:00:00Z'), since, at('2026-07-02T01:00:00Z'))).not.toBeNull();
  });

  it('expects nothing from runs scheduled before the database was added or changed', () => {
    expect(missedRun(daily, at('2026-07-02T05:00:00Z'), at('2026-07-02T02:30:00Z'), null)).toBeNull();
    expect(
      missedRun(daily, at('2026-07-03T05:00:00Z'), at('2026-07-02T02:30:00Z'), null)?.due.toISOString(),
    ).toBe('2026-07-03T02:00:00.000Z');
  });
});

describe('failing, size drop and storage', () => {
  it('counts failures from the newest back to the last success', () => {
    expect(trailingFailures(['failed', 'failed', 'succeeded', 'failed'])).toBe(2);
    expect(trailingFailures(['succeeded', 'failed'])).toBe(0);
    expect(trailingFailures(['failed', 'failed', 'failed'])).toBe(3);
    expect(trailingFailures([])).toBe(0);
  });

  it('takes the median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('flags a backup at most half the median of the previous ones, given at least three', () => {
    expect(sizeDrop([500, 1000, 1000, 1000])).toEqual({ size: 500, median: 1000, history: 3 });
    expect(sizeDrop([501, 1000, 1000, 1000])).toBeNull();
    expect(sizeDrop([100, 1000, 1000])).toBeNull();
    // only the 7 before the newest count
    expect(sizeDrop([400, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1, 1, 1, 1])?.median).toBe(1000);
  });

  it('raises storage levels strictly above 80 % and 100 %', () => {
    expect(storageLevel(80, 100)).toEqual({ high: false, full: false });
    expect(storageLevel(81, 100)).toEqual({ high: true, full: false });
    expect(storageLevel(101, 100)).toEqual({ high: true, full: true });
  });
});
