// Agents: host, version, dump tools, last heartbeat, online, offline or refused (key revoked).
import type { Agent } from '@resistro/contract/schemas';
import { createResource, createSignal, For, type JSX, Show } from 'solid-js';
import { api } from '../api.ts';
import { ConfirmFor } from '../components/confirm-dialog.tsx';
import { DataTable } from '../components/data-table.tsx';
import { Icon } from '../components/icons.tsx';
import { PageHeader } from '../components/page-header.tsx';
import { Async, EmptyState } from '../components/states.tsx';
import { AgentStatusBadge } from '../components/status-badge.tsx';
import { WriteLink } from '../components/write-guard.tsx';
import { t } from '../i18n/index.ts';
import { ACTIONS, actionAttr } from '../lib/actions.ts';
import { formatDateTime, formatRelative } from '../lib/format.ts';
import { createNow, createPoll } from '../lib/poll.ts';
import { actionBlocked } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';

export default function AgentsPage(): JSX.Element {
  const [agents, { refetch }] = createResource(() => api.allAgents());
  const [toRemove, setToRemove] = createSignal<Agent>();
  const now = createNow(5_000);
  createPoll(() => void refetch(), 10_000);

  return (
    <div class="page">
      <PageHeader
        title={t('agents.title')}
        description={t('agents.subtitle')}
        actions={
          <WriteLink href="/onboarding" class="btn btn-secondary" action={ACTIONS.createApiKey}>
            <Icon name="plus" size={16} />
            {t('agents.add')}
          </WriteLink>
        }
      />
      <Async of={agents} retry={refetch}>
        {(list) => (
          <DataTable
            card
            caption={t('agents.title')}
            rows={list()}
            rowAttrs={(a) => ({ 'data-agent-id': a.id })}
            empty={
              <EmptyState
                icon="server"
                title={t('agents.emptyTitle')}
                action={
                  <WriteLink href="/onboarding" class="btn btn-primary" action={ACTIONS.createApiKey}>
                    {t('start.connectAgent')}
                  </WriteLink>
                }
              >
                {t('agents.emptyText')}
              </EmptyState>
            }
            columns={[
              {
                label: t('agents.col.host'),
                wide: true,
                class: 'host-cell',
                cell: (a) => (
                  <>
                    <strong>{a.hostname}</strong>
                    <div class="cell-sub">{a.os}</div>
                  </>
                ),
              },
              {
                label: t('agents.col.status'),
                cell: (a) => (
                  <>
                    <AgentStatusBadge agent={a} />
                    <Show when={a.keyRevokedAt}>
                      <div class="cell-sub">{t('agents.keyRevokedHint')}</div>
                    </Show>
                  </>
                ),
              },
              {
                label: t('agents.col.version'),
                cell: (a) => (
                  <>
                    <span class="mono">{a.version}</span>
                    <Show when={a.outdated}>
                      <div class="cell-sub">
                        <span class="badge badge-warn">
                          {t('agents.outdated', { latest: a.latestVersion })}
                        </span>
                        <div class="mono">{t('agents.outdatedHint')}</div>
                      </div>
                    </Show>
                  </>
                ),
              },
              {
                label: t('agents.col.tools'),
                wide: true,
                cell: (a) => (
                  <Show when={a.tools.length > 0} fallback={<span class="muted">{t('agents.noTools')}</span>}>
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
                ),
              },
              {
                label: t('agents.col.heartbeat'),
                cell: (a) => (
                  <time datetime={a.lastSeenAt} title={formatDateTime(a.lastSeenAt)}>
                    {formatRelative(a.lastSeenAt, now(), 'past')}
                  </time>
                ),
              },
            ]}
            actions={(a) => (
              <button
                type="button"
                class="icon-btn icon-btn-danger"
                aria-label={t('agents.removeLabel', { host: a.hostname })}
                title={actionBlocked(ACTIONS.removeAgent) ?? t('agents.remove')}
                disabled={actionBlocked(ACTIONS.removeAgent) !== undefined}
                data-action={actionAttr(ACTIONS.removeAgent)}
                onClick={() => setToRemove(a)}
              >
                <Icon name="trash" size={16} />
              </button>
            )}
          />
        )}
      </Async>
      <ConfirmFor
        item={toRemove()}
        title={(a) => t('agents.removeTitle', { host: a.hostname })}
        confirmLabel={t('agents.remove')}
        danger
        onClose={() => setToRemove(undefined)}
        onConfirm={async (a) => {
          await api.deleteAgent(a.id);
          showToast(t('agents.removed', { host: a.hostname }));
          void refetch();
        }}
      >
        {() => <p>{t('agents.removeText')}</p>}
      </ConfirmFor>
    </div>
  );
}
