// Backups (user guide "Backups"): all backups across databases, newest first, filtered by
// database, status and date range. Keyset pages from the API keep page 400 as fast as page 1;
// only one page is ever in the DOM.
import { BACKUP_STATUSES, type Backup, type Database } from '@resistro/contract/schemas';
import { useNavigate, useSearchParams } from '@solidjs/router';
import { createMemo, createResource, createSignal, For, type JSX, Show } from 'solid-js';
import { api } from '../api.ts';
import { BackupTable } from '../components/backup-table.tsx';
import { DatabaseFilter } from '../components/database-filter.tsx';
import { control, Field } from '../components/field.tsx';
import { Icon } from '../components/icons.tsx';
import { PageHeader } from '../components/page-header.tsx';
import { Async, EmptyState } from '../components/states.tsx';
import { type MessageKey, t } from '../i18n/index.ts';
import { ACTIONS } from '../lib/actions.ts';
import { dayBoundary, formatNumber } from '../lib/format.ts';
import { createPoll } from '../lib/poll.ts';
import { actionBlocked } from '../lib/session.ts';

const PAGE_SIZE = 25;
type Filters = { database?: string; status?: string; from?: string; to?: string };

export default function BackupsPage(): JSX.Element {
  const [params, setParams] = useSearchParams<Filters>();
  const navigate = useNavigate();
  // The cursors that led to the current page (its own is the last), for the filters they were
  // made with: another filter starts again at the newest backup, in the same update.
  const filterKey = createMemo(() => [params.database, params.status, params.from, params.to].join('|'));
  const [stack, setStack] = createSignal<{ key: string; cursors: string[] }>({ key: '', cursors: [] });
  const cursors = () => (stack().key === filterKey() ? stack().cursors : []);
  const setCursors = (next: (current: string[]) => string[]) =>
    setStack({ key: filterKey(), cursors: next(cursors()) });
  const [databases] = createResource(async () => (await api.listDatabases()).items);

  const rangeInvalid = () => Boolean(params.from && params.to && params.from > params.to);
  const query = createMemo(() => ({
    databaseId: params.database || undefined,
    status: (BACKUP_STATUSES as readonly string[]).includes(params.status ?? '')
      ? (params.status as Backup['status'])
      : undefined,
    from: params.from ? dayBoundary(params.from, false) : undefined,
    to: params.to ? dayBoundary(params.to, true) : undefined,
    cursor: cursors()[cursors().length - 1],
    limit: PAGE_SIZE,
    pageIndex: cursors().length,
  }));

  // The page remembers where it starts, so the range label always matches the rows shown.
  const [page, { refetch, mutate }] = createResource(
    () => (rangeInvalid() ? false : query()),
    async ({ pageIndex, ...q }) => ({ ...(await api.listBackups(q)), first: pageIndex * PAGE_SIZE + 1 }),
  );
  createPoll(
    () => void refetch(),
    10_000,
    () => cursors().length === 0 && !rangeInvalid(),
  );

  const names = createMemo(() => new Map((databases.latest ?? []).map((d: Database) => [d.id, d.name])));
  const filtered = () => Boolean(params.database || params.status || params.from || params.to);

  return (
    <div class="page">
      <PageHeader title={t('backups.title')} description={t('backups.subtitle')} />
      <form class="filters card" aria-label={t('backups.filters')} onSubmit={(e) => e.preventDefault()}>
        <DatabaseFilter
          databases={databases.latest}
          value={params.database}
          onChange={(database) => setParams({ database })}
        />
        <Field id="filter-status" label={t('backups.col.status')}>
          <select
            id="filter-status"
            value={params.status ?? ''}
            onChange={(e) => setParams({ status: e.currentTarget.value || undefined })}
          >
            <option value="">{t('backups.allStatuses')}</option>
            <For each={BACKUP_STATUSES}>
              {(s) => (
                <option value={s} selected={s === params.status}>
                  {t(`backupStatus.${s}` as MessageKey)}
                </option>
              )}
            </For>
          </select>
        </Field>
        <Field id="filter-from" label={t('backups.from')}>
          <input
            {...control('filter-from', rangeInvalid() ? t('backups.rangeInvalid') : undefined)}
            type="date"
            value={params.from ?? ''}
            max={params.to || undefined}
            onChange={(e) => setParams({ from: e.currentTarget.value || undefined })}
          />
        </Field>
        <Field
          id="filter-to"
          label={t('backups.to')}
          error={rangeInvalid() ? t('backups.rangeInvalid') : undefined}
        >
          <input
            {...control('filter-to', rangeInvalid() ? t('backups.rangeInvalid') : undefined)}
            type="date"
            value={params.to ?? ''}
            min={params.from || undefined}
            onChange={(e) => setParams({ to: e.currentTarget.value || undefined })}
          />
        </Field>
        <Show when={filtered()}>
          <button
            type="button"
            class="btn btn-ghost filters-reset"
            onClick={() =>
              setParams({ database: undefined, status: undefined, from: undefined, to: undefined })
            }
          >
            <Icon name="x" size={16} />
            {t('backups.resetFilters')}
          </button>
        </Show>
      </form>

      <Show when={!rangeInvalid()}>
        <Async of={page} retry={refetch}>
          {(p) => (
            <Show
              when={p().items.length > 0}
              fallback={
                <div class="card">
                  <EmptyState
                    icon="archive"
                    title={filtered() ? t('backups.noMatchTitle') : t('start.noBackupsTitle')}
                  >
                    {filtered() ? t('backups.noMatchText') : t('backups.emptyText')}
                  </EmptyState>
                </div>
              }
            >
              <div class="card card-flush" classList={{ refreshing: page.loading }} aria-busy={page.loading}>
                <BackupTable
                  items={p().items}
                  names={names()}
                  showDatabase
                  actions
                  caption={t('backups.title')}
                  onRestore={
                    actionBlocked(ACTIONS.restore)
                      ? undefined
                      : (b) => {
                          // the database page holds the dialog; a deleted database has no restore
                          if (names().has(b.databaseId))
                            navigate(`/databases/${b.databaseId}?restore=${b.id}`);
                        }
                  }
                  onDeleted={(id) => {
                    mutate({ ...p(), items: p().items.filter((b) => b.id !== id) });
                    void refetch();
                  }}
                />
                <nav class="pager" aria-label={t('backups.pagination')}>
                  <span class="muted" aria-live="polite">
                    {t('backups.range', {
                      first: formatNumber(p().first),
                      last: formatNumber(p().first + p().items.length - 1),
                    })}
                  </span>
                  <div class="pager-buttons">
                    <button
                      type="button"
                      class="btn btn-secondary btn-sm"
                      disabled={cursors().length === 0}
                      onClick={() => setCursors((c) => c.slice(0, -1))}
                    >
                      <Icon name="chevronLeft" size={16} />
                      {t('backups.newer')}
                    </button>
                    <button
                      type="button"
                      class="btn btn-secondary btn-sm"
                      disabled={!p().nextCursor}
                      onClick={() => {
                        const next = p().nextCursor;
                        if (next) setCursors((c) => [...c, next]);
                      }}
                    >
                      {t('backups.older')}
                      <Icon name="chevronRight" size={16} />
                    </button>
                  </div>
                </nav>
              </div>
            </Show>
          )}
        </Async>
      </Show>
    </div>
  );
}
