// Alerts: open and resolved, newest first, filtered by state, database and kind (the filters live
// in the URL, so a filtered view can be shared); each opens its own page; open ones can be
// acknowledged here.
import { ALERT_KINDS, type Alert, type AlertKind } from '@resistro/contract/alerts';
import { A, useSearchParams } from '@solidjs/router';
import { createMemo, createResource, createSignal, For, type JSX, Show } from 'solid-js';
import { api, errorMessage } from '../api.ts';
import { AlertStateBadges, SeverityBadge } from '../components/alert-badges.tsx';
import { DataTable } from '../components/data-table.tsx';
import { DatabaseFilter } from '../components/database-filter.tsx';
import { Field } from '../components/field.tsx';
import { Icon } from '../components/icons.tsx';
import { PageHeader } from '../components/page-header.tsx';
import { Async, EmptyState } from '../components/states.tsx';
import { t } from '../i18n/index.ts';
import { ACTIONS, actionAttr } from '../lib/actions.ts';
import { alertHref, kindLabel } from '../lib/alerts.ts';
import { formatDateTime, formatRelative } from '../lib/format.ts';
import { createNow, createPoll } from '../lib/poll.ts';
import { actionBlocked } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';

const PAGE_SIZE = 50;
const STATUSES = ['open', 'resolved', 'all'] as const;
type Status = (typeof STATUSES)[number];
type Filters = { status?: string; database?: string; kind?: string };

export default function AlertsPage(): JSX.Element {
  const [params, setParams] = useSearchParams<Filters>();
  const now = createNow(15_000);
  const [databases] = createResource(async () => (await api.listDatabases()).items);
  const query = createMemo(() => ({
    status: (STATUSES as readonly string[]).includes(params.status ?? '')
      ? (params.status as Status)
      : 'open',
    subjectId: params.database || undefined,
    kind: (ALERT_KINDS as readonly string[]).includes(params.kind ?? '')
      ? (params.kind as AlertKind)
      : undefined,
  }));
  // Pages after the first are appended; a filter change starts again from the newest.
  const [more, setMore] = createSignal<{ items: Alert[]; cursor: string | null }>();
  const [list, { refetch, mutate }] = createResource(query, async (q) => {
    setMore(undefined);
    return api.listAlerts({ ...q, limit: PAGE_SIZE });
  });
  createPoll(
    () => void refetch(),
    30_000,
    () => more() === undefined,
  );
  const [loadingMore, setLoadingMore] = createSignal(false);
  const nextCursor = () => more()?.cursor ?? (more() ? null : (list.latest?.nextCursor ?? null));
  const loadMore = async () => {
    const cursor = nextCursor();
    if (!cursor) return;
    setLoadingMore(true);
    try {
      const page = await api.listAlerts({ ...query(), cursor, limit: PAGE_SIZE });
      setMore({ items: [...(more()?.items ?? []), ...page.items], cursor: page.nextCursor });
    } catch (e) {
      showToast(errorMessage(e), 'error');
    } finally {
      setLoadingMore(false);
    }
  };
  const rows = () => [...(list.latest?.items ?? []), ...(more()?.items ?? [])];

  const acknowledge = async (a: Alert) => {
    try {
      const { alert } = await api.acknowledgeAlert(a.id);
      const swap = (items: Alert[]) => items.map((x) => (x.id === alert.id ? alert : x));
      const current = list.latest;
      if (current) mutate({ ...current, items: swap(current.items) });
      const extra = more();
      if (extra) setMore({ ...extra, items: swap(extra.items) });
      showToast(t('alerts.acknowledgedToast'));
    } catch (e) {
      showToast(errorMessage(e), 'error');
    }
  };
  const filtered = () =>
    Boolean(params.database || params.kind || (params.status && params.status !== 'open'));

  return (
    <div class="page">
      <PageHeader title={t('alertPage.title')} description={t('alertPage.subtitle')} />
      <form class="filters card" aria-label={t('alertPage.filters')} onSubmit={(e) => e.preventDefault()}>
        <Field id="filter-status" label={t('alertPage.filterStatus')}>
          <select
            id="filter-status"
            value={query().status}
            onChange={(e) =>
              setParams({ status: e.currentTarget.value === 'open' ? undefined : e.currentTarget.value })
            }
          >
            <For each={STATUSES}>
              {(s) => (
                <option value={s} selected={s === query().status}>
                  {t(`alertPage.status.${s}`)}
                </option>
              )}
            </For>
          </select>
        </Field>
        <DatabaseFilter
          databases={databases.latest}
          value={params.database}
          onChange={(database) => setParams({ database })}
        />
        <Field id="filter-kind" label={t('alertPage.filterKind')}>
          <select
            id="filter-kind"
            value={params.kind ?? ''}
            onChange={(e) => setParams({ kind: e.currentTarget.value || undefined })}
          >
            <option value="">{t('alertPage.allKinds')}</option>
            <For each={ALERT_KINDS}>
              {(k) => (
                <option value={k} selected={k === params.kind}>
                  {kindLabel(k)}
                </option>
              )}
            </For>
          </select>
        </Field>
      </form>

      <Async of={list} retry={refetch}>
        {() => (
          <>
            <DataTable
              card
              caption={t('alertPage.title')}
              rows={rows()}
              rowAttrs={(a) => ({ 'data-alert-id': a.id })}
              empty={
                <EmptyState
                  icon="bell"
                  title={filtered() ? t('alertPage.emptyFiltered') : t('alertPage.emptyTitle')}
                >
                  {filtered() ? t('alertPage.emptyFilteredText') : t('alertPage.emptyText')}
                </EmptyState>
              }
              columns={[
                {
                  label: t('alertPage.col.alert'),
                  wide: true,
                  cell: (a) => (
                    <>
                      <A href={alertHref(a)} class="strong-link">
                        {a.title}
                      </A>
                      <div class="cell-sub">{kindLabel(a.kind)}</div>
                    </>
                  ),
                },
                { label: t('alertPage.col.severity'), cell: (a) => <SeverityBadge severity={a.severity} /> },
                { label: t('alertPage.col.state'), cell: (a) => <AlertStateBadges alert={a} /> },
                {
                  label: t('alertPage.col.opened'),
                  cell: (a) => (
                    <time datetime={a.openedAt} title={formatDateTime(a.openedAt)}>
                      {formatRelative(a.openedAt, now(), 'past')}
                    </time>
                  ),
                },
              ]}
              actions={(a) => (
                <Show when={!a.acknowledgedAt}>
                  <button
                    type="button"
                    class="btn btn-ghost btn-sm"
                    aria-label={t('alerts.acknowledgeLabel', { title: a.title })}
                    disabled={actionBlocked(ACTIONS.acknowledgeAlert) !== undefined}
                    title={actionBlocked(ACTIONS.acknowledgeAlert)}
                    data-action={actionAttr(ACTIONS.acknowledgeAlert)}
                    onClick={() => acknowledge(a)}
                  >
                    <Icon name="check" size={16} />
                    {t('alerts.acknowledge')}
                  </button>
                </Show>
              )}
            />
            <Show when={nextCursor()}>
              <div class="pager">
                <button type="button" class="btn btn-secondary" onClick={loadMore} disabled={loadingMore()}>
                  {loadingMore() ? t('state.loading') : t('alertPage.more')}
                </button>
              </div>
            </Show>
          </>
        )}
      </Async>
    </div>
  );
}
