// One alert, where its e-mail links to: what happened, what to do about it, its history (the
// earlier alerts of the same kind about the same subject) and the delivery log of its notifications.
import type { Alert, Delivery } from '@resistro/contract/alerts';
import { A, useParams } from '@solidjs/router';
import { createResource, createSignal, For, type JSX, Show } from 'solid-js';
import { api, errorMessage } from '../api.ts';
import { AlertStateBadges, SeverityBadge } from '../components/alert-badges.tsx';
import { DataTable } from '../components/data-table.tsx';
import { Icon } from '../components/icons.tsx';
import { PageHeader } from '../components/page-header.tsx';
import { Async, EmptyState } from '../components/states.tsx';
import { Badge } from '../components/status-badge.tsx';
import { type MessageKey, t } from '../i18n/index.ts';
import { ACTIONS, actionAttr } from '../lib/actions.ts';
import { alertHref, kindAdvice, kindLabel, subjectHref } from '../lib/alerts.ts';
import { formatDateTime, formatDuration } from '../lib/format.ts';
import { createPoll } from '../lib/poll.ts';
import { actionBlocked } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';

type Detail = { alert: Alert; history: Alert[]; deliveries: Delivery[] };

async function loadAlert(id: string): Promise<Detail> {
  const { alert } = await api.getAlert(id);
  const [history, deliveries] = await Promise.all([
    api.listAlerts({ status: 'all', subjectId: alert.subject.id, kind: alert.kind, limit: 20 }),
    api.listNotifications({ alertId: id, limit: 50 }),
  ]);
  return { alert, history: history.items, deliveries: deliveries.items };
}

function Fact(props: { label: string; children: JSX.Element }): JSX.Element {
  return (
    <div class="fact">
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </div>
  );
}

function DeliveryBadge(props: { delivery: Delivery }): JSX.Element {
  const view = () =>
    ({
      delivered: { tone: 'ok', symbol: '✓' },
      pending: { tone: 'info', symbol: '●' },
      failed: { tone: 'error', symbol: '✗' },
    })[props.delivery.status] as { tone: 'ok' | 'info' | 'error'; symbol: string };
  return (
    <Badge tone={view().tone} symbol={view().symbol}>
      {t(`alertPage.delivery.${props.delivery.status}` as MessageKey)}
    </Badge>
  );
}

