// Status badges carry an icon and a word, never colour alone.
import type { Agent, Backup, Database } from '@resistro/contract/schemas';
import { type JSX, Show } from 'solid-js';
import { t } from '../i18n/index.ts';

export function Badge(props: {
  tone: 'ok' | 'warn' | 'error' | 'neutral' | 'info';
  symbol?: string;
  children: JSX.Element;
}): JSX.Element {
  return (
    <span class={`badge badge-${props.tone}`}>
      {props.symbol && (
        <span class="badge-symbol" aria-hidden="true">
          {props.symbol}
        </span>
      )}
      {props.children}
    </span>
  );
}

export function DatabaseStatusBadge(props: { status: Database['status'] }): JSX.Element {
  const view = () =>
    ({
      active: { tone: 'ok', symbol: '✓', label: t('status.active') },
      paused: { tone: 'neutral', symbol: '❚❚', label: t('status.paused') },
      error: { tone: 'error', symbol: '✗', label: t('status.error') },
    })[props.status] as { tone: 'ok' | 'neutral' | 'error'; symbol: string; label: string };
  return (
    <Badge tone={view().tone} symbol={view().symbol}>
      {view().label}
    </Badge>
  );
}

export function BackupStatusBadge(props: { status: Backup['status'] }): JSX.Element {
  const view = () =>
    ({
      succeeded: { tone: 'ok', symbol: '✓', label: t('backupStatus.succeeded') },
      running: { tone: 'info', symbol: '●', label: t('backupStatus.running') },
      failed: { tone: 'error', symbol: '✗', label: t('backupStatus.failed') },
    })[props.status] as { tone: 'ok' | 'info' | 'error'; symbol: string; label: string };
  return (
    <Badge tone={view().tone} symbol={view().symbol}>
      {view().label}
    </Badge>
  );
}

export function OnlineBadge(props: { online: boolean }): JSX.Element {
  return (
    <Badge tone={props.online ? 'ok' : 'neutral'} symbol={props.online ? '●' : '○'}>
      {props.online ? t('agents.online') : t('agents.offline')}
    </Badge>
  );
}

/** Online, offline, or refused: a revoked key shows at once, not as "offline" minutes later. */
export function AgentStatusBadge(props: { agent: Agent }): JSX.Element {
  return (
    <Show when={props.agent.keyRevokedAt} fallback={<OnlineBadge online={props.agent.online} />}>
      <Badge tone="error" symbol="✗">
        {t('agents.keyRevoked')}
      </Badge>
    </Show>
  );
}

/**
 * A database's status as the user needs it: "active" only while its agent can run it; with the
 * agent offline or its key revoked, nothing runs, whatever the last backup said.
 */
export function DatabaseStateBadge(props: { database: Database; agent: Agent | undefined }): JSX.Element {
  const agentDown = () =>
    props.database.status === 'active' && props.agent !== undefined && !props.agent.online;
  return (
    <Show when={agentDown()} fallback={<DatabaseStatusBadge status={props.database.status} />}>
      <Badge tone="warn" symbol="!">
        {props.agent?.keyRevokedAt ? t('status.agentKeyRevoked') : t('status.agentOffline')}
      </Badge>
    </Show>
  );
}
