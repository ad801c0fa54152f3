// One rule for a cancelled account: every action that would change something is shown disabled
// with its reason, and a banner on every page says why. (The agent refuses new backups of a
// cancelled account; offering the button would only fail later, silently.)
import { A } from '@solidjs/router';
import { type JSX, Show } from 'solid-js';
import { t } from '../i18n/index.ts';
import { closingBlocked, writeBlocked } from '../lib/session.ts';
import { Icon } from './icons.tsx';

/** A link to a form that changes something; a disabled button naming the reason when blocked. */
export function WriteLink(props: { href: string; class: string; children: JSX.Element }): JSX.Element {
  return (
    <Show
      when={writeBlocked()}
      fallback={
        <A href={props.href} class={props.class}>
          {props.children}
        </A>
      }
    >
      {(reason) => (
        <button type="button" class={props.class} disabled title={reason()}>
          {props.children}
        </button>
      )}
    </Show>
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
