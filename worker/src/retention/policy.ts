// Which backups retention may delete, as one SQL condition over `backups b` joined to its
// `databases d`, `accounts a` and `nf` (newestFinished: the status of the database's newest
// finished backup). The same text picks candidates and re-checks them under lock.
//
// A backup is expired when it started more than min(database retention, plan maximum) days ago.
// An expired backup is deleted unless:
//   1. it is running (abandoned uploads are failed first by abandoned.ts), or
//   2. it succeeded, its database still exists, and either
//      a. no newer successful backup of the database exists: the newest good backup is kept
//         whatever its age, or
//      b. the database is failing, i.e. its newest finished backup failed: then every successful
//         backup is kept until a backup succeeds again, so a broken database never loses the
//         backups it had when it started failing.
// Backups of deleted databases expire normally, the last one included (the user removed the
// database; its backups stay only until their retention ends). Accounts that are cancelled are
// left alone: their backups stay downloadable for 30 days, then purge.ts deletes everything.
import { PLAN_IDS, PLANS } from '@resistro/contract';
import { type SQL, sql } from 'drizzle-orm';

const planMaxDays = sql.raw(
  `(case a.plan ${PLAN_IDS.map((id) => `when '${id}' then ${PLANS[id].maxRetentionDays}`).join(' ')} else 7 end)`,
);

export function expiredBefore(now: Date): SQL {
  return sql`(${now.toISOString()}::timestamptz - make_interval(days => least(d.retention_days, ${planMaxDays})))`;
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

export function deletable(now: Date): SQL {
  return sql`(
    b.status <> 'running'
    and b.started_at < ${expiredBefore(now)}
    and (
      b.status <> 'succeeded'
      or d.deleted_at is not null
      or (
        exists (select 1 from backups n
                where n.database_id = b.database_id and n.status = 'succeeded'
                  and (n.started_at, n.id) > (b.started_at, b.id))
        and coalesce(nf.newest_status, '') <> 'failed'
      )
    )
  )`;
}
