// One database (user guide "Klick auf eine Datenbank"): last 10 backups, size and retention,
// size and duration over time, the error log; pause/resume, back up now, edit, delete.
import { DEDUP_ENGINES } from '@resistro/contract/dedup';
import { isRestoreActive, type Restore } from '@resistro/contract/restores';
import type { Agent, Backup, Database } from '@resistro/contract/schemas';
import { A, useLocation, useNavigate, useParams, useSearchParams } from '@solidjs/router';
import { createEffect, createResource, createSignal, For, type JSX, lazy, Show, Suspense } from 'solid-js';
import { api, errorMessage } from '../api.ts';
import { BackupErrorText, describeBackupError } from '../components/backup-error.tsx';
import { BackupTable } from '../components/backup-table.tsx';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { ConnectionCheckPanel } from '../components/connection-check.tsx';
import { ExportButton } from '../components/export-button.tsx';
import { Fact } from '../components/fact.tsx';
import { Icon } from '../components/icons.tsx';
import { PageHeader } from '../components/page-header.tsx';
import { PitrCard } from '../components/pitr-card.tsx';
import { RestoreDialog } from '../components/restore-dialog.tsx';
import { RestoreHistory } from '../components/restore-history.tsx';
import { RestoreTestsSection } from '../components/restore-tests.tsx';
import { RetentionCard } from '../components/retention-card.tsx';
import { Async, EmptyState, Loading } from '../components/states.tsx';
import { AgentStatusBadge, DatabaseStateBadge } from '../components/status-badge.tsx';
import { WriteLink } from '../components/write-guard.tsx';
import { t } from '../i18n/index.ts';
import { ACTIONS, actionAttr } from '../lib/actions.ts';
import { engineLabel, sourceWhere } from '../lib/engines.ts';
import { formatBytes, formatDateTime, formatRelative } from '../lib/format.ts';
import { pitrFamily } from '../lib/pitr.ts';
import { createNow, createPoll } from '../lib/poll.ts';
import { describeSchedule } from '../lib/schedule-text.ts';
import { actionBlocked, refreshAccount } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';

// uPlot is the largest library here; it loads only when a chart is on screen.
const BackupChart = lazy(() =>
  import('../components/backup-chart.tsx').then((m) => ({ default: m.BackupChart })),
);

type Detail = {
  database: Database;
  agent: Agent | undefined;
  recent: Backup[];
  history: Backup[];
  failures: Backup[];
  restores: Restore[];
  /** every database of the account: the restore dialog's other targets */
  databases: Database[];
  /** deduplicated storage of this database: logical size of its backups against bytes stored */
  dedup: { logicalBytes: number; storedBytes: number } | undefined;
};

async function loadDetail(id: string): Promise<Detail> {
  const [{ database }, agents, recent, history, failures, restores, databases, usage] = await Promise.all([
    api.getDatabase(id),
    api.allAgents(),
    api.listBackups({ databaseId: id, limit: 10 }),
    api.listBackups({ databaseId: id, status: 'succeeded', limit: 100 }),
    api.listBackups({ databaseId: id, status: 'failed', limit: 20 }),
    api.listRestores({ databaseId: id, limit: 20 }),
    api.listDatabases(),
    Promise.resolve()
      .then(() => api.dedupUsage())
      .catch(() => undefined),
  ]);
  return {
    database,
    agent: agents.find((a) => a.id === database.agentId),
    recent: recent.items,
    history: history.items,
    failures: failures.items,
    restores: restores.items,
    databases: databases.items,
    dedup: usage?.databases.find((u) => u.databaseId === id),
  };
}

