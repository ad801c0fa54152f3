import type { DatabaseWork } from '@resistro/contract';
import { describe, expect, test } from 'vitest';
import { Scheduler } from './scheduler.ts';

const db = (over: Partial<DatabaseWork> = {}): DatabaseWork => ({
  id: '00000000-0000-4000-8000-000000000001',
  name: 'shop',
  engine: 'postgres',
  host: '127.0.0.1',
  port: 5432,
  database: 'shop',
  user: 'backup',
  credentials: { mode: 'local' },
  schedule: { kind: 'daily', time: '02:00', timezone: 'UTC' },
  compressionLevel: 3,
  paused: false,
  ...over,
});

const at = (iso: string) => new Date(iso);

describe('Scheduler', () => {
  test('a database seen for the first time waits for its next slot instead of backfilling', () => {
    const s = new Scheduler();
    s.setDatabases([db()], at('2026-05-16T15:00:00Z'));
    expect(s.due(at('2026-05-16T15:00:01Z'))).toEqual([]);
    expect(s.nextRunOf(db().id)).toEqual(at('2026-05-17T02:00:00Z'));
    expect(s.due(at('2026-05-17T02:00:00Z')).map((d) => d.slot)).toEqual([at('2026-05-17T02:00:00Z')]);
    expect(s.due(at('2026-05-17T02:00:30Z'))).toEqual([]);
  });

  test('slots missed while the agent was down run once, for the latest slot', () => {
    const s = new Scheduler({
      [db().id]: { lastSlot: '2026-05-10T02:00:00.000Z', schedule: JSON.stringify(db().schedule) },
    });
    s.setDatabases([db()], at('2026-05-16T15:00:00Z'));
    const due = s.due(at('2026-05-16T15:00:00Z'));
    expect(due.map((d) => d.slot)).toEqual([at('2026-05-16T02:00:00Z')]);
    expect(s.due(at('2026-05-16T15:00:05Z'))).toEqual([]);
    expect(s.state()[db().id]?.lastSlot).toBe('2026-05-16T02:00:00.000Z');
  });

  test('a restart with the saved state neither repeats nor skips a slot', () => {
    const first = new Scheduler();
    first.setDatabases([db()], at('2026-05-16T15:00:00Z'));
    first.due(at('2026-05-17T02:00:01Z'));
    const second = new Scheduler(first.state());
    second.setDatabases([db()], at('2026-05-17T02:10:00Z'));
    expect(second.due(at('2026-05-17T02:10:00Z'))).toEqual([]);
    expect(second.nextRunOf(db().id)).toEqual(at('2026-05-18T02:00:00Z'));
  });

  test('cron schedules in a time zone are evaluated in that zone', () => {
    const s = new Scheduler();
    const work = db({ schedule: { kind: 'cron', expression: '30 3 * * *', timezone: 'Europe/Berlin' } });
    s.setDatabases([work], at('2026-07-01T00:00:00Z'));
    // 03:30 in Berlin in summer is 01:30 UTC
    expect(s.nextRunOf(work.id)).toEqual(at('2026-07-01T01:30:00Z'));
  });

  test('a paused database never comes due and owes nothing when resumed', () => {
    const s = new Scheduler();
    s.setDatabases([db({ paused: true })], at('2026-05-16T01:00:00Z'));
    expect(s.due(at('2026-05-18T03:00:00Z'))).toEqual([]);
    s.setDatabases([db()], at('2026-05-18T03:00:00Z'));
    expect(s.due(at('2026-05-18T03:00:01Z'))).toEqual([]);
    expect(s.nextRunOf(db().id)).toEqual(at('2026-05-19T02:00:00Z'));
  });

  test('a changed schedule applies from now on; a removed database is forgotten', () => {
    const s = new Scheduler();
    s.setDatabases([db()], at('2026-05-16T15:00:00Z'));
    s.setDatabases(
      [db({ schedule: { kind: 'daily', time: '16:00', timezone: 'UTC' } })],
      at('2026-05-16T15:30:00Z'),
    );
    expect(s.nextRunOf(db().id)).toEqual(at('2026-05-16T16:00:00Z'));
    s.setDatabases([], at('2026-05-16T15:31:00Z'));
    expect(s.due(at('2026-05-16T16:00:00Z'))).toEqual([]);
    expect(s.state()).toEqual({});
  });
});
