// Which backups retention may delete, as SQL conditions over `backups b` joined to its
// `databases d`, `accounts a`, `nf` (newestFinished: the status of the database's newest finished
// backup) and the rule (`r`, retention_rules, or the values a preview asks about). The same text
// picks candidates, re-checks them under lock and answers the preview.
//
// Never deleted: a running backup (abandoned uploads are failed first by abandoned.ts), and a
// backup whose object lock is in force (`locked_until` in the future: storage would refuse).
//
// Days (no tiers): a backup is expired when it started more than min(database retention, plan
// maximum) days ago. An expired backup is deleted unless it succeeded, its database still exists,
// and either
//   a. no newer successful backup of the database exists: the newest good backup is kept
//      whatever its age, or
//   b. the database is failing, i.e. its newest finished backup failed: then every successful
//      backup is kept until a backup succeeds again, so a broken database never loses the
//      backups it had when it started failing.
//
// Tiers (grandfather-father-son, docs/alerts-retention.md): with N daily, a successful backup is
// kept when it is the first successful backup of its day and its day is today or one of the N-1
// days before, in the account's time zone; weekly (ISO weeks, from Monday), monthly and yearly
// alike. A backup counts for every tier it falls in. Nothing is kept by a tier past the plan's
// longest retention. (a) and (b) above hold as for days. A failed backup goes after the daily
// tier's days (at least one day).
//
// Backups of deleted databases expire normally, the last one included (the user removed the
// database; its backups stay only until their retention ends). Accounts that are cancelled are
// left alone: their backups stay downloadable for 30 days, then purge.ts deletes everything.
import { PLAN_IDS, PLANS, type RetentionTiers } from '@resistro/contract';
import { type SQL, sql } from 'drizzle-orm';

export const planMaxDays = sql.raw(
  `(case a.plan ${PLAN_IDS.map((id) => `when '${id}' then ${PLANS[id].maxRetentionDays}`).join(' ')} else 7 end)`,
);

/** The rule as SQL expressions: `tiers` a jsonb (null: days), `days` the retention days. */
export type RuleSql = { tiers: SQL; days: SQL };
/** The rule stored for the database (`left join retention_rules r on r.database_id = d.id`). */
export const STORED_RULE: RuleSql = { tiers: sql.raw('r.tiers'), days: sql.raw('d.retention_days') };

/** A rule that is not stored yet (the preview): the same conditions over given values. */
export function givenRule(tiers: RetentionTiers | null, days: number): RuleSql {
  return {
    tiers: tiers ? sql`${JSON.stringify(tiers)}::jsonb` : sql`null::jsonb`,
    days: sql`${days}::int`,
  };
}

const at = (now: Date) => sql`${now.toISOString()}::timestamptz`;

export function expiredBefore(now: Date, rule: RuleSql = STORED_RULE): SQL {
  return sql`(${at(now)} - make_interval(days => least(${rule.days}, ${planMaxDays})))`;
}

/**
 * `left join lateral ${newestFinished('d.id')} nf on true`: computed once per database, newest
 * first along the (database_id, started_at desc) index.
 */
export function newestFinished(databaseId: string): SQL {
  return sql.raw(`(select f.status as newest_status from backups f
    where f.database_id = ${databaseId} and f.status <> 'running'
    order by f.started_at desc limit 1)`);
}

/** `locksEndBy`: the time a lock must have ended by (the preview asks with the far future to ignore locks). */
export function notLocked(locksEndBy: Date): SQL {
  return sql`(b.locked_until is null or b.locked_until <= ${at(locksEndBy)})`;
}
export const IGNORE_LOCKS = new Date('9999-12-31T00:00:00Z');

/** (a) and (b): a successful backup that neither is the newest good one nor waits out a failing database. */
const replaceable = sql`(
  d.deleted_at is not null
  or (
    exists (select 1 from backups n
            where n.database_id = b.database_id and n.status = 'succeeded'
              and (n.started_at, n.id) > (b.started_at, b.id)
              and not exists (select 1 from pitr_base_backups pn where pn.backup_id = n.id))
    and coalesce(nf.newest_status, '') <> 'failed'
  )
)`;

/**
 * A base backup of point-in-time recovery is kept or deleted by its window (pitr/cron.ts), never
 * by the dump rule: deleting it here could break the newest restorable chain.
 */
const notBaseBackup = sql`not exists (select 1 from pitr_base_backups pb where pb.backup_id = b.id)`;

export function daysDeletable(now: Date, rule: RuleSql = STORED_RULE, locksEndBy = now): SQL {
  return sql`(
    b.status <> 'running'
    and ${notBaseBackup}
    and ${notLocked(locksEndBy)}
    and b.started_at < ${expiredBefore(now, rule)}
    and (b.status <> 'succeeded' or ${replaceable})
  )`;
}

const UNITS = [
  ['day', 'daily', 'days'],
  ['week', 'weekly', 'weeks'],
  ['month', 'monthly', 'months'],
  ['year', 'yearly', 'years'],
] as const;

/** The start of b's period of `unit`, as a timestamptz, in the account's time zone. */
export function periodStart(unit: (typeof UNITS)[number][0], column = 'b.started_at'): SQL {
  return sql.raw(`(date_trunc('${unit}', ${column} at time zone a.time_zone) at time zone a.time_zone)`);
}

/** b is the first successful backup of its `unit` (day, week, month, year) in the account's time zone. */
export function firstOfPeriod(unit: (typeof UNITS)[number][0]): SQL {
  return sql`not exists (select 1 from backups e
    where e.database_id = b.database_id and e.status = 'succeeded'
      and e.started_at >= ${periodStart(unit)}
      and (e.started_at, e.id) < (b.started_at, b.id))`;
}

function keptByTiers(now: Date, tiers: SQL): SQL {
  const local = sql`(${at(now)} at time zone a.time_zone)`;
  const each = UNITS.map(([unit, name, plural]) => {
    const n = sql`coalesce((${tiers}->>${name})::int, 0)`;
    return sql`(${n} > 0
      and date_trunc(${unit}, b.started_at at time zone a.time_zone)
          > date_trunc(${unit}, ${local}) - make_interval(${sql.raw(plural)} => ${n})
      and ${firstOfPeriod(unit)})`;
  });
  return sql`(b.started_at >= ${at(now)} - make_interval(days => ${planMaxDays}) and (${sql.join(each, sql` or `)}))`;
}

export function tiersDeletable(now: Date, tiers: SQL, locksEndBy = now): SQL {
  return sql`(
    b.status <> 'running'
    and ${notBaseBackup}
    and ${notLocked(locksEndBy)}
    and (
      (b.status = 'failed'
        and b.started_at < ${at(now)} - make_interval(days => greatest(1, coalesce((${tiers}->>'daily')::int, 0))))
      or (b.status = 'succeeded' and ${replaceable} and not ${keptByTiers(now, tiers)})
    )
  )`;
}

export function deletable(now: Date, rule: RuleSql = STORED_RULE, locksEndBy = now): SQL {
  return sql`(
    (${rule.tiers} is null and ${daysDeletable(now, rule, locksEndBy)})
    or (${rule.tiers} is not null and ${tiersDeletable(now, rule.tiers, locksEndBy)})
  )`;
}
