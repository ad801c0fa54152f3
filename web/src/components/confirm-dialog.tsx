// A modal confirmation on the native <dialog> (focus trap, Escape) that shows the server's
// message in place when the action fails, so the user sees why and can try again.
import { createEffect, createSignal, createUniqueId, type JSX, Show } from 'solid-js';
import { t } from '../i18n/index.ts';
import { ErrorState } from './states.tsx';

export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children: JSX.Element;
  confirmLabel: string;
  danger?: boolean;
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
      dialog.close();
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
          disabled={busy()}
          aria-busy={busy()}
        >
          {busy() ? t('state.working') : props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
