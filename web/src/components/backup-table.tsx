// Backups as a table on wide screens and as stacked cards on phones (data-label per cell).
import type { Backup } from '@resistro/contract/schemas';
import { A } from '@solidjs/router';
import { createSignal, For, type JSX, Show } from 'solid-js';
import { api, errorMessage } from '../api.ts';
import { type MessageKey, t } from '../i18n/index.ts';
import { ACTIONS, actionAttr } from '../lib/actions.ts';
import { downloadBackup } from '../lib/download.ts';
import { formatBytes, formatDateTime, formatDuration } from '../lib/format.ts';
import { actionBlocked } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { Icon } from './icons.tsx';
import { BackupStatusBadge } from './status-badge.tsx';

/** The backup's object lock date while it is in force (storage refuses to delete it until then). */
function lockedUntil(b: Backup): string | undefined {
  return b.lockedUntil && Date.parse(b.lockedUntil) > Date.now() ? b.lockedUntil : undefined;
}

export function BackupTable(props: {
  items: Backup[];
  /** database id → display name (backups of deleted databases fall back to the dump's name) */
  names?: Map<string, string>;
  showDatabase?: boolean;
  actions?: boolean;
  /** status, database, time and size only (the start page's narrow card) */
  compact?: boolean;
  caption: string;
  onDeleted?: (id: string) => void;
  /** shows "Restore" on successful backups */
  onRestore?: ((b: Backup) => void) | undefined;
}): JSX.Element {
  const [pending, setPending] = createSignal<string>();
  const [toDelete, setToDelete] = createSignal<Backup>();
  const name = (b: Backup) => props.names?.get(b.databaseId) ?? b.databaseName;

  const download = async (b: Backup) => {
    setPending(b.id);
    try {
      const { fileName: file, fromCopy } = await downloadBackup(b.id);
      if (fromCopy) showToast(t('backups.downloadFromCopy', { file }), 'info', 10000);
      else showToast(t('backups.downloadStarted', { file }), 'info');
    } catch (e) {
      showToast(errorMessage(e), 'error', 8000);
    } finally {
      setPending(undefined);
    }
  };

  return (
    <>
      <div class="table-wrap">
        <table class="table responsive-table">
          <caption class="sr-only">{props.caption}</caption>
          <thead>
            <tr>
              <th scope="col">{t('backups.col.status')}</th>
              <Show when={props.showDatabase}>
                <th scope="col">{t('backups.col.database')}</th>
              </Show>
              <th scope="col">{t('backups.col.started')}</th>
              <th scope="col" class="num">
                {t('backups.col.size')}
              </th>
              <Show when={!props.compact}>
                <th scope="col" class="num">
                  {t('backups.col.duration')}
                </th>
                <th scope="col">{t('backups.col.trigger')}</th>
              </Show>
              <Show when={props.actions}>
                <th scope="col" class="actions-col">
                  <span class="sr-only">{t('backups.col.actions')}</span>
                </th>
              </Show>
            </tr>
          </thead>
          <tbody>
            <For each={props.items}>
              {(b) => (
                <tr data-backup-id={b.id} data-status={b.status}>
                  <td data-label={t('backups.col.status')}>
                    <BackupStatusBadge status={b.status} />
                  </td>
                  <Show when={props.showDatabase}>
                    <td data-label={t('backups.col.database')}>
                      <A href={`/databases/${b.databaseId}`} class="strong-link">
                        {name(b)}
                      </A>
                    </td>
                  </Show>
                  <td data-label={t('backups.col.started')}>
                    <time datetime={b.startedAt} class="nowrap">
                      {formatDateTime(b.startedAt)}
                    </time>
                    <Show when={lockedUntil(b)}>
                      {(until) => (
                        <div class="muted nowrap" data-locked-until={until()}>
                          <Icon name="lock" size={14} />{' '}
                          {t('backups.lockedUntil', { date: formatDateTime(until()) })}
                        </div>
                      )}
                    </Show>
                  </td>
                  <td data-label={t('backups.col.size')} class="num">
                    {formatBytes(b.sizeBytes)}
                  </td>
                  <Show when={!props.compact}>
                    <td data-label={t('backups.col.duration')} class="num">
                      {formatDuration(b.durationMs)}
                    </td>
                    <td data-label={t('backups.col.trigger')}>
                      <span class="muted">{t(`trigger.${b.trigger}` as MessageKey)}</span>
                    </td>
                  </Show>
                  <Show when={props.actions}>
                    <td class="actions-cell">
                      <Show when={b.status === 'succeeded'}>
                        <button
                          type="button"
                          class="btn btn-secondary btn-sm"
                          onClick={() => download(b)}
                          disabled={pending() === b.id || actionBlocked(ACTIONS.download) !== undefined}
                          aria-label={t('backups.downloadLabel', { file: b.fileName })}
                          title={actionBlocked(ACTIONS.download) ?? b.fileName}
                          data-action={actionAttr(ACTIONS.download)}
                        >
                          <Icon name="download" size={16} />
                          <span>{t('action.download')}</span>
                        </button>
                      </Show>
                      <Show when={b.status === 'succeeded' && props.onRestore}>
                        <button
                          type="button"
                          class="btn btn-secondary btn-sm"
                          onClick={() => props.onRestore?.(b)}
                          data-action={actionAttr(ACTIONS.restore)}
                          aria-label={t('restore.actionLabel', { file: b.fileName })}
                        >
                          <span>{t('restore.action')}</span>
                        </button>
                      </Show>
                      <button
                        type="button"
                        class="icon-btn icon-btn-danger"
                        onClick={() => setToDelete(b)}
                        disabled={
                          actionBlocked(ACTIONS.deleteBackup) !== undefined || lockedUntil(b) !== undefined
                        }
                        data-action={actionAttr(ACTIONS.deleteBackup)}
                        aria-label={t('backups.deleteLabel', { file: b.fileName })}
                        title={
                          actionBlocked(ACTIONS.deleteBackup) ??
                          (lockedUntil(b)
                            ? t('backups.lockedNoDelete', { date: formatDateTime(lockedUntil(b)) })
                            : t('action.delete'))
                        }
                      >
                        <Icon name="trash" size={16} />
                      </button>
                    </td>
                  </Show>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </div>
      <Show when={props.actions}>
        <ConfirmDialog
          open={Boolean(toDelete())}
          title={t('backups.deleteTitle')}
          confirmLabel={t('action.delete')}
          danger
          onClose={() => setToDelete(undefined)}
          onConfirm={async () => {
            const b = toDelete();
            if (!b) return;
            await api.deleteBackup(b.id);
            showToast(t('backups.deleted'));
            props.onDeleted?.(b.id);
          }}
        >
          <p>{t('backups.deleteText', { file: toDelete()?.fileName ?? '' })}</p>
        </ConfirmDialog>
      </Show>
    </>
  );
}

/** A one-line error excerpt for lists. */
export function ErrorExcerpt(props: { text: string }): JSX.Element {
  return (
    <span class="error-excerpt">{props.text.length > 160 ? `${props.text.slice(0, 160)}…` : props.text}</span>
  );
}
