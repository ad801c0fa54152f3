// Cron: on the first of each month (UTC) every account's owner gets the past month's restore
// report by e-mail, in the account's language. A cursor per month walks the accounts by id and
// moves on only after the provider took a message, so a failed send is tried again next minute
// and nobody gets the report twice.
import type { MonthlyReport } from '@resistro/contract';
import { and, asc, eq, gt, lt } from 'drizzle-orm';
import { accounts, users } from '../accounts/accounts.sql.ts';
import type { Db } from '../db.ts';
import { formatBytes, formatDateTime } from '../i18n/format.ts';
import type { Locale } from '../i18n/language.ts';
import { LAST_ID, readCursor, setCursor } from '../lib/batch-cursor.ts';
import { monthlyReport, monthRange, previousMonth } from './report.ts';

export type ReportEmail = { to: string; subject: string; text: string };
const PER_RUN = 20;

function duration(ms: number | null, language: Locale['language']): string {
  if (ms === null) return '–';
  const n = (v: number, digits: number) =>
    new Intl.NumberFormat(language === 'de' ? 'de-DE' : 'en-GB', { maximumFractionDigits: digits }).format(v);
  if (ms < 60_000) return `${n(ms / 1000, 1)} s`;
  if (ms < 3_600_000) return `${n(ms / 60_000, 1)} min`;
  return `${n(ms / 3_600_000, 1)} h`;
}

export function monthName(month: string, language: Locale['language']): string {
  return new Intl.DateTimeFormat(language === 'de' ? 'de-DE' : 'en-GB', {
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  }).format(monthRange(month).from);
}

export function reportEmail(
  report: MonthlyReport,
  locale: Locale,
  dashboardUrl: string,
): { subject: string; text: string } {
  const de = locale.language === 'de';
  const name = monthName(report.month, locale.language);
  const when = (iso: string | null) => (iso ? formatDateTime(new Date(iso), locale) : de ? 'nie' : 'never');
  const lines: string[] = [
    de
      ? `Ihr Wiederherstellungsbericht für ${name}: jede Datenbank mit ihren Backups, Wiederherstellungstests, der gemessenen Wiederherstellungszeit (RTO) und dem, was fehlschlug.`
      : `Your restore report for ${name}: every database with its backups, restore tests, the measured restore time (RTO) and what failed.`,
    '',
  ];
  for (const d of report.databases) {
    const b = d.backups;
    const t = d.restoreTests;
    lines.push(`${d.name} (${d.engine})`);
    lines.push(
      de
        ? `  Backups: ${b.succeeded} erfolgreich, ${b.failed} fehlgeschlagen, ${formatBytes('de', b.bytes)}; letztes erfolgreiches ${when(b.lastSucceededAt)}`
        : `  Backups: ${b.succeeded} succeeded, ${b.failed} failed, ${formatBytes('en', b.bytes)}; last successful ${when(b.lastSucceededAt)}`,
    );
    lines.push(
      de
        ? `  Wiederherstellungstests: ${t.passed} bestanden, ${t.failed} fehlgeschlagen, ${t.error} nicht abgeschlossen; zuletzt bestanden ${when(t.lastPassedAt)}`
        : `  Restore tests: ${t.passed} passed, ${t.failed} failed, ${t.error} did not finish; last passed ${when(t.lastPassedAt)}`,
    );
    lines.push(
      de
        ? `  Gemessene RTO: ${duration(t.lastRestoreMs, 'de')} (längste ${duration(t.maxRestoreMs, 'de')})`
        : `  Measured RTO: ${duration(t.lastRestoreMs, 'en')} (longest ${duration(t.maxRestoreMs, 'en')})`,
    );
    if (t.passed + t.failed + t.error === 0)
      lines.push(de ? '  ! Kein Wiederherstellungstest in diesem Monat.' : '  ! No restore test this month.');
    for (const f of d.failures) {
      const kind = f.kind === 'backup' ? 'Backup' : de ? 'Wiederherstellungstest' : 'Restore test';
      lines.push(`  ✗ ${when(f.at)} ${kind}: ${f.text}`);
    }
    lines.push('');
  }
  if (report.databases.length === 0)
    lines.push(de ? 'In diesem Monat gab es keine Datenbanken.' : 'No databases in this month.', '');
  lines.push(de ? `Im Dashboard: ${dashboardUrl}` : `In the dashboard: ${dashboardUrl}`);
  return {
    subject: de ? `Resistro: Wiederherstellungsbericht ${name}` : `Resistro: restore report for ${name}`,
    text: `${lines.join('\n')}\n`,
  };
}

export async function sendMonthlyReports(
  db: Db,
  appOrigin: string | undefined,
  now: Date,
  send: (m: ReportEmail) => Promise<void>,
): Promise<{ sent: number }> {
  if (now.getUTCDate() !== 1) return { sent: 0 };
  const month = previousMonth(now);
  const cursorName = `monthly-report:${month}`;
  const cursor = await readCursor(db, cursorName);
  if (cursor === LAST_ID) return { sent: 0 };
  const { to } = monthRange(month);
  const rows = await db
    .select({ id: accounts.id, language: accounts.language, timeZone: accounts.timeZone })
    .from(accounts)
    .where(and(gt(accounts.id, cursor), lt(accounts.createdAt, to)))
    .orderBy(asc(accounts.id))
    .limit(PER_RUN);
  let sent = 0;
  for (const a of rows) {
    const report = await monthlyReport(db, { id: a.id, language: a.language }, month, now);
    const [owner] = await db
      .select({ email: users.email })
      .from(users)
      .where(eq(users.accountId, a.id))
      .orderBy(asc(users.createdAt))
      .limit(1);
    if (owner && report.databases.length > 0) {
      const mail = reportEmail(
        report,
        { language: a.language, timeZone: a.timeZone },
        `${appOrigin ?? ''}/reports?month=${month}`,
      );
      await send({ to: owner.email, ...mail });
      sent++;
    }
    await setCursor(db, cursorName, a.id, now);
  }
  if (rows.length < PER_RUN) await setCursor(db, cursorName, LAST_ID, now);
  return { sent };
}
