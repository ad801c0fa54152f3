import { For, type JSX } from 'solid-js';
import { t } from '../i18n/index.ts';
import { dismissToast, toasts } from '../lib/toast.ts';
import { Icon } from './icons.tsx';

export function Toaster(): JSX.Element {
  return (
    <div class="toaster" aria-live="polite" aria-atomic="false">
      <For each={toasts()}>
        {(toast) => (
          <div class={`toast toast-${toast.tone}`} role={toast.tone === 'error' ? 'alert' : 'status'}>
            <Icon name={toast.tone === 'error' ? 'alert' : 'check'} />
            <span>{toast.text}</span>
            <button
              type="button"
              class="icon-btn"
              aria-label={t('action.dismiss')}
              onClick={() => dismissToast(toast.id)}
            >
              <Icon name="x" size={16} />
            </button>
          </div>
        )}
      </For>
    </div>
  );
}
