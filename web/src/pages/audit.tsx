// The audit log (docs/audit-log.md): who did what, newest first, filtered by actor, action,
// object and time, one cursor page after the other; CSV and JSON export of what the filters match.
// Admins and owners only: for other roles the page says why.
import type { AuditEntry } from '@resistro/contract/teams';
import { AUDIT_ACTOR_KINDS } from '@resistro/contract/teams';
import { useSearchParams } from '@solidjs/router';
import { createMemo, createResource, createSignal, For, type JSX, Show } from 'solid-js';
import { api } from '../api.ts';
import { DataTable } from '../components/data-table.tsx';
import { control, Field } from '../components/field.tsx';
import { Icon } from '../components/icons.tsx';
import { PageHeader } from '../components/page-header.tsx';
import { Async, EmptyState } from '../components/states.tsx';
import { type MessageKey, t } from '../i18n/index.ts';
import { ACTIONS } from '../lib/actions.ts';
import { dayBoundary, formatDateTime } from '../lib/format.ts';
import { routeRoleBlocked } from '../lib/session.ts';

type Filters = { actorKind?: string; action?: string; objectId?: string; from?: string; to?: string };
const PAGE_SIZE = 50;
/** Action filters offered in the list; any other is typed into the URL (?action=…). */
const ACTION_GROUPS = [
  'auth.',
  'member.',
  'api_key.',
  'agent.',
  'database.',
  'backup.',
  'restore.',
  'account.',
  'billing.',
  'channel.',
  'audit.',
];

export default function AuditPage(): JSX.Element {
  return (
    <div class="page">
      <PageHeader title={t('audit.title')} description={t('audit.subtitle')} />
      <Show
        when={!routeRoleBlocked(ACTIONS.readAudit)}
        fallback={
          <div class="card">
            <p class="muted" data-testid="audit-blocked">
              {routeRoleBlocked(ACTIONS.readAudit)}
            </p>
          </div>
        }
      >
        <AuditLog />
      </Show>
    </div>
  );
}

