// Settings → Account: "download all" (the manifest, and the CLI command), cancelling, deleting the
// account on request (with the password), and reopening within the 30 days.
import type { Account } from '@resistro/contract/schemas';
import { createSignal, type JSX, Show } from 'solid-js';
import { api } from '../api.ts';
import { t } from '../i18n/index.ts';
import { formatDate } from '../lib/format.ts';
import { roleBlocked, updateAccount } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { ExportButton } from './export-button.tsx';

export function ClosingSection(props: { account: Account }): JSX.Element {
  const [dialog, setDialog] = createSignal<'cancel' | 'delete' | 'reopen'>();
  const [password, setPassword] = createSignal('');
  const closing = () => props.account.closing;
  const ownerOnly = () => roleBlocked('owner');
  const state = () => {
    const c = closing();
    if (!c) return undefined;
    const dates = { effective: formatDate(c.effectiveAt), purge: formatDate(c.purgeAt) };
    if (!c.readOnly) return t('closing.scheduled', dates);
    return c.reason === 'deletion_requested'
      ? t('closing.deletionState', dates)
      : t('settings.cancelled', { date: dates.purge });
  };
  const apply = (next: Account['closing']) => updateAccount({ ...props.account, closing: next });

  return (
    <>
      <Show when={state()}>
        {(text) => (
          <div class="alert alert-warn" role="status" data-testid="closing-state">
            <p>{text()}</p>
          </div>
        )}
      </Show>
      <div class="danger-row">
        <div>
          <strong>{t('export.title')}</strong>
          <p class="muted">{t('export.text')}</p>
          <code class="mono">resistro export --all --to /srv/resistro-export</code>
        </div>
        <ExportButton />
      </div>
      <Show
        when={closing()}
        fallback={
          <OwnerAction
            title={t('settings.cancelTitle')}
            text={t('settings.cancelText')}
            label={t('settings.cancel')}
            blocked={ownerOnly()}
            onClick={() => setDialog('cancel')}
          />
        }
      >
        <OwnerAction
          title={t('closing.reopenTitle')}
          text={t('closing.reopenText')}
          label={t('closing.reopen')}
          primary
          testId="reopen"
          blocked={ownerOnly()}
          onClick={() => setDialog('reopen')}
        />
      </Show>
      <Show when={closing()?.reason !== 'deletion_requested'}>
        <OwnerAction
          title={t('closing.deleteTitle')}
          text={t('closing.deleteText')}
          label={t('closing.delete')}
          blocked={ownerOnly()}
          onClick={() => {
            setPassword('');
            setDialog('delete');
          }}
        />
      </Show>

      <ConfirmDialog
        open={dialog() === 'cancel'}
        title={t('settings.cancelConfirmTitle')}
        confirmLabel={t('settings.cancel')}
        danger
        onClose={() => setDialog(undefined)}
        onConfirm={async () => {
          apply((await api.cancelAccount()).closing);
          showToast(t('settings.cancelDone'));
        }}
      >
        <p>{t('settings.cancelConfirmText')}</p>
      </ConfirmDialog>
      <ConfirmDialog
        open={dialog() === 'delete'}
        title={t('closing.deleteConfirmTitle')}
        confirmLabel={t('closing.delete')}
        danger
        onClose={() => setDialog(undefined)}
        onConfirm={async () => {
          apply((await api.requestAccountDeletion(password())).closing);
          showToast(t('closing.deleteDone'));
        }}
      >
        <p>{t('closing.deleteConfirmText')}</p>
        <label class="field">
          <span class="field-label">{t('auth.password')}</span>
          <input
            type="password"
            autocomplete="current-password"
            data-testid="delete-password"
            value={password()}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
      </ConfirmDialog>
      <ConfirmDialog
        open={dialog() === 'reopen'}
        title={t('closing.reopenConfirmTitle')}
        confirmLabel={t('closing.reopen')}
        onClose={() => setDialog(undefined)}
        onConfirm={async () => {
          apply((await api.reopenAccount()).closing);
          showToast(t('closing.reopenDone'));
        }}
      >
        <p>{t('closing.reopenConfirmText')}</p>
      </ConfirmDialog>
    </>
  );
}

/** One row of the account's owner actions: what it does, and its button (unavailable, with the reason, to others). */
function OwnerAction(props: {
  title: string;
  text: string;
  label: string;
  blocked: string | undefined;
  primary?: boolean;
  testId?: string;
  onClick: () => void;
}): JSX.Element {
  return (
    <div class="danger-row">
      <div>
        <strong>{props.title}</strong>
        <p class="muted">{props.text}</p>
      </div>
      <button
        type="button"
        class={props.primary ? 'btn btn-primary' : 'btn btn-danger-outline'}
        data-testid={props.testId}
        disabled={props.blocked !== undefined}
        title={props.blocked}
        onClick={() => props.onClick()}
      >
        {props.label}
      </button>
    </div>
  );
}
