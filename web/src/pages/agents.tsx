// Agents: host, version, dump tools, last heartbeat, online or offline.
import type { Agent } from '@resistro/contract/schemas';
import { A } from '@solidjs/router';
import { createResource, createSignal, For, type JSX, Show } from 'solid-js';
import { api } from '../api.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { Icon } from '../components/icons.tsx';
import { PageHeader } from '../components/page-header.tsx';
import { Async, EmptyState } from '../components/states.tsx';
import { OnlineBadge } from '../components/status-badge.tsx';
import { t } from '../i18n/index.ts';
import { formatDateTime, formatRelative } from '../lib/format.ts';
import { createNow, createPoll } from '../lib/poll.ts';
import { showToast } from '../lib/toast.ts';

export default function AgentsPage(): JSX.Element {
  const [agents, { refetch }] = createResource(async () => (await api.listAgents()).items);
  const [toRemove, setToRemove] = createSignal<Agent>();
  const now = createNow(5_000);
  createPoll(() => void refetch(), 10_000);

  return (
    <div class="page">
      <PageHeader
        title={t('agents.title')}
        description={t('agents.subtitle')}
        actions={
          <A href="/onboarding" class="btn btn-secondary">
            <Icon name="plus" size={16} />
            {t('agents.add')}
          </A>
        }
      />
      <Async of={agents} retry={refetch}>
        {(list) => (
          <Show
            when={list().length > 0}
            fallback={
              <div class="card">
                <EmptyState
                  icon="server"
                  title={t('agents.emptyTitle')}
                  action={
                    <A href="/onboarding" class="btn btn-primary">
                      {t('start.connectAgent')}
                    </A>
                  }
                >
                  {t('agents.emptyText')}
                </EmptyState>
              </div>
            }
          >
            <div class="card card-flush">
              <div class="table-wrap">
                <table class="table responsive-table">
                  <caption class="sr-only">{t('agents.title')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('agents.col.host')}</th>
                      <th scope="col">{t('agents.col.status')}</th>
                      <th scope="col">{t('agents.col.version')}</th>
                      <th scope="col">{t('agents.col.tools')}</th>
                      <th scope="col">{t('agents.col.heartbeat')}</th>
                      <th scope="col" class="actions-col">
                        <span class="sr-only">{t('backups.col.actions')}</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={list()}>
                      {(a) => (
                        <tr data-agent-id={a.id}>
                          <td data-label={t('agents.col.host')} class="host-cell cell-wide">
                            <strong>{a.hostname}</strong>
                            <div class="cell-sub">{a.os}</div>
                          </td>
                          <td data-label={t('agents.col.status')}>
                            <OnlineBadge online={a.online} />
                          </td>
                          <td data-label={t('agents.col.version')}>
                            <span class="mono">{a.version}</span>
                          </td>
                          <td data-label={t('agents.col.tools')} class="cell-wide">
                            <Show
                              when={a.tools.length > 0}
                              fallback={<span class="muted">{t('agents.noTools')}</span>}
                            >
                              <ul class="chips">
                                <For each={a.tools}>
                                  {(tool) => (
                                    <li class="chip" title={tool.path}>
                                      {tool.name} <span class="muted">{tool.version}</span>
                                    </li>
                                  )}
                                </For>
                              </ul>
                            </Show>
                          </td>
                          <td data-label={t('agents.col.heartbeat')}>
                            <time datetime={a.lastSeenAt} title={formatDateTime(a.lastSeenAt)}>
                              {formatRelative(a.lastSeenAt, now())}
                            </time>
                          </td>
                          <td class="actions-cell">
                            <button
                              type="button"
                              class="icon-btn icon-btn-danger"
                              aria-label={t('agents.removeLabel', { host: a.hostname })}
                              title={t('agents.remove')}
                              onClick={() => setToRemove(a)}
                            >
                              <Icon name="trash" size={16} />
                            </button>
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
      <ConfirmDialog
        open={Boolean(toRemove())}
        title={t('agents.removeTitle', { host: toRemove()?.hostname ?? '' })}
        confirmLabel={t('agents.remove')}
        danger
        onClose={() => setToRemove(undefined)}
        onConfirm={async () => {
          const a = toRemove();
          if (!a) return;
          await api.deleteAgent(a.id);
          showToast(t('agents.removed', { host: a.hostname }));
          void refetch();
        }}
      >
        <p>{t('agents.removeText')}</p>
      </ConfirmDialog>
    </div>
  );
}
