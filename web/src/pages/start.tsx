// Start page (user guide "Startseite"): databases, next scheduled backup, storage against the
// quota, recent backups, and open alerts that link to the error.
import type { Account, Agent, Backup, Database } from '@resistro/contract/schemas';
import { A, useNavigate } from '@solidjs/router';
import { createEffect, createResource, For, type JSX, Show } from 'solid-js';
import { api, errorMessage } from '../api.ts';
import { BackupTable } from '../components/backup-table.tsx';
import { Icon, type IconName } from '../components/icons.tsx';
import { PageHeader } from '../components/page-header.tsx';
import { Async, EmptyState } from '../components/states.tsx';
import { UsageMeter } from '../components/usage-meter.tsx';
import { WriteLink } from '../components/write-guard.tsx';
import { t } from '../i18n/index.ts';
import { ACTIONS, actionAttr } from '../lib/actions.ts';
import { type OpenAlert, openAlerts } from '../lib/alerts.ts';
import { formatBytes, formatDateTime, formatRelative } from '../lib/format.ts';
import { createNow, createPoll } from '../lib/poll.ts';
import { actionBlocked, updateAccount } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';

type Overview = {
  databases: Database[];
  agents: Agent[];
  backups: Backup[];
  account: Account;
  alerts: OpenAlert[];
};

async function loadOverview(): Promise<Overview> {
  const [databases, agents, backups, { account }] = await Promise.all([
    api.listDatabases(),
    api.allAgents(),
    api.listBackups({ limit: 8 }),
    api.account(),
  ]);
  updateAccount(account);
  const alerts = await openAlerts(databases.items, agents);
  return { databases: databases.items, agents: agents, backups: backups.items, account, alerts };
}

function StatCard(props: {
  icon: IconName;
  label: string;
  children: JSX.Element;
  foot?: JSX.Element;
  href?: string;
}): JSX.Element {
  return (
    <section class="card stat-card" aria-label={props.label}>
      <div class="stat-head">
        <span class="stat-icon">
          <Icon name={props.icon} />
        </span>
        <h2 class="stat-label">{props.label}</h2>
      </div>
      <div class="stat-value">{props.children}</div>
      <Show when={props.foot}>
        <div class="stat-foot">{props.foot}</div>
      </Show>
    </section>
  );
}