export default function AlertDetailPage(): JSX.Element {
  const params = useParams<{ id: string }>();
  const [detail, { refetch, mutate }] = createResource(() => params.id, loadAlert);
  const [busy, setBusy] = createSignal(false);
  // Pending notifications are retried by the cron: follow them while the page is open.
  createPoll(
    () => void refetch(),
    15_000,
    () =>
      Boolean(
        detail.latest?.deliveries.some((d) => d.status === 'pending') || !detail.latest?.alert.resolvedAt,
      ),
  );

  const acknowledge = async () => {
    const current = detail.latest;
    if (!current) return;
    setBusy(true);
    try {
      const { alert } = await api.acknowledgeAlert(current.alert.id);
      mutate({ ...current, alert, history: current.history.map((h) => (h.id === alert.id ? alert : h)) });
      showToast(t('alerts.acknowledgedToast'));
    } catch (e) {
      showToast(errorMessage(e), 'error');
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="page">
      <Async of={detail} retry={refetch}>
        {(d) => (
          <>
            <PageHeader
              back={
                <A href="/alerts" class="back-link">
                  <Icon name="chevronLeft" size={16} />
                  {t('alertPage.title')}
                </A>
              }
              title={d().alert.title}
              description={
                <span class="header-meta">
                  <SeverityBadge severity={d().alert.severity} />
                  <AlertStateBadges alert={d().alert} />
                  <span>{kindLabel(d().alert.kind)}</span>
                </span>
              }
              actions={
                <Show when={!d().alert.acknowledgedAt}>
                  <button
                    type="button"
                    class="btn btn-primary"
                    disabled={busy() || actionBlocked(ACTIONS.acknowledgeAlert) !== undefined}
                    title={actionBlocked(ACTIONS.acknowledgeAlert)}
                    data-action={actionAttr(ACTIONS.acknowledgeAlert)}
                    onClick={acknowledge}
                  >
                    <Icon name="check" size={16} />
                    {busy() ? t('state.working') : t('alerts.acknowledge')}
                  </button>
                </Show>
              }
            />

            <dl class="facts card">
              <Fact label={t(`alertPage.subject.${d().alert.subject.type}` as MessageKey)}>
                <A href={subjectHref(d().alert)} data-testid="alert-subject">
                  {d().alert.subject.name}
                </A>
              </Fact>
              <Fact label={t('alertPage.openedAt')}>
                <time datetime={d().alert.openedAt}>{formatDateTime(d().alert.openedAt)}</time>
              </Fact>
              <Fact label={t('alertPage.resolvedAt')}>
                <Show
                  when={d().alert.resolvedAt}
                  fallback={<span class="muted">{t('alertPage.stillOpen')}</span>}
                >
                  {(at) => <time datetime={at()}>{formatDateTime(at())}</time>}
                </Show>
              </Fact>
              <Fact label={t('alertPage.acknowledgedAt')}>
                <Show
                  when={d().alert.acknowledgedAt}
                  fallback={<span class="muted">{t('alertPage.notYet')}</span>}
                >
                  {(at) => (
                    <time datetime={at()} data-testid="acknowledged-at">
                      {formatDateTime(at())}
                    </time>
                  )}
                </Show>
              </Fact>
            </dl>

            <section class="card" aria-labelledby="what-title">
              <div class="card-head">
                <h2 id="what-title">{t('alertPage.whatHappened')}</h2>
              </div>
              <p class="alert-text" data-testid="alert-detail">
                {d().alert.detail}
              </p>
            </section>

            <section class="card" aria-labelledby="todo-title">
              <div class="card-head">
                <h2 id="todo-title">{t('alertPage.whatToDo')}</h2>
              </div>
              <p data-testid="alert-advice">{kindAdvice(d().alert.kind)}</p>
              <p>
                <A href={subjectHref(d().alert)} class="btn btn-secondary btn-sm">
                  {t(`alertPage.goTo.${d().alert.subject.type}` as MessageKey)}
                  <Icon name="chevronRight" size={16} />
                </A>
              </p>
            </section>

            <section class="card" aria-labelledby="history-title">
              <div class="card-head">
                <h2 id="history-title">{t('alertPage.history')}</h2>
                <p class="muted">{t('alertPage.historyHint')}</p>
              </div>
              <ol class="error-log" data-testid="alert-history">
                <For each={d().history}>
                  {(h) => (
                    <li aria-current={h.id === d().alert.id ? 'true' : undefined}>
                      <Show
                        when={h.id !== d().alert.id}
                        fallback={<strong>{t('alertPage.thisAlert')}</strong>}
                      >
                        <A href={alertHref(h)}>{formatDateTime(h.openedAt)}</A>
                      </Show>{' '}
                      <span class="muted">
                        {h.resolvedAt
                          ? t('alertPage.lasted', {
                              duration: formatDuration(Date.parse(h.resolvedAt) - Date.parse(h.openedAt)),
                            })
                          : t('alertPage.openSince')}
                      </span>
                    </li>
                  )}
                </For>
              </ol>
            </section>

            <section class="card" aria-labelledby="deliveries-title">
              <div class="card-head">
                <h2 id="deliveries-title">{t('alertPage.deliveries')}</h2>
                <A href="/settings#webhooks" class="btn btn-ghost btn-sm">
                  {t('alertPage.channels')}
                  <Icon name="chevronRight" size={16} />
                </A>
              </div>
              <DataTable
                caption={t('alertPage.deliveries')}
                rows={d().deliveries}
                rowAttrs={(x) => ({ 'data-delivery-id': x.id })}
                empty={
                  <EmptyState icon="bell" title={t('alertPage.noDeliveries')}>
                    {t('alertPage.noDeliveriesText')}
                  </EmptyState>
                }
                columns={[
                  {
                    label: t('alertPage.col.channel'),
                    wide: true,
                    cell: (x) => (
                      <>
                        <strong>{x.target}</strong>
                        <div class="cell-sub">{t(`alertPage.channel.${x.channelType}` as MessageKey)}</div>
                      </>
                    ),
                  },
                  {
                    label: t('alertPage.col.event'),
                    cell: (x) => t(`alertPage.event.${x.event}` as MessageKey),
                  },
                  {
                    label: t('alertPage.col.status'),
                    cell: (x) => (
                      <>
                        <DeliveryBadge delivery={x} />
                        <Show when={x.lastError}>
                          <div class="cell-sub">{x.lastError}</div>
                        </Show>
                      </>
                    ),
                  },
                  { label: t('alertPage.col.attempts'), cell: (x) => String(x.attempts) },
                  {
                    label: t('alertPage.col.when'),
                    cell: (x) => formatDateTime(x.deliveredAt ?? x.nextAttemptAt ?? x.createdAt),
                  },
                ]}
              />
            </section>
          </>
        )}
      </Async>
    </div>
  );
}
