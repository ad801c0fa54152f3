// One rule for a cancelled account: every action that would change something is shown disabled
// with its reason, and a banner on every page says why. (The agent refuses new backups of a
// cancelled account; offering the button would only fail later, silently.)
import { A } from '@solidjs/router';
import { type JSX, Show } from 'solid-js';
import { t } from '../i18n/index.ts';
import { type Action, actionAttr } from '../lib/actions.ts';
import { actionBlocked, closingBlocked } from '../lib/session.ts';
import { Icon } from './icons.tsx';

/** A link to a form that changes something; a disabled button naming the reason when blocked. */
export function WriteLink(props: {
  href: string;
  class: string;
  /** what the form it leads to does */
  action: Action;
  children: JSX.Element;
}): JSX.Element {
  return (
    <Show
      when={actionBlocked(props.action)}
      fallback={
        <A href={props.href} class={props.class} data-action={actionAttr(props.action)}>
          {props.children}
        </A>
      }
    >
      {(reason) => (
        <button
          type="button"
          class={props.class}
          disabled
          title={reason()}
          data-action={actionAttr(props.action)}
        >
          {props.children}
        </button>
      )}
    </Show>
  );
}

/**
 * Controls that all call `action`: disabled together (a disabled fieldset disables every button,
 * input and select inside it), with the reason said once above them, when the member's role or
 * the account's state does not allow it.
 */
export function Guarded(props: { action: Action; children: JSX.Element }): JSX.Element {
  const reason = () => actionBlocked(props.action);
  return (
    <fieldset class="guarded" disabled={reason() !== undefined} data-action={actionAttr(props.action)}>
      <Show when={reason()}>
        {(r) => (
          <p class="muted guarded-reason" data-testid="blocked-reason">
            <Icon name="lock" size={14} /> {r()}
          </p>
        )}
      </Show>
      {props.children}
    </fieldset>
  );
}

export function CancelledBanner(): JSX.Element {
  return (
    <Show when={closingBlocked()}>
      {(reason) => (
        <div class="alert alert-warn" role="status" data-testid="cancelled-banner">
          <Icon name="alert" />
          <p>
            {reason()}{' '}
            <A href="/settings#account" class="alert-link">
              {t('closing.bannerLink')}
            </A>
          </p>
        </div>
      )}
    </Show>
  );
}
