// The monthly restore report of an account: every database that existed in the month, its
// backups, its restore tests, the measured restore time (RTO) and what failed, in the account's
// language. The evidence an auditor asks for. Months are calendar months in UTC.
import type { MonthlyReport } from '@resistro/contract';
import { sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { backupErrorText } from '../i18n/backup-errors.ts';
import type { Language } from '../i18n/language.ts';
import { plural } from '../i18n/plural.ts';
import { restoreTestErrorText } from '../i18n/restore-test-errors.ts';
import { type RawTime, toDate, toDateOrNull } from '../lib/rows.ts';

/** Failures listed per database; the counts stay complete. */
export const REPORT_FAILURES_PER_DATABASE = 20;

/** The month before `now` (UTC) as YYYY-MM. */
export function previousMonth(now: Date): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return d.toISOString().slice(0, 7);
}

export function monthRange(month: string): { from: Date; to: Date } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return { from: new Date(Date.UTC(y, m - 1, 1)), to: new Date(Date.UTC(y, m, 1)) };
}

type DatabaseRow = { id: string; name: string; engine: string };
type BackupStats = {
  database_id: string;
  succeeded: number;
  failed: number;
  bytes: string | number | null;
  last_succeeded_at: RawTime | null;
};
type TestStats = {
  database_id: string;
  passed: number;
  failed: number;
  error: number;
  last_passed_at: RawTime | null;
  last_restore_ms: number | null;
  max_restore_ms: number | null;
};
type Failure = {
  database_id: string;
  kind: 'backup' | 'restore_test';
  at: RawTime;
  state: string;
  error: string | null;
  error_code: string | null;
  error_params: Record<string, string> | null;
  tables_failed: number | null;
  failed_checks: string[] | null;
};

function failureText(language: Language, f: Failure): string {
  const de = language === 'de';
  if (f.kind === 'backup') {
    const cause = backupErrorText(language, f.error_code, f.error_params);
    const raw = (f.error ?? '').split('\n')[0]!.slice(0, 300);
    return cause
      ? `${cause.sentence} ${raw}`.trim()
      : raw || (de ? 'Backup fehlgeschlagen' : 'Backup failed');
  }
  if (f.state === 'error') {
    const cause =
      restoreTestErrorText(language, f.error_code) ?? (de ? 'Nicht abgeschlossen' : 'Did not finish');
    return f.error ? `${cause}: ${f.error.split('\n')[0]!.slice(0, 300)}` : cause;
  }
  const parts: string[] = [];
  const tables = f.tables_failed ?? 0;
  if (tables > 0)
    parts.push(
      de
        ? plural('de', tables, {
            one: '{n} Tabelle weicht vom Backup ab',
            other: '{n} Tabellen weichen vom Backup ab',
          })
        : plural('en', tables, {
            one: '{n} table differs from the backup',
            other: '{n} tables differ from the backup',
          }),
    );
  for (const name of f.failed_checks ?? [])
    parts.push(de ? `Prüfung „${name}“ fehlgeschlagen` : `check "${name}" failed`);
  return parts.join('; ') || (de ? 'Fehlgeschlagen' : 'Failed');
}

export async function monthlyReport(
  db: Db,
  account: { id: string; language: Language },
  month: string,
  now: Date,
): Promise<MonthlyReport> {
  const { from, to } = monthRange(month);
  const { rows: dbs } = await db.execute<DatabaseRow>(sql`
    select id, name, engine from databases
    where account_id = ${account.id} and created_at < ${to}::timestamptz
      and (deleted_at is null or deleted_at >= ${from}::timestamptz)
    order by lower(name), id`);
  const { rows: backups } = await db.execute<BackupStats>(sql`
    select database_id,
      count(*) filter (where status = 'succeeded')::int as succeeded,
      count(*) filter (where status = 'failed')::int as failed,
      coalesce(sum(size_bytes) filter (where status = 'succeeded'), 0) as bytes,
      max(started_at) filter (where status = 'succeeded') as last_succeeded_at
    from backups
    where account_id = ${account.id} and started_at >= ${from}::timestamptz and started_at < ${to}::timestamptz
    group by database_id`);
  const { rows: tests } = await db.execute<TestStats>(sql`
    select database_id,
      count(*) filter (where state = 'passed')::int as passed,
      count(*) filter (where state = 'failed')::int as failed,
      count(*) filter (where state = 'error')::int as error,
      max(finished_at) filter (where state = 'passed') as last_passed_at,
      (array_agg(restore_ms order by finished_at desc) filter (where state = 'passed'))[1] as last_restore_ms,
      max(restore_ms) filter (where state = 'passed') as max_restore_ms
    from restore_tests
    where account_id = ${account.id} and requested_at >= ${from}::timestamptz and requested_at < ${to}::timestamptz
    group by database_id`);
  const { rows: failures } = await db.execute<Failure>(sql`
    select * from (
      select database_id, 'backup' as kind, started_at as at, status as state, error, error_code, error_params,
        null::int as tables_failed, null::text[] as failed_checks,
        row_number() over (partition by database_id order by started_at) as n
      from backups
      where account_id = ${account.id} and status = 'failed'
        and started_at >= ${from}::timestamptz and started_at < ${to}::timestamptz
      union all
      select t.database_id, 'restore_test', t.finished_at, t.state, t.error, t.error_code, null,
        t.tables_failed,
        (select array_agg(c->>'name' order by ord)
           from jsonb_array_elements(t.check_results) with ordinality r(res, ord)
           join jsonb_array_elements(t.checks) c on c->>'id' = r.res->>'id'
          where (r.res->>'passed')::boolean = false),
        row_number() over (partition by t.database_id order by t.finished_at)
      from restore_tests t
      where t.account_id = ${account.id} and t.state in ('failed', 'error')
        and t.requested_at >= ${from}::timestamptz and t.requested_at < ${to}::timestamptz
    ) f where n <= ${REPORT_FAILURES_PER_DATABASE}
    order by at`);
  const byDb = <T extends { database_id: string }>(rows: T[]) => new Map(rows.map((r) => [r.database_id, r]));
  const b = byDb(backups);
  const t = byDb(tests);
  const iso = (v: RawTime | null | undefined) => toDateOrNull(v)?.toISOString() ?? null;
  return {
    month,
    from: from.toISOString(),
    to: to.toISOString(),
    language: account.language,
    generatedAt: now.toISOString(),
    databases: dbs.map((d) => {
      const bs = b.get(d.id);
      const ts = t.get(d.id);
      return {
        id: d.id,
        name: d.name,
        engine: d.engine,
        backups: {
          succeeded: bs?.succeeded ?? 0,
          failed: bs?.failed ?? 0,
          bytes: Number(bs?.bytes ?? 0),
          lastSucceededAt: iso(bs?.last_succeeded_at),
        },
        restoreTests: {
          passed: ts?.passed ?? 0,
          failed: ts?.failed ?? 0,
          error: ts?.error ?? 0,
          lastPassedAt: iso(ts?.last_passed_at),
          lastRestoreMs: ts?.last_restore_ms ?? null,
          maxRestoreMs: ts?.max_restore_ms ?? null,
        },
        failures: failures
          .filter((f) => f.database_id === d.id)
          .map((f) => ({
            at: toDate(f.at).toISOString(),
            kind: f.kind,
            text: failureText(account.language, f),
          })),
      };
    }),
  };
}
