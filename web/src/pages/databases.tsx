// Databases (user guide "Datenbanken"): every database with its status ✓ active, paused, ✗ error.
import type { Database } from '@resistro/contract/schemas';
import { A } from '@solidjs/router';
import { createResource, type JSX, Show } from 'solid-js';
import { api } from '../api.ts';
import { DataTable } from '../components/data-table.tsx';
import { Icon } from '../components/icons.tsx';
import { PageHeader } from '../components/page-header.tsx';
import { Async, EmptyState } from '../components/states.tsx';
import { DatabaseStateBadge } from '../components/status-badge.tsx';
import { WriteLink } from '../components/write-guard.tsx';
import { t, tn } from '../i18n/index.ts';
import { ACTIONS } from '../lib/actions.ts';
import { engineLabel, sourceWhere } from '../lib/engines.ts';
import { formatDateTime, formatDuration, formatRelative } from '../lib/format.ts';
import { createNow, createPoll } from '../lib/poll.ts';
import { describeSchedule } from '../lib/schedule-text.ts';
import { account } from '../lib/session.ts';

export default function DatabasesPage(): JSX.Element {
  const [list, { refetch }] = createResource(async () => {
    const [dbs, agents, tests] = await Promise.all([
      api.listDatabases(),
      api.allAgents(),
      api.restoreTestSummary(),
    ]);
    const verified = new Map(tests.items.map((x) => [x.databaseId, x]));
    return { items: dbs.items, agents: agents, agentCount: agents.length, verified };
  });
  const now = createNow(30_000);
  createPoll(() => void refetch(), 20_000);

  const atLimit = () => {
    const a = account();
    const n = list.state === 'ready' ? list().items.length : 0;
    return a?.limits.maxDatabases != null && n >= a.limits.maxDatabases;
  };

  return (
    <div class="page">
      <PageHeader
        title={t('databases.title')}
        description={t('databases.subtitle')}
        actions={
          <WriteLink href="/databases/new" class="btn btn-primary" action={ACTIONS.createDatabase}>
            <Icon name="plus" size={16} />
            {t('databases.add')}
          </WriteLink>
        }
      />
      <Show when={atLimit()}>
        <div class="alert alert-info" role="status">
          <Icon name="alert" />
          <p>
            {tn('databases.limitReached', account()?.limits.maxDatabases ?? 0)}{' '}
            <A href="/settings#plan" class="alert-link">
              {t('databases.upgrade')}
            </A>
          </p>
        </div>
      </Show>
      <Async of={list} retry={refetch}>
        {(data) => (
          <DataTable
            card
            caption={t('databases.title')}
            rows={data().items}
            rowAttrs={(d) => ({ 'data-database-id': d.id })}
            empty={
              <EmptyState
                icon="database"
                title={t('databases.emptyTitle')}
                action={
                  data().agentCount === 0 ? (
                    <WriteLink href="/onboarding" class="btn btn-primary" action={ACTIONS.createApiKey}>
                      {t('start.connectAgent')}
                    </WriteLink>
                  ) : (
                    <WriteLink href="/databases/new" class="btn btn-primary" action={ACTIONS.createDatabase}>
                      <Icon name="plus" size={16} />
                      {t('databases.add')}
                    </WriteLink>
                  )
                }
              >
                {data().agentCount === 0 ? t('databases.emptyNoAgent') : t('databases.emptyText')}
              </EmptyState>
            }
            columns={[
              {
                label: t('databases.col.name'),
                wide: true,
                cell: (d: Database) => (
                  <>
                    <A href={`/databases/${d.id}`} class="strong-link">
                      {d.name}
                    </A>
                    <div class="cell-sub">
                      {engineLabel(d.engine)} · {sourceWhere(d)}
                    </div>
                  </>
                ),
              },
              {
                label: t('databases.col.status'),
                cell: (d) => (
                  <DatabaseStateBadge database={d} agent={data().agents.find((a) => a.id === d.agentId)} />
                ),
              },
              {
                label: t('databases.col.schedule'),
                cell: (d) => (
                  <>
                    {describeSchedule(d.schedule)}
                    <div class="cell-sub">{t('databases.retention', { days: d.retentionDays })}</div>
                  </>
                ),
              },
              {
                label: t('databases.col.lastBackup'),
                cell: (d) => (
                  <Show when={d.lastBackupAt} fallback={<span class="muted">{t('databases.never')}</span>}>
                    <span title={formatDateTime(d.lastBackupAt)}>
                      {formatRelative(d.lastBackupAt, now(), 'past')}
                    </span>
                  </Show>
                ),
              },
              {
                label: t('databases.col.verified'),
                cell: (d) => {
                  const v = () => data().verified.get(d.id);
                  const failed = () => v()?.latest?.state === 'failed' || v()?.latest?.state === 'error';
                  return (
                    <span data-testid="last-verified-restore">
                      <Show
                        when={v()?.lastPassedAt}
                        fallback={<span class="muted">{t('rtest.lastVerifiedNever')}</span>}
                      >
                        {(at) => (
                          <span title={formatDateTime(at())}>{formatRelative(at(), now(), 'past')}</span>
                        )}
                      </Show>
                      <Show
                        when={v()?.lastPassedRestoreMs !== null && v()?.lastPassedRestoreMs !== undefined}
                      >
                        <div class="cell-sub">
                          {t('rtest.rto', { duration: formatDuration(v()?.lastPassedRestoreMs) })}
                        </div>
                      </Show>
                      <Show when={failed()}>
                        <div class="cell-sub text-error">✗ {t('databases.verifiedFailed')}</div>
                      </Show>
                    </span>
                  );
                },
              },
              {
                label: t('databases.col.nextRun'),
                cell: (d) => (
                  <Show when={d.nextRunAt} fallback={<span class="muted">–</span>}>
                    <span title={formatRelative(d.nextRunAt, now(), 'future')}>
                      {formatDateTime(d.nextRunAt)}
                    </span>
                  </Show>
                ),
              },
            ]}
          />
        )}
      </Async>
    </div>
  );
}
