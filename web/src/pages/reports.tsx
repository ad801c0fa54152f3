// The monthly restore report (issue 14): every database of the month with its backups, restore
// tests, measured restore time and what failed; the same report is e-mailed on the 1st.
import type { MonthlyReport } from '@resistro/contract/restore-tests';
import { A, useSearchParams } from '@solidjs/router';
import { createResource, For, type JSX, Show } from 'solid-js';
import { api } from '../api.ts';
import { Field } from '../components/field.tsx';
import { PageHeader } from '../components/page-header.tsx';
import { Async, EmptyState } from '../components/states.tsx';
import { locale, type MessageKey, t } from '../i18n/index.ts';
import { formatBytes, formatDateTime, formatDuration } from '../lib/format.ts';

/** The last twelve months, newest first, as YYYY-MM (UTC, like the report). */
function recentMonths(now = new Date()): string[] {
  return Array.from({ length: 12 }, (_, i) =>
    new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1)).toISOString().slice(0, 7),
  );
}

function monthLabel(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Intl.DateTimeFormat(locale() === 'de' ? 'de-DE' : 'en-GB', {
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  }).format(new Date(Date.UTC(y, m - 1, 1)));
}

export default function ReportsPage(): JSX.Element {
  const [search, setSearch] = useSearchParams<{ month?: string }>();
  const months = recentMonths();
  // default: the month the e-mail on the 1st was about
  const month = () => (search.month && /^\d{4}-\d{2}$/.test(search.month) ? search.month : months[1]!);
  const [report, { refetch }] = createResource(
    month,
    async (m) => (await api.monthlyReport({ month: m })).report,
  );

  return (
    <div class="page">
      <PageHeader title={t('report.title')} description={t('report.subtitle')} />
      <div class="card">
        <Field id="report-month" label={t('report.month')}>
          <select
            id="report-month"
            value={month()}
            onChange={(e) => setSearch({ month: e.currentTarget.value })}
          >
            <For each={months.includes(month()) ? months : [month(), ...months]}>
              {(m) => <option value={m}>{monthLabel(m)}</option>}
            </For>
          </select>
        </Field>
      </div>
      <Async of={report} retry={refetch}>
        {(r) => <ReportBody report={r()} />}
      </Async>
    </div>
  );
}

function ReportBody(props: { report: MonthlyReport }): JSX.Element {
  return (
    <Show
      when={props.report.databases.length > 0}
      fallback={
        <EmptyState icon="database" title={t('report.title')}>
          {t('report.empty')}
        </EmptyState>
      }
    >
      <p class="muted">{t('report.generated', { when: formatDateTime(props.report.generatedAt) })}</p>
      <For each={props.report.databases}>
        {(d) => (
          <section class="card" data-testid="report-database" data-database-id={d.id}>
            <div class="card-head">
              <h2>
                <A href={`/databases/${d.id}`}>{d.name}</A>
              </h2>
              <span class="muted">{d.engine}</span>
            </div>
            <dl class="facts">
              <div class="fact">
                <dt>{t('report.col.backups')}</dt>
                <dd>
                  {t('report.backups', { ok: d.backups.succeeded, failed: d.backups.failed })}
                  <span class="fact-sub">{formatBytes(d.backups.bytes)}</span>
                </dd>
              </div>
              <div class="fact">
                <dt>{t('report.col.tests')}</dt>
                <dd data-testid="report-tests">
                  {t('report.tests', {
                    passed: d.restoreTests.passed,
                    failed: d.restoreTests.failed,
                    error: d.restoreTests.error,
                  })}
                </dd>
              </div>
              <div class="fact">
                <dt>{t('report.col.lastPassed')}</dt>
                <dd>{formatDateTime(d.restoreTests.lastPassedAt)}</dd>
              </div>
              <div class="fact">
                <dt>{t('report.col.rto')}</dt>
                <dd data-testid="report-rto">
                  {formatDuration(d.restoreTests.lastRestoreMs)}
                  <Show when={d.restoreTests.maxRestoreMs !== null}>
                    <span class="fact-sub">
                      {t('report.rtoMax', { duration: formatDuration(d.restoreTests.maxRestoreMs) })}
                    </span>
                  </Show>
                </dd>
              </div>
            </dl>
            <h3 class="report-failures-title">{t('report.failures')}</h3>
            <Show when={d.failures.length > 0} fallback={<p class="muted">{t('report.noFailures')}</p>}>
              <ul class="error-log" data-testid="report-failures">
                <For each={d.failures}>
                  {(f) => (
                    <li>
                      <time datetime={f.at}>{formatDateTime(f.at)}</time> ·{' '}
                      <strong>{t(`report.kind.${f.kind}` as MessageKey)}</strong>: {f.text}
                    </li>
                  )}
                </For>
              </ul>
            </Show>
          </section>
        )}
      </For>
    </Show>
  );
}
