// Grandfather-father-son retention: a database with 7 daily / 4 weekly / 12 monthly tiers, in the
// account's time zone, over a simulated year of daily runs (with a second backup on some days,
// failed backups and a failing streak), checked after every run against a model of the rule
// written here independently of the SQL; the preview promises exactly what the next run deletes;
// a rule past the plan's longest retention is refused.
//
// The year runs the worker's cron (real workerd) under the simulated clock on a control plane of
// its own, so no other file's cron acts on these rows.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, stackInfo } from '../../scripts/test/api.ts';
import { startIsolatedControlPlane } from '../../scripts/test/isolated.ts';
import { listKeys, newAccount, objectKeyOf, putObject, runCronAt } from './cron-fixtures.ts';

const TZ = 'Europe/Berlin';
const DAY = 86400_000;

// ---- the model: which backups the rule keeps, from the rule's text ----
type ModelBackup = { id: string; startedAt: Date; status: 'succeeded' | 'failed' };
type Tiers = { daily: number; weekly: number; monthly: number; yearly: number };

const localParts = (d: Date) => {
  const f = new Intl.DateTimeFormat('en-CA', {
    timeZone: TZ,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  });
  const [y, m, day] = f.format(d).split('-').map(Number) as [number, number, number];
  return { y, m, day };
};
/** Index of the backup's period (day, ISO week, month, year), counted in the account's time zone. */
function periodIndex(d: Date, unit: 'day' | 'week' | 'month' | 'year'): number {
  const { y, m, day } = localParts(d);
  const dayIndex = Date.UTC(y, m - 1, day) / DAY;
  if (unit === 'day') return dayIndex;
  if (unit === 'week') {
    const weekday = (new Date(dayIndex * DAY).getUTCDay() + 6) % 7; // Monday 0
    return (dayIndex - weekday) / 7;
  }
  return unit === 'month' ? y * 12 + (m - 1) : y;
}

function modelSurvivors(rows: ModelBackup[], tiers: Tiers, now: Date, planMaxDays: number): Set<string> {
  const sorted = [...rows].sort(
    (a, b) => a.startedAt.getTime() - b.startedAt.getTime() || (a.id < b.id ? -1 : 1),
  );
  const good = sorted.filter((r) => r.status === 'succeeded');
  const newestGood = good.at(-1);
  const failing = sorted.at(-1)?.status === 'failed';
  const keep = new Set<string>();
  for (const r of sorted) {
    if (r.status === 'failed') {
      if (now.getTime() - r.startedAt.getTime() <= Math.max(1, tiers.daily) * DAY) keep.add(r.id);
      continue;
    }
    if (r === newestGood || failing) {
      keep.add(r.id);
      continue;
    }
    if (now.getTime() - r.startedAt.getTime() > planMaxDays * DAY) continue;
    for (const [unit, n] of [
      ['day', tiers.daily],
      ['week', tiers.weekly],
      ['month', tiers.monthly],
      ['year', tiers.yearly],
    ] as const) {
      if (n === 0) continue;
      const p = periodIndex(r.startedAt, unit);
      const first = good.find((g) => periodIndex(g.startedAt, unit) === p);
      if (first === r && p > periodIndex(now, unit) - n) keep.add(r.id);
    }
  }
  return keep;
}

/** 02:00 in Berlin on the day `i` days after 2025-01-01 (UTC+1 in winter, UTC+2 in summer). */
function localTime(i: number, hour: number): Date {
  const noonUtc = new Date(Date.UTC(2025, 0, 1, 12) + i * DAY);
  const offsetHours = Number(
    new Intl.DateTimeFormat('en-US', { timeZone: TZ, timeZoneName: 'shortOffset' })
      .formatToParts(noonUtc)
      .find((p) => p.type === 'timeZoneName')!
      .value.replace('GMT', '') || '0',
  );
  return new Date(Date.UTC(2025, 0, 1, hour - offsetHours) + i * DAY);
}