export default function DatabaseDetailPage(): JSX.Element {
  const params = useParams<{ id: string }>();
  const navigate = useNavigate();
  const location = useLocation();
  const [detail, { refetch, mutate }] = createResource(() => params.id, loadDetail);
  const [requestedAt, setRequestedAt] = createSignal<number>();
  const [busy, setBusy] = createSignal<string>();
  const [confirmDelete, setConfirmDelete] = createSignal(false);
  // the restore dialog: open with the backup to restore (null: the newest successful one)
  const [restoreOf, setRestoreOf] = createSignal<Backup | null>();
  const [search, setSearch] = useSearchParams<{ restore?: string }>();
  const now = createNow(15_000);

  // Poll fast while a backup is on its way (requested or running), slowly otherwise.
  const active = () => {
    if (detail.state !== 'ready' && detail.state !== 'refreshing') return false;
    const running = detail.latest?.recent.some((b) => b.status === 'running');
    const waiting = requestedAt() !== undefined && Date.now() - requestedAt()! < 10 * 60_000;
    const checking =
      detail.latest?.database.connectionCheck?.status === 'pending' && detail.latest.agent?.online === true;
    const restoring = detail.latest?.restores.some((r) => isRestoreActive(r.state));
    return Boolean(running || waiting || checking || restoring);
  };
  createPoll(() => void refetch(), 2_000, active);
  createPoll(
    () => void refetch(),
    20_000,
    () => !active(),
  );

  // A finished backup after "back up now" ends the fast polling.
  createEffect(() => {
    const at = requestedAt();
    const latest = detail.latest?.recent[0];
    if (at && latest && latest.status !== 'running' && Date.parse(latest.startedAt) >= at - 5_000) {
      setRequestedAt(undefined);
      void refreshAccount().catch(() => {});
    }
  });

  // "Restore" on the backups page links here with ?restore=<backup id>: open the dialog for it.
  createEffect(() => {
    const wanted = search.restore;
    const d = detail.latest;
    if (!wanted || !d) return;
    setSearch({ restore: undefined }, { replace: true });
    const backup = d.recent.find((b) => b.id === wanted) ?? d.history.find((b) => b.id === wanted);
    if (backup && backup.status === 'succeeded') setRestoreOf(backup);
  });

  // Links from alerts point at #errors: scroll there once the content exists.
  let scrolled = false;
  createEffect(() => {
    if (scrolled || detail.state !== 'ready' || location.hash !== '#errors') return;
    scrolled = true;
    setTimeout(() => {
      const el = document.getElementById('errors');
      el?.scrollIntoView({ block: 'start' });
      el?.focus({ preventScroll: true });
    }, 100);
  });

  const act = async (name: string, fn: () => Promise<{ database: Database } | unknown>, done: string) => {
    setBusy(name);
    try {
      const result = (await fn()) as { database?: Database } | undefined;
      const current = detail.latest;
      if (result?.database && current) mutate({ ...current, database: result.database });
      showToast(done);
      return true;
    } catch (e) {
      showToast(errorMessage(e), 'error', 10_000);
      return false;
    } finally {
      setBusy(undefined);
    }
  };

  // With the agent offline the request waits for it: say so instead of a plain "requested".
  const backupNow = async (id: string) => {
    const agent = detail.latest?.agent;
    const done =
      agent && !agent.online
        ? t('detail.backupRequestedOffline', { host: agent.hostname })
        : t('detail.backupRequested');
    if (await act('backup', () => api.backupNow(id), done)) setRequestedAt(Date.now());
  };
  const agentDown = () => {
    const a = detail.latest?.agent;
    return a !== undefined && !a.online;
  };

  return (
    <div class="page">
      <Async of={detail} retry={refetch}>
        {(d) => (
          <>
            <PageHeader
              back={
                <A href="/databases" class="back-link">
                  <Icon name="chevronLeft" size={16} />
                  {t('databases.title')}
                </A>
              }
              title={d().database.name}
              description={
                <span class="header-meta">
                  <DatabaseStateBadge database={d().database} agent={d().agent} />
                  <span>
                    {engineLabel(d().database.engine)} · {d().database.user ? `${d().database.user}@` : ''}
                    {sourceWhere(d().database)}
                  </span>
                </span>
              }
              actions={
                <>
                  <button
                    type="button"
                    class="btn btn-primary"
                    disabled={
                      busy() !== undefined ||
                      d().database.paused ||
                      requestedAt() !== undefined ||
                      actionBlocked(ACTIONS.backupNow) !== undefined
                    }
                    title={
                      actionBlocked(ACTIONS.backupNow) ??
                      (agentDown() ? t('detail.agentDownTitle') : undefined)
                    }
                    data-action={actionAttr(ACTIONS.backupNow)}
                    onClick={() => backupNow(d().database.id)}
                  >
                    <Icon name="play" size={16} />
                    {requestedAt() !== undefined ? t('detail.backupWaiting') : t('detail.backupNow')}
                  </button>
                  <Show
                    when={d().database.paused}
                    fallback={
                      <button
                        type="button"
                        class="btn btn-secondary"
                        disabled={busy() !== undefined || actionBlocked(ACTIONS.pauseDatabase) !== undefined}
                        title={actionBlocked(ACTIONS.pauseDatabase)}
                        data-action={actionAttr(ACTIONS.pauseDatabase)}
                        onClick={() =>
                          act('pause', () => api.pauseDatabase(d().database.id), t('detail.paused'))
                        }
                      >
                        <Icon name="pause" size={16} />
                        {t('detail.pause')}
                      </button>
                    }
                  >
                    <button
                      type="button"
                      class="btn btn-secondary"
                      disabled={busy() !== undefined || actionBlocked(ACTIONS.resumeDatabase) !== undefined}
                      title={actionBlocked(ACTIONS.resumeDatabase)}
                      data-action={actionAttr(ACTIONS.resumeDatabase)}
                      onClick={() =>
                        act('resume', () => api.resumeDatabase(d().database.id), t('detail.resumed'))
                      }
                    >
                      <Icon name="play" size={16} />
                      {t('detail.resume')}
                    </button>
                  </Show>
                  <button
                    type="button"
                    class="btn btn-secondary"
                    disabled={d().history.length === 0 || actionBlocked(ACTIONS.restore) !== undefined}
                    title={actionBlocked(ACTIONS.restore)}
                    data-action={actionAttr(ACTIONS.restore)}
                    onClick={() => setRestoreOf(null)}
                  >
                    <Icon name="download" size={16} />
                    {t('restore.action')}
                  </button>
                  <ExportButton databaseId={d().database.id} name={d().database.name} />
                  <WriteLink
                    href={`/databases/${d().database.id}/edit`}
                    class="btn btn-secondary"
                    action={ACTIONS.editDatabase}
                  >
                    <Icon name="edit" size={16} />
                    {t('action.edit')}
                  </WriteLink>
                  <button
                    type="button"
                    class="btn btn-danger-outline"
                    disabled={actionBlocked(ACTIONS.deleteDatabase) !== undefined}
                    title={actionBlocked(ACTIONS.deleteDatabase)}
                    data-action={actionAttr(ACTIONS.deleteDatabase)}
                    onClick={() => setConfirmDelete(true)}
                  >
                    <Icon name="trash" size={16} />
                    {t('action.delete')}
                  </button>
                </>
              }
            />

            <Show
              when={
                !actionBlocked(ACTIONS.editDatabase) && !d().database.paused && agentDown()
                  ? d().agent
                  : undefined
              }
            >
              {(a) => (
                <div class="alert alert-warn" role="status" data-testid="agent-down">
                  <Icon name="alert" />
                  <p>
                    {a().keyRevokedAt
                      ? t('detail.agentKeyRevoked', { host: a().hostname })
                      : t('detail.agentOffline', {
                          host: a().hostname,
                          when: formatRelative(a().lastSeenAt, now(), 'past'),
                        })}{' '}
                    <A href="/agents" class="alert-link">
                      {t('detail.agentsLink')}
                    </A>
                  </p>
                </div>
              )}
            </Show>
            <Show when={d().database.paused}>
              <div class="alert alert-info" role="status">
                <Icon name="pause" />
                <p>{t('detail.pausedBanner')}</p>
              </div>
            </Show>
            <Show when={requestedAt() !== undefined}>
              <div class="alert alert-info" role="status">
                <span class="spinner" aria-hidden="true" />
                <p>{t('detail.waitingForAgent', { host: d().agent?.hostname ?? '' })}</p>
              </div>
            </Show>

            <dl class="facts card">
              <Fact
                label={t('detail.lastBackup')}
                sub={d().history[0] ? formatRelative(d().history[0]!.startedAt, now(), 'past') : undefined}
              >
                <Show when={d().history[0]} fallback={<span class="muted">{t('databases.never')}</span>}>
                  {(b) => <span data-testid="last-size">{formatBytes(b().sizeBytes)}</span>}
                </Show>
              </Fact>
              <Fact label={t('detail.retention')} sub={t('detail.retentionSub')}>
                {t('detail.retentionDays', { days: d().database.retentionDays })}
              </Fact>
              <Fact
                label={t('detail.schedule')}
                sub={
                  d().database.nextRunAt
                    ? t('detail.nextRun', { when: formatDateTime(d().database.nextRunAt) })
                    : t('detail.noNextRun')
                }
              >
                {describeSchedule(d().database.schedule)}
              </Fact>
              <Fact
                label={t('detail.agent')}
                sub={d().agent ? <AgentStatusBadge agent={d().agent!} /> : undefined}
              >
                <Show when={d().agent} fallback={<span class="muted">–</span>}>
                  {(a) => <A href="/agents">{a().hostname}</A>}
                </Show>
              </Fact>
              <Show when={DEDUP_ENGINES.includes(d().database.engine)}>
                <Fact
                  label={t('detail.dedup')}
                  sub={
                    <button
                      type="button"
                      class="btn btn-ghost btn-sm"
                      disabled={busy() !== undefined || actionBlocked(ACTIONS.editDatabase) !== undefined}
                      title={actionBlocked(ACTIONS.editDatabase)}
                      data-action={actionAttr(ACTIONS.editDatabase)}
                      onClick={() =>
                        act(
                          'dedup',
                          () => api.updateDatabase(d().database.id, { dedup: !d().database.dedup }),
                          d().database.dedup ? t('detail.dedupTurnedOff') : t('detail.dedupTurnedOn'),
                        )
                      }
                    >
                      {d().database.dedup ? t('detail.dedupTurnOff') : t('detail.dedupTurnOn')}
                    </button>
                  }
                >
                  <Show
                    when={d().dedup && d().dedup!.logicalBytes > 0 ? d().dedup : undefined}
                    fallback={d().database.dedup ? t('detail.dedupOn') : t('detail.dedupOff')}
                  >
                    {(u) => (
                      <span data-testid="dedup-usage">
                        {t('detail.dedupUsage', {
                          logical: formatBytes(u().logicalBytes),
                          stored: formatBytes(u().storedBytes),
                        })}
                      </span>
                    )}
                  </Show>
                </Fact>
              </Show>
              <Fact label={t('detail.credentials')}>
                {d().database.credentialsMode === 'sealed'
                  ? t('detail.credentialsSealed')
                  : t('detail.credentialsLocal')}
              </Fact>
            </dl>

            <ConnectionCheckPanel
              check={d().database.connectionCheck}
              agentOnline={d().agent?.online}
              busy={busy() !== undefined}
              onTestAgain={
                actionBlocked(ACTIONS.checkDatabase)
                  ? undefined
                  : () => act('check', () => api.checkDatabase(d().database.id), t('check.requested'))
              }
            />

            <section class="card" aria-labelledby="chart-title">
              <div class="card-head">
                <h2 id="chart-title">{t('detail.chartTitle')}</h2>
              </div>
              <Show
                when={d().history.length > 0}
                fallback={
                  <EmptyState icon="archive" title={t('detail.noHistoryTitle')}>
                    {t('detail.noHistoryText')}
                  </EmptyState>
                }
              >
                <Suspense fallback={<Loading />}>
                  <BackupChart backups={d().history} />
                </Suspense>
              </Show>
            </section>

            <section class="card" aria-labelledby="recent-title">
              <div class="card-head">
                <h2 id="recent-title">{t('detail.recentTitle')}</h2>
                <A href={`/backups?database=${d().database.id}`} class="btn btn-ghost btn-sm">
                  {t('start.allBackups')}
                  <Icon name="chevronRight" size={16} />
                </A>
              </div>
              <Show
                when={d().recent.length > 0}
                fallback={
                  <EmptyState icon="archive" title={t('start.noBackupsTitle')}>
                    {t('detail.noBackupsText')}
                  </EmptyState>
                }
              >
                <BackupTable
                  items={d().recent}
                  actions
                  caption={t('detail.recentTitle')}
                  onDeleted={() => void refetch()}
                  onRestore={actionBlocked(ACTIONS.restore) ? undefined : (b) => setRestoreOf(b)}
                />
              </Show>
            </section>

            <Show when={pitrFamily(d().database.engine)}>
              <PitrCard database={d().database} />
            </Show>

            <Show when={['postgres', 'mysql', 'mariadb'].includes(d().database.engine)}>
              <RestoreTestsSection database={d().database} databases={d().databases} />
            </Show>

            <RetentionCard databaseId={d().database.id} onSaved={() => void refetch()} />

            <section class="card" id="restores" aria-labelledby="restores-title">
              <div class="card-head">
                <h2 id="restores-title">{t('restore.historyTitle')}</h2>
              </div>
              <RestoreHistory items={d().restores} onChanged={() => void refetch()} />
            </section>

            <RestoreDialog
              open={restoreOf() !== undefined}
              database={d().database}
              backup={restoreOf() ?? undefined}
              agent={d().agent}
              databases={d().databases}
              onClose={() => setRestoreOf(undefined)}
              onStarted={() => {
                showToast(t('restore.started'));
                void refetch();
              }}
            />

            <section class="card" id="errors" tabindex="-1" aria-labelledby="errors-title">
              <div class="card-head">
                <h2 id="errors-title">{t('detail.errorLog')}</h2>
              </div>
              <Show
                when={d().failures.length > 0 || d().database.lastError}
                fallback={
                  <div class="all-good">
                    <span class="all-good-icon" aria-hidden="true">
                      <Icon name="check" />
                    </span>
                    <p class="muted">{t('detail.noErrors')}</p>
                  </div>
                }
              >
                <Show when={d().database.lastError && d().database.status === 'error'}>
                  <div class="alert alert-error" role="alert">
                    <Icon name="alert" />
                    <div class="alert-body">
                      <strong>{t('detail.lastError')}</strong>
                      <BackupErrorText
                        backup={
                          // the newest failure carries the code when it is the error the database shows
                          d().failures[0]?.error === d().database.lastError
                            ? (d().failures[0] ?? { error: d().database.lastError })
                            : { error: d().database.lastError }
                        }
                      />
                    </div>
                  </div>
                </Show>
                <ol class="error-log">
                  <For each={d().failures}>
                    {(b) => {
                      const described = () => describeBackupError(b);
                      const [first, ...rest] = (b.error ?? t('detail.noMessage')).split('\n');
                      return (
                        <li>
                          <details>
                            <summary>
                              <time datetime={b.startedAt}>{formatDateTime(b.startedAt)}</time>
                              <span class="error-first">{described()?.sentence ?? first}</span>
                            </summary>
                            <Show
                              when={described()}
                              fallback={
                                <Show when={rest.length > 0}>
                                  <pre class="error-text">{rest.join('\n')}</pre>
                                </Show>
                              }
                            >
                              <BackupErrorText backup={b} />
                            </Show>
                          </details>
                        </li>
                      );
                    }}
                  </For>
                </ol>
              </Show>
            </section>

            <ConfirmDialog
              open={confirmDelete()}
              title={t('detail.deleteTitle', { name: d().database.name })}
              confirmLabel={t('detail.deleteConfirm')}
              danger
              onClose={() => setConfirmDelete(false)}
              onConfirm={async () => {
                await api.deleteDatabase(d().database.id);
                showToast(t('detail.deleted', { name: d().database.name }));
                navigate('/databases', { replace: true });
              }}
            >
              <p>{t('detail.deleteText', { days: d().database.retentionDays })}</p>
            </ConfirmDialog>
          </>
        )}
      </Async>
    </div>
  );
}
