// A modal confirmation on the native <dialog> (focus trap, Escape) that shows the server's
// message in place when the action fails, so the user sees why and can try again.
import { createEffect, createMemo, createSignal, createUniqueId, type JSX, Show } from 'solid-js';
import { t } from '../i18n/index.ts';
import { ErrorState } from './states.tsx';

export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children: JSX.Element;
  confirmLabel: string;
  danger?: boolean;
  /** the action cannot be taken yet (the text says why) */
  confirmDisabled?: boolean;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}): JSX.Element {
  let dialog!: HTMLDialogElement;
  const id = createUniqueId();
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<unknown>();

  createEffect(() => {
    if (props.open) {
      setError(undefined);
      if (dialog.open) return;
      try {
        dialog.showModal();
      } catch {
        dialog.setAttribute('open', ''); // environments without showModal (jsdom)
      }
    } else if (dialog.open) {
      if (typeof dialog.close === 'function') dialog.close();
      else dialog.removeAttribute('open'); // jsdom
    }
  });

  const confirm = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await props.onConfirm();
      props.onClose();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={dialog}
      class="dialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-body`}
      onCancel={(e) => {
        e.preventDefault();
        if (!busy()) props.onClose();
      }}
    >
      <h2 id={`${id}-title`}>{props.title}</h2>
      <div id={`${id}-body`} class="dialog-body">
        {props.children}
      </div>
      <Show when={error()}>
        <ErrorState error={error()} compact />
      </Show>
      <div class="dialog-actions">
        <button type="button" class="btn btn-secondary" onClick={() => props.onClose()} disabled={busy()}>
          {t('action.cancel')}
        </button>
        <button
          type="button"
          class={props.danger ? 'btn btn-danger' : 'btn btn-primary'}
          onClick={confirm}
          disabled={busy() || props.confirmDisabled}
          aria-busy={busy()}
        >
          {busy() ? t('state.working') : props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/**
 * A confirmation about one item (the agent to remove, the key to revoke): open while `item` is
 * set; the title and text keep showing the item while the dialog closes.
 */
export function ConfirmFor<T>(props: {
  item: T | undefined;
  title: (item: T) => string;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: (item: T) => Promise<void>;
  onClose: () => void;
  children: (item: T) => JSX.Element;
}): JSX.Element {
  const current = createMemo<T | undefined>((previous) => props.item ?? previous);
  return (
    <ConfirmDialog
      open={props.item !== undefined}
      title={current() === undefined ? '' : props.title(current() as T)}
      confirmLabel={props.confirmLabel}
      danger={props.danger}
      onClose={props.onClose}
      onConfirm={async () => {
        const item = props.item;
        if (item !== undefined) await props.onConfirm(item);
      }}
    >
      <Show when={current()} keyed>
        {(item) => props.children(item)}
      </Show>
    </ConfirmDialog>
  );
}
