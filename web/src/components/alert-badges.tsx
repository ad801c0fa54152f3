// An alert's severity and state (open, resolved, acknowledged) as badges: icon and word, never colour alone.
import type { Alert } from '@resistro/contract/alerts';
import { type JSX, Show } from 'solid-js';
import { t } from '../i18n/index.ts';
import { Badge } from './status-badge.tsx';

export function SeverityBadge(props: { severity: Alert['severity'] }): JSX.Element {
  return (
    <Badge
      tone={props.severity === 'critical' ? 'error' : 'warn'}
      symbol={props.severity === 'critical' ? '✗' : '!'}
    >
      {props.severity === 'critical' ? t('alertPage.critical') : t('alertPage.warning')}
    </Badge>
  );
}

export function AlertStateBadges(props: { alert: Alert }): JSX.Element {
  return (
    <span class="badge-row">
      <Show
        when={props.alert.resolvedAt}
        fallback={
          <Badge tone="error" symbol="●">
            {t('alertPage.open')}
          </Badge>
        }
      >
        <Badge tone="ok" symbol="✓">
          {t('alertPage.resolved')}
        </Badge>
      </Show>
      <Show when={props.alert.acknowledgedAt}>
        <Badge tone="neutral" symbol="✓">
          {t('alertPage.acknowledged')}
        </Badge>
      </Show>
    </span>
  );
}
