// Status badges carry an icon and a word, never colour alone.
import type { Backup, Database } from '@resistro/contract/schemas';
import type { JSX } from 'solid-js';
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
