// What the alert detection and the metrics read about a database's restore tests: its newest
// finished verdict, when one last passed, when the first was asked for, and its settings.
import {
  RESTORE_TEST_DEFAULT_ALERT_AFTER_DAYS,
  type RestoreTestErrorCode,
  type RestoreTestState,
} from '@resistro/contract';
import { sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { type RawTime, toDateOrNull } from '../lib/rows.ts';

export type DatabaseRestoreTests = {
  enabled: boolean;
  alertAfterDays: number;
  firstRequestedAt: Date | null;
  lastPassedAt: Date | null;
  lastPassedRestoreMs: number | null;
  /** the newest test that ended passed, failed or error (a cancel says nothing about the backup) */
  latest: {
    id: string;
    state: Extract<RestoreTestState, 'passed' | 'failed' | 'error'>;
    finishedAt: Date;
    restoreMs: number | null;
    totalMs: number | null;
    tablesFailed: number;
    failedChecks: string[];
    errorCode: RestoreTestErrorCode | null;
    error: string | null;
  } | null;
};

type Row = {
  database_id: string;
  enabled: boolean;
  alert_after_days: number;
  first_requested_at: RawTime | null;
  last_passed_at: RawTime | null;
  last_passed_restore_ms: number | null;
  latest_id: string | null;
  latest_state: 'passed' | 'failed' | 'error' | null;
  latest_finished_at: RawTime | null;
  latest_restore_ms: number | null;
  latest_total_ms: number | null;
  latest_tables_failed: number | null;
  latest_failed_checks: string[] | null;
  latest_error_code: RestoreTestErrorCode | null;
  latest_error: string | null;
};

export async function restoreTestStates(
  db: Db,
  databaseIds: string[],
): Promise<Map<string, DatabaseRestoreTests>> {
  const map = new Map<string, DatabaseRestoreTests>();
  if (databaseIds.length === 0) return map;
  const ids = sql.join(
    databaseIds.map((id) => sql`${id}::uuid`),
    sql`, `,
  );
  const { rows } = await db.execute<Row>(sql`
    select d.id as database_id,
      coalesce(s.enabled, true) as enabled,
      coalesce(s.alert_after_days, ${RESTORE_TEST_DEFAULT_ALERT_AFTER_DAYS}::int) as alert_after_days,
      (select min(requested_at) from restore_tests where database_id = d.id) as first_requested_at,
      p.finished_at as last_passed_at, p.restore_ms as last_passed_restore_ms,
      l.id as latest_id, l.state as latest_state, l.finished_at as latest_finished_at,
      l.restore_ms as latest_restore_ms, l.total_ms as latest_total_ms,
      l.tables_failed as latest_tables_failed, l.error_code as latest_error_code,
      left(l.error, 2000) as latest_error,
      (select array_agg(c->>'name' order by ord)
         from jsonb_array_elements(l.check_results) with ordinality r(res, ord)
         join jsonb_array_elements(l.checks) c on c->>'id' = r.res->>'id'
        where (r.res->>'passed')::boolean = false) as latest_failed_checks
    from databases d
    left join restore_test_settings s on s.database_id = d.id
    left join lateral (
      select finished_at, restore_ms from restore_tests
      where database_id = d.id and state = 'passed' order by finished_at desc limit 1
    ) p on true
    left join lateral (
      select * from restore_tests
      where database_id = d.id and state in ('passed', 'failed', 'error') order by finished_at desc limit 1
    ) l on true
    where d.id in (${ids})`);
  for (const r of rows) {
    const finishedAt = toDateOrNull(r.latest_finished_at);
    map.set(r.database_id, {
      enabled: r.enabled,
      alertAfterDays: Number(r.alert_after_days),
      firstRequestedAt: toDateOrNull(r.first_requested_at),
      lastPassedAt: toDateOrNull(r.last_passed_at),
      lastPassedRestoreMs: r.last_passed_restore_ms,
      latest:
        r.latest_id && r.latest_state && finishedAt
          ? {
              id: r.latest_id,
              state: r.latest_state,
              finishedAt,
              restoreMs: r.latest_restore_ms,
              totalMs: r.latest_total_ms,
              tablesFailed: r.latest_tables_failed ?? 0,
              failedChecks: r.latest_failed_checks ?? [],
              errorCode: r.latest_error_code,
              error: r.latest_error,
            }
          : null,
    });
  }
  return map;
}
