import { type JSX, Show } from 'solid-js';
import { t } from '../i18n/index.ts';
import { CopyButton } from './copy-button.tsx';
import { Icon } from './icons.tsx';

/** A secret shown once (API key, webhook signing secret): the warning, the value, copy, and "stored". */
export function SecretBox(props: {
  secret: string;
  warning: JSX.Element;
  testId?: string;
  role?: 'status';
  onDismiss?: () => void;
}): JSX.Element {
  return (
    <div class="secret-box" role={props.role}>
      <p class="secret-warning">
        <Icon name="alert" size={16} /> {props.warning}
      </p>
      <div class="secret-row">
        <code class="secret" data-testid={props.testId}>
          {props.secret}
        </code>
        <CopyButton text={props.secret} />
      </div>
      <Show when={props.onDismiss}>
        {(dismiss) => (
          <button type="button" class="btn btn-ghost btn-sm" onClick={() => dismiss()()}>
            {t('keys.secretStored')}
          </button>
        )}
      </Show>
    </div>
  );
}