function AuditLog(): JSX.Element {
  const [params, setParams] = useSearchParams<Filters>();
  const filters = createMemo(() => ({
    actorKind: (AUDIT_ACTOR_KINDS as readonly string[]).includes(params.actorKind ?? '')
      ? (params.actorKind as AuditEntry['actor']['kind'])
      : undefined,
    action: params.action || undefined,
    objectId: params.objectId?.trim() || undefined,
    from: params.from ? dayBoundary(params.from, false) : undefined,
    to: params.to ? dayBoundary(params.to, true) : undefined,
  }));
  // Pages already shown, for the filters they were read with; "more" appends the next.
  const [more, setMore] = createSignal<{ key: string; items: AuditEntry[]; cursor: string | null }>();
  const key = () => JSON.stringify(filters());
  const [first, { refetch }] = createResource(filters, (f) => api.listAudit({ ...f, limit: PAGE_SIZE }));
  const rows = () => {
    const m = more();
    return m && m.key === key() ? m.items : (first.latest?.items ?? []);
  };
  const cursor = () => {
    const m = more();
    return m && m.key === key() ? m.cursor : (first.latest?.nextCursor ?? null);
  };
  const [loadingMore, setLoadingMore] = createSignal(false);
  const loadMore = async () => {
    const c = cursor();
    if (!c) return;
    setLoadingMore(true);
    try {
      const page = await api.listAudit({ ...filters(), cursor: c, limit: PAGE_SIZE });
      setMore({ key: key(), items: [...rows(), ...page.items], cursor: page.nextCursor });
    } finally {
      setLoadingMore(false);
    }
  };
  const exportHref = (format: 'csv' | 'json') => {
    const q = new URLSearchParams({ format });
    for (const [k, v] of Object.entries(filters())) if (v) q.set(k, v);
    return `/api/v1/audit/export?${q}`;
  };
  const filtered = () => Object.values(filters()).some(Boolean);

  return (
    <>
      <form class="filters card" aria-label={t('audit.filters')} onSubmit={(e) => e.preventDefault()}>
        <Field id="audit-actor" label={t('audit.actor')}>
          <select
            id="audit-actor"
            onChange={(e) => setParams({ actorKind: e.currentTarget.value || undefined })}
          >
            <option value="">{t('audit.allActors')}</option>
            <For each={AUDIT_ACTOR_KINDS}>
              {(k) => (
                <option value={k} selected={k === params.actorKind}>
                  {t(`audit.actorKind.${k}` as MessageKey)}
                </option>
              )}
            </For>
          </select>
        </Field>
        <Field id="audit-action" label={t('audit.action')}>
          <select
            id="audit-action"
            onChange={(e) => setParams({ action: e.currentTarget.value || undefined })}
          >
            <option value="">{t('audit.allActions')}</option>
            <For each={ACTION_GROUPS}>
              {(a) => (
                <option value={a} selected={a === params.action}>
                  {a.slice(0, -1)}
                </option>
              )}
            </For>
          </select>
        </Field>
        <Field id="audit-object" label={t('audit.object')}>
          <input
            {...control('audit-object', undefined)}
            value={params.objectId ?? ''}
            placeholder={t('audit.objectPlaceholder')}
            onChange={(e) => setParams({ objectId: e.currentTarget.value.trim() || undefined })}
          />
        </Field>
        <Field id="audit-from" label={t('backups.from')}>
          <input
            {...control('audit-from', undefined)}
            type="date"
            value={params.from ?? ''}
            onChange={(e) => setParams({ from: e.currentTarget.value || undefined })}
          />
        </Field>
        <Field id="audit-to" label={t('backups.to')}>
          <input
            {...control('audit-to', undefined)}
            type="date"
            value={params.to ?? ''}
            onChange={(e) => setParams({ to: e.currentTarget.value || undefined })}
          />
        </Field>
        <Show when={filtered()}>
          <button
            type="button"
            class="btn btn-ghost filters-reset"
            onClick={() =>
              setParams({
                actorKind: undefined,
                action: undefined,
                objectId: undefined,
                from: undefined,
                to: undefined,
              })
            }
          >
            <Icon name="x" size={16} />
            {t('backups.resetFilters')}
          </button>
        </Show>
        <div class="filters-export">
          <a class="btn btn-secondary" href={exportHref('csv')} download="" data-testid="audit-export-csv">
            <Icon name="download" size={16} />
            {t('audit.exportCsv')}
          </a>
          <a class="btn btn-secondary" href={exportHref('json')} download="">
            {t('audit.exportJson')}
          </a>
        </div>
      </form>

      <Async of={first} retry={refetch}>
        {() => (
          <div class="card card-flush">
            <DataTable
              caption={t('audit.title')}
              rows={rows()}
              rowAttrs={(e) => ({ 'data-action': e.action })}
              empty={
                <EmptyState icon="archive" title={t('audit.empty')}>
                  {filtered() ? t('audit.emptyFiltered') : ''}
                </EmptyState>
              }
              columns={[
                {
                  label: t('audit.time'),
                  cell: (e) => (
                    <time datetime={e.at} class="nowrap">
                      {formatDateTime(e.at)}
                    </time>
                  ),
                },
                { label: t('audit.action'), cell: (e) => <code>{e.action}</code> },
                {
                  label: t('audit.actor'),
                  wide: true,
                  cell: (e) => (
                    <>
                      <strong>{e.actor.label ?? e.actor.id}</strong>
                      <div class="cell-sub">{t(`audit.actorKind.${e.actor.kind}` as MessageKey)}</div>
                    </>
                  ),
                },
                {
                  label: t('audit.object'),
                  cell: (e) =>
                    e.object ? (
                      <button
                        type="button"
                        class="link-btn mono"
                        onClick={() => setParams({ objectId: e.object?.id })}
                      >
                        {e.object.kind} {e.object.id.slice(0, 8)}
                      </button>
                    ) : (
                      <span class="muted">–</span>
                    ),
                },
                { label: t('audit.ip'), cell: (e) => <span class="mono">{e.ip ?? '–'}</span> },
                {
                  label: t('audit.details'),
                  cell: (e) => (
                    <span class="cell-sub mono">
                      {Object.keys(e.details).length ? JSON.stringify(e.details) : ''}
                    </span>
                  ),
                },
              ]}
            />
            <Show when={cursor()}>
              <div class="pager">
                <button type="button" class="btn btn-secondary" disabled={loadingMore()} onClick={loadMore}>
                  {loadingMore() ? t('state.loading') : t('audit.more')}
                </button>
              </div>
            </Show>
          </div>
        )}
      </Async>
    </>
  );
}
