// Databases (user guide "Datenbanken"): every database with its status ✓ active, paused, ✗ error.
import type { Database } from '@resistro/contract/schemas';
import { A } from '@solidjs/router';
import { createResource, For, type JSX, Show } from 'solid-js';
import { api } from '../api.ts';
import { Icon } from '../components/icons.tsx';
import { PageHeader } from '../components/page-header.tsx';
import { Async, EmptyState } from '../components/states.tsx';
import { DatabaseStatusBadge } from '../components/status-badge.tsx';
import { t, tn } from '../i18n/index.ts';
import { ENGINE_LABELS } from '../lib/engines.ts';
import { formatDateTime, formatRelative } from '../lib/format.ts';
import { createNow, createPoll } from '../lib/poll.ts';
import { describeSchedule } from '../lib/schedule-text.ts';
import { account } from '../lib/session.ts';

export default function DatabasesPage(): JSX.Element {
  const [list, { refetch }] = createResource(async () => {
    const [dbs, agents] = await Promise.all([api.listDatabases(), api.listAgents()]);
    return { items: dbs.items, agentCount: agents.items.length };
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
          <A href="/databases/new" class="btn btn-primary">
            <Icon name="plus" size={16} />
            {t('databases.add')}
          </A>
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
          <Show
            when={data().items.length > 0}
            fallback={
              <div class="card">
                <EmptyState
                  icon="database"
                  title={t('databases.emptyTitle')}
                  action={
                    data().agentCount === 0 ? (
                      <A href="/onboarding" class="btn btn-primary">
                        {t('start.connectAgent')}
                      </A>
                    ) : (
                      <A href="/databases/new" class="btn btn-primary">
                        <Icon name="plus" size={16} />
                        {t('databases.add')}
                      </A>
                    )
                  }
                >
                  {data().agentCount === 0 ? t('databases.emptyNoAgent') : t('databases.emptyText')}
                </EmptyState>
              </div>
            }
          >
            <div class="card card-flush">
              <div class="table-wrap">
                <table class="table responsive-table">
                  <caption class="sr-only">{t('databases.title')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('databases.col.name')}</th>
                      <th scope="col">{t('databases.col.status')}</th>
                      <th scope="col">{t('databases.col.schedule')}</th>
                      <th scope="col">{t('databases.col.lastBackup')}</th>
                      <th scope="col">{t('databases.col.nextRun')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={data().items}>
                      {(d: Database) => (
                        <tr data-database-id={d.id}>
                          <td data-label={t('databases.col.name')} class="cell-wide">
                            <A href={`/databases/${d.id}`} class="strong-link">
                              {d.name}
                            </A>
                            <div class="cell-sub">
                              {ENGINE_LABELS[d.engine]} · {d.host}:{d.port}/{d.database}
                            </div>
                          </td>
                          <td data-label={t('databases.col.status')}>
                            <DatabaseStatusBadge status={d.status} />
                          </td>
                          <td data-label={t('databases.col.schedule')}>
                            {describeSchedule(d.schedule)}
                            <div class="cell-sub">{t('databases.retention', { days: d.retentionDays })}</div>
                          </td>
                          <td data-label={t('databases.col.lastBackup')}>
                            <Show
                              when={d.lastBackupAt}
                              fallback={<span class="muted">{t('databases.never')}</span>}
                            >
                              <span title={formatDateTime(d.lastBackupAt)}>
                                {formatRelative(d.lastBackupAt, now())}
                              </span>
                            </Show>
                          </td>
                          <td data-label={t('databases.col.nextRun')}>
                            <Show when={d.nextRunAt} fallback={<span class="muted">–</span>}>
                              <span title={formatRelative(d.nextRunAt, now())}>
                                {formatDateTime(d.nextRunAt)}
                              </span>
                            </Show>
                          </td>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </div>
            </div>
          </Show>
        )}
      </Async>
    </div>
  );
}