export default function StartPage(): JSX.Element {
  const navigate = useNavigate();
  const [overview, { refetch }] = createResource(loadOverview);
  const now = createNow(15_000);
  createPoll(() => void refetch(), 15_000);

  // A new account has nothing to show yet: the first step is connecting an agent.
  createEffect(() => {
    if (overview.state !== 'ready') return;
    const o = overview();
    if (o && o.agents.length === 0 && o.databases.length === 0) navigate('/onboarding', { replace: true });
  });

  const acknowledge = async (id: string) => {
    try {
      await api.acknowledgeAlert(id);
      showToast(t('alerts.acknowledgedToast'));
      void refetch();
    } catch (e) {
      showToast(errorMessage(e), 'error', 8000);
    }
  };

  const nextRun = (dbs: Database[]) =>
    dbs.filter((d) => d.nextRunAt).sort((a, b) => Date.parse(a.nextRunAt!) - Date.parse(b.nextRunAt!))[0];

  return (
    <div class="page">
      <PageHeader
        title={t('start.title')}
        description={t('start.subtitle')}
        actions={
          <WriteLink href="/databases/new" class="btn btn-primary" action={ACTIONS.createDatabase}>
            <Icon name="plus" size={16} />
            {t('databases.add')}
          </WriteLink>
        }
      />
      <Async of={overview} retry={refetch}>
        {(o) => (
          <>
            <div class="stats">
              <StatCard
                icon="database"
                label={t('start.databases')}
                foot={
                  o().account.limits.maxDatabases === null
                    ? t('start.unlimited')
                    : t('start.ofLimit', { limit: o().account.limits.maxDatabases ?? 0 })
                }
              >
                <A href="/databases" class="stat-link" data-testid="stat-databases">
                  {o().databases.length}
                </A>
              </StatCard>
              <StatCard
                icon="clock"
                label={t('start.nextBackup')}
                foot={
                  <Show when={nextRun(o().databases)} fallback={t('start.noSchedule')}>
                    {(d) => (
                      <>
                        <A href={`/databases/${d().id}`}>{d().name}</A> · {formatDateTime(d().nextRunAt)}
                      </>
                    )}
                  </Show>
                }
              >
                <span data-testid="stat-next">
                  {(() => {
                    const d = nextRun(o().databases);
                    return d ? formatRelative(d.nextRunAt, now(), 'future') : '–';
                  })()}
                </span>
              </StatCard>
              <StatCard icon="archive" label={t('start.storage')}>
                <span data-testid="stat-storage">{formatBytes(o().account.usage.storageBytes)}</span>
                <UsageMeter
                  value={o().account.usage.storageBytes}
                  max={o().account.limits.storageBytes}
                  label={t('start.storage')}
                  text={t('usage.ofQuota', {
                    used: formatBytes(o().account.usage.storageBytes),
                    quota: formatBytes(o().account.limits.storageBytes),
                  })}
                />
              </StatCard>
              <StatCard
                icon="server"
                label={t('start.agents')}
                foot={
                  <A href={o().agents.length ? '/agents' : '/onboarding'}>
                    {o().agents.length ? t('start.viewAgents') : t('start.connectAgent')}
                  </A>
                }
              >
                {t('start.agentsOnline', {
                  online: o().agents.filter((a) => a.online).length,
                  total: o().agents.length,
                })}
              </StatCard>
            </div>

            <div class="grid-2">
              <section class="card" aria-labelledby="recent-title">
                <div class="card-head">
                  <h2 id="recent-title">{t('start.recentBackups')}</h2>
                  <A href="/backups" class="btn btn-ghost btn-sm">
                    {t('start.allBackups')}
                    <Icon name="chevronRight" size={16} />
                  </A>
                </div>
                <Show
                  when={o().backups.length > 0}
                  fallback={
                    <EmptyState icon="archive" title={t('start.noBackupsTitle')}>
                      {o().databases.length ? t('start.noBackupsText') : t('start.noDatabasesText')}
                    </EmptyState>
                  }
                >
                  <BackupTable
                    items={o().backups}
                    names={new Map(o().databases.map((d) => [d.id, d.name]))}
                    showDatabase
                    compact
                    caption={t('start.recentBackups')}
                  />
                </Show>
              </section>

              <section class="card alerts-card" aria-labelledby="alerts-title">
                <div class="card-head">
                  <h2 id="alerts-title">
                    {t('start.alerts')}
                    <Show when={o().alerts.length}>
                      <span class="count-pill count-pill-error">{o().alerts.length}</span>
                    </Show>
                  </h2>
                </div>
                <Show
                  when={o().alerts.length > 0}
                  fallback={
                    <div class="all-good">
                      <span class="all-good-icon" aria-hidden="true">
                        <Icon name="check" />
                      </span>
                      <div>
                        <strong>{t('start.noAlertsTitle')}</strong>
                        <p class="muted">{t('start.noAlertsText')}</p>
                      </div>
                    </div>
                  }
                >
                  <ul class="alert-list">
                    <For each={o().alerts}>
                      {(a) => (
                        <li class={`alert-item alert-item-${a.tone}`}>
                          <Icon name={a.tone === 'error' ? 'alert' : 'bell'} />
                          <div>
                            <A href={a.href} class="alert-item-title">
                              {a.title}
                            </A>
                            <Show when={a.detail}>
                              <p class="alert-item-detail">{a.detail}</p>
                            </Show>
                            <p class="alert-item-time">
                              <Show when={a.at}>{formatRelative(a.at, now(), 'past')}</Show>
                              <Show when={a.alert?.acknowledgedAt}>
                                {' · '}
                                {t('alerts.acknowledged')}
                              </Show>
                            </p>
                          </div>
                          <Show when={a.alert && !a.alert.acknowledgedAt}>
                            <button
                              type="button"
                              class="btn btn-ghost btn-sm alert-ack"
                              aria-label={t('alerts.acknowledgeLabel', { title: a.title })}
                              disabled={actionBlocked(ACTIONS.acknowledgeAlert) !== undefined}
                              title={actionBlocked(ACTIONS.acknowledgeAlert)}
                              data-action={actionAttr(ACTIONS.acknowledgeAlert)}
                              onClick={() => acknowledge(a.id)}
                            >
                              {t('alerts.acknowledge')}
                            </button>
                          </Show>
                        </li>
                      )}
                    </For>
                  </ul>
                </Show>
              </section>
            </div>
          </>
        )}
      </Async>
    </div>
  );
}
