// The restores of one database: when, which backup, into what, how long (the measured RTO) and
// how it ended; a running one shows its phase and bytes live and can be cancelled.
import { isRestoreActive, type Restore } from '@resistro/contract/restores';
import { createSignal, For, type JSX, Show } from 'solid-js';
import { api, errorMessage } from '../api.ts';
import { type MessageKey, t } from '../i18n/index.ts';
import { ACTIONS } from '../lib/actions.ts';
import { formatBytes, formatDuration } from '../lib/format.ts';
import { showToast } from '../lib/toast.ts';
import { CancelJobButton, HistoryTable, TimeCell } from './job-history.tsx';
import { EmptyState } from './states.tsx';
import { Badge } from './status-badge.tsx';

export function RestoreStateBadge(props: { state: Restore['state'] }): JSX.Element {
  const view = () =>
    ({
      pending: { tone: 'neutral', symbol: '…' },
      running: { tone: 'info', symbol: '●' },
      succeeded: { tone: 'ok', symbol: '✓' },
      failed: { tone: 'error', symbol: '✗' },
      cancelled: { tone: 'warn', symbol: '■' },
    })[props.state] as { tone: 'neutral' | 'info' | 'ok' | 'error' | 'warn'; symbol: string };
  return (
    <Badge tone={view().tone} symbol={view().symbol}>
      {t(`restore.state.${props.state}` as MessageKey)}
    </Badge>
  );
}

export function restoreWhere(r: Restore): string {
  return t(`restore.where.${r.target.kind}` as MessageKey, { database: r.target.database });
}

function Progress(props: { restore: Restore }): JSX.Element {
  const r = () => props.restore;
  const fraction = () => (r().bytesTotal ? Math.min(1, r().bytesDone / r().bytesTotal!) : 0);
  return (
    <div class="meter restore-progress" data-testid="restore-progress" data-phase={r().phase ?? ''}>
      <div class="meter-text">
        <span>
          {r().phase
            ? t('restore.progress', {
                phase: t(`restore.phase.${r().phase}` as MessageKey),
                done: formatBytes(r().bytesDone),
                total: formatBytes(r().bytesTotal),
              })
            : t('restore.state.pending')}
        </span>
      </div>
      <div
        class="meter-bar"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(fraction() * 100)}
        aria-label={t('restore.state.running')}
      >
        <span style={{ width: `${Math.round(fraction() * 100)}%` }} />
      </div>
    </div>
  );
}

export function RestoreHistory(props: { items: Restore[]; onChanged: () => void }): JSX.Element {
  const [cancelling, setCancelling] = createSignal<string>();
  const cancel = async (r: Restore) => {
    setCancelling(r.id);
    try {
      await api.cancelRestore(r.id);
      showToast(t('restore.cancelled'));
      props.onChanged();
    } catch (e) {
      showToast(errorMessage(e), 'error', 10_000);
    } finally {
      setCancelling(undefined);
    }
  };
  return (
    <Show
      when={props.items.length > 0}
      fallback={
        <EmptyState icon="archive" title={t('restore.historyTitle')}>
          {t('restore.historyEmpty')}
        </EmptyState>
      }
    >
      <HistoryTable
        testid="restore-history"
        caption={t('restore.historyTitle')}
        columns={[
          { label: t('restore.col.result') },
          { label: t('restore.col.when') },
          { label: t('restore.col.what') },
          { label: t('restore.col.where') },
          { label: t('restore.col.duration'), num: true, title: t('restore.rtoHint') },
          { label: t('restore.col.by') },
        ]}
      >
        <For each={props.items}>
          {(r) => (
            <tr data-restore-id={r.id} data-state={r.state}>
              <td data-label={t('restore.col.result')}>
                <RestoreStateBadge state={r.state} />
                <Show when={isRestoreActive(r.state)}>
                  <Progress restore={r} />
                  <CancelJobButton
                    action={ACTIONS.cancelRestore}
                    requested={r.cancelRequested}
                    busy={cancelling() === r.id}
                    label={t('restore.cancel')}
                    requestedLabel={t('restore.cancelling')}
                    onClick={() => cancel(r)}
                  />
                </Show>
                <Show when={r.state === 'failed' && r.errorCode}>
                  <details class="restore-error">
                    <summary>{t(`restore.error.${r.errorCode}` as MessageKey)}</summary>
                    <Show when={r.error}>
                      <pre class="error-text">{r.error}</pre>
                    </Show>
                  </details>
                </Show>
              </td>
              <TimeCell label={t('restore.col.when')} at={r.requestedAt} />
              <TimeCell label={t('restore.col.what')} at={r.backupStartedAt} />
              <td data-label={t('restore.col.where')}>{restoreWhere(r)}</td>
              <td data-label={t('restore.col.duration')} class="num" data-testid="restore-duration">
                {r.state === 'succeeded' ? formatDuration(r.durationMs) : '–'}
              </td>
              <td data-label={t('restore.col.by')}>
                <span class="muted">{r.requestedBy ?? '–'}</span>
              </td>
            </tr>
          )}
        </For>
      </HistoryTable>
    </Show>
  );
}
