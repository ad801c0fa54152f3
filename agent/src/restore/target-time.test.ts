import { expect, test } from 'vitest';
import { parseLogPositionOption, parseTargetTime } from './target-time.ts';

test('target times as users type them', () => {
  expect(parseTargetTime('2026-12-01 15:30:00+01').time.toISOString()).toBe('2026-12-01T14:30:00.000Z');
  expect(parseTargetTime('2026-12-01T14:30:00Z').time.toISOString()).toBe('2026-12-01T14:30:00.000Z');
  expect(parseTargetTime('2026-12-01 15:30+0130').time.toISOString()).toBe('2026-12-01T14:00:00.000Z');
  expect(parseTargetTime('2026-12-01 14:30:00.250Z').time.toISOString()).toBe('2026-12-01T14:30:00.250Z');
  expect(parseTargetTime('2026-12-01 15:30:00').zoneGiven).toBe(false);
  for (const bad of [
    'yesterday',
    '2026-02-31 10:00:00Z',
    '2026-12-01 25:00:00Z',
    '2026-13-01 10:00Z',
    '2026-12-01',
  ])
    expect(() => parseTargetTime(bad), bad).toThrow(/is not a date and time/);
});

test('binlog positions', () => {
  expect(parseLogPositionOption('mysql-bin.000042:1234')).toEqual({ file: 'mysql-bin.000042', pos: 1234 });
  for (const bad of ['mysql-bin.000042', 'x:12', 'mysql-bin.000042:2', '../a.000001:100'])
    expect(() => parseLogPositionOption(bad), bad).toThrow(/is not a binlog position/);
});