describe('GFS tiers', () => {
  let isolated: Awaited<ReturnType<typeof startIsolatedControlPlane>>;
  beforeAll(async () => {
    isolated = await startIsolatedControlPlane('tiers');
  }, 90_000);
  afterAll(() => isolated?.stop());

  it('keeps exactly the right backups of 7 daily / 4 weekly / 12 monthly over a simulated year of daily runs', async () => {
    const acct = await newAccount({ plan: 'enterprise' });
    const database = acct.databases[0]!;
    await sql('update accounts set time_zone = $1 where id = $2', [TZ, acct.accountId]);
    const tiers = { daily: 7, weekly: 4, monthly: 12, yearly: 0 };
    const put = await acct.session.json(`/databases/${database.id}/retention`, {
      method: 'PUT',
      json: { tiers },
    });
    expect(put.status).toBe(200);
    expect(put.body.rule).toMatchObject({ mode: 'tiers', tiers, timeZone: TZ, planMaxDays: 365 });

    const client = new pg.Client({ connectionString: stackInfo().databaseUrl });
    await client.connect();
    const rows: ModelBackup[] = [];
    let survivors = new Set<string>();
    try {
      for (let i = 0; i < 370; i++) {
        const made: ModelBackup[] = [];
        // days 100-102 fail (a failing streak: nothing good may go), every 17th day's backup fails,
        // and every 5th day has a second good backup in the afternoon (not the first of its day).
        const failed = (i >= 100 && i <= 102) || i % 17 === 16;
        made.push({
          id: crypto.randomUUID(),
          startedAt: localTime(i, 2),
          status: failed ? 'failed' : 'succeeded',
        });
        if (i % 5 === 0)
          made.push({ id: crypto.randomUUID(), startedAt: localTime(i, 14), status: 'succeeded' });
        const good = made.filter((b) => b.status === 'succeeded');
        await Promise.all(
          good.map((b) => putObject(objectKeyOf(acct.accountId, database.id, b.id), new Uint8Array(100))),
        );
        await client.query(
          `with ins as (
             insert into backups (id, account_id, database_id, database_name, status, trigger, object_key, part_size, size_bytes, started_at, finished_at, deadline_at)
             select m.id, $1::uuid, $2::uuid, 'sim', m.status, 'schedule',
                    'accounts/' || $1::text || '/databases/' || $2::text || '/' || m.id || '.resistro', 8388608,
                    case when m.status = 'succeeded' then 100 end, m.at, m.at, m.at
             from unnest($3::uuid[], $4::text[], $5::timestamptz[]) as m(id, status, at) returning 1)
           update accounts set storage_used_bytes = storage_used_bytes + $6::bigint where id = $1::uuid`,
          [
            acct.accountId,
            database.id,
            made.map((b) => b.id),
            made.map((b) => b.status),
            made.map((b) => b.startedAt),
            good.length * 100,
          ],
        );
        rows.push(...made);
        const now = localTime(i, 23);
        const before = rows.filter((r) => survivors.has(r.id) || made.includes(r));
        const expected = modelSurvivors(before, tiers, now, 365);
        await runCronAt(now);
        const left = await client.query<{ id: string }>('select id from backups where database_id = $1', [
          database.id,
        ]);
        const actual = new Set(left.rows.map((r) => r.id));
        const day = now.toISOString().slice(0, 10);
        expect([day, [...actual].sort()]).toEqual([day, [...expected].sort()]);
        survivors = actual;
      }
    } finally {
      await client.end();
    }
    // After 370 days: 7 days, at most 4 weeks and 12 months of first backups, and the objects match.
    expect(survivors.size).toBeLessThanOrEqual(7 + 4 + 12);
    expect(survivors.size).toBeGreaterThanOrEqual(12);
    const keys = await listKeys(`accounts/${acct.accountId}/`);
    const goodSurvivors = rows.filter((r) => survivors.has(r.id) && r.status === 'succeeded');
    expect(keys.sort()).toEqual(
      goodSurvivors.map((r) => objectKeyOf(acct.accountId, database.id, r.id)).sort(),
    );
    const [usage] = await sql<{ n: string }>('select storage_used_bytes as n from accounts where id = $1', [
      acct.accountId,
    ]);
    expect(Number(usage!.n)).toBe(goodSurvivors.length * 100);
  }, 600_000);

  it('previews exactly what the next run deletes, and refuses tiers past the plan', async () => {
    const acct = await newAccount({ plan: 'business' });
    const database = acct.databases[0]!;
    const now = new Date();
    const ids: string[] = [];
    // 40 days of daily backups, newest first.
    for (let d = 0; d < 40; d++) {
      const id = crypto.randomUUID();
      const key = objectKeyOf(acct.accountId, database.id, id);
      await putObject(key, new Uint8Array(10));
      ids.push(id);
      await sql(
        `insert into backups (id, account_id, database_id, database_name, status, trigger, object_key, part_size, size_bytes, started_at, finished_at, deadline_at)
         values ($1, $2, $3, 'p', 'succeeded', 'schedule', $4, 8388608, 10, $5, $5, $5)`,
        [id, acct.accountId, database.id, key, new Date(now.getTime() - d * DAY - 3600_000)],
      );
    }
    const tooLong = await acct.session.json(`/databases/${database.id}/retention`, {
      method: 'PUT',
      json: { tiers: { daily: 7, weekly: 4, monthly: 12, yearly: 0 } },
    });
    expect(tooLong.status).toBe(402);
    expect(tooLong.body.error).toMatchObject({ code: 'plan_limit', fields: { tiers: expect.any(String) } });
    const tiers = { daily: 3, weekly: 2, monthly: 1, yearly: 0 };
    const preview = await acct.session.json(`/databases/${database.id}/retention/preview`, {
      method: 'POST',
      json: { tiers },
    });
    expect(preview.status).toBe(200);
    // Nothing changed by the preview.
    expect((await sql('select id from backups where database_id = $1', [database.id])).length).toBe(40);
    const promised = preview.body.deleted.map((b: { id: string }) => b.id).sort();
    expect(preview.body.deletedCount).toBe(promised.length);
    expect(preview.body.keptCount).toBe(40 - promised.length);
    expect(promised.length).toBeGreaterThan(30);
    const put = await acct.session.json(`/databases/${database.id}/retention`, {
      method: 'PUT',
      json: { tiers },
    });
    expect(put.status).toBe(200);
    await runCronAt(new Date());
    const left = (
      await sql<{ id: string }>('select id from backups where database_id = $1', [database.id])
    ).map((r) => r.id);
    expect(ids.filter((id) => !left.includes(id)).sort()).toEqual(promised);
    // Back to days: the rule says so.
    const back = await acct.session.json(`/databases/${database.id}/retention`, {
      method: 'PUT',
      json: { tiers: null },
    });
    expect(back.body.rule).toMatchObject({ mode: 'days', tiers: null });
  });
});
