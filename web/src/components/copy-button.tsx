import { createSignal, type JSX } from 'solid-js';
import { t } from '../i18n/index.ts';
import { Icon } from './icons.tsx';

async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Without the Clipboard API (older browsers, no permission), fall back to a selection.
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}

export function CopyButton(props: { text: string; label?: string; class?: string }): JSX.Element {
  const [copied, setCopied] = createSignal(false);
  return (
    <button
      type="button"
      class={props.class ?? 'btn btn-secondary btn-sm'}
      onClick={async () => {
        await copyText(props.text);
        setCopied(true);
        setTimeout(() => setCopied(false), 2000);
      }}
    >
      <Icon name={copied() ? 'check' : 'copy'} size={16} />
      <span aria-live="polite">{copied() ? t('action.copied') : (props.label ?? t('action.copy'))}</span>
    </button>
  );
}

/** A command or file the user copies into a terminal. */
export function CodeBlock(props: { code: string; label: string; testId?: string }): JSX.Element {
  return (
    <div class="code-block">
      <div class="code-block-bar">
        <span class="code-block-label">{props.label}</span>
        <CopyButton text={props.code} class="btn btn-ghost-dark btn-sm" />
      </div>
      <pre data-testid={props.testId}>
        <code>{props.code}</code>
      </pre>
    </div>
  );
}
