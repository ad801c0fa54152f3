// The subscription's state on every page when it needs the user: no payment yet, a failed payment
// (backups keep running until the grace period ends), or new backups stopped because of it.
import { A } from '@solidjs/router';
import { type JSX, Match, Show, Switch } from 'solid-js';
import { t } from '../i18n/index.ts';
import { ACTIONS } from '../lib/actions.ts';
import { formatDate } from '../lib/format.ts';
import { account, routeRoleBlocked } from '../lib/session.ts';
import { Icon } from './icons.tsx';

export function BillingBanner(): JSX.Element {
  const billing = () => account()?.billing;
  const date = () => {
    const at = billing()?.graceEndsAt;
    return at ? formatDate(at) : '–';
  };
  return (
    <Switch>
      <Match when={billing()?.enabled && billing()?.backupsStopped && !account()?.closing?.readOnly}>
        <div class="alert alert-error" role="alert" data-testid="billing-banner">
          <Icon name="alert" />
          <p>
            {billing()?.state === 'pending' ? t('billing.bannerStoppedPending') : t('billing.bannerStopped')}{' '}
            <SettleLink href="/settings#plan" label={t('billing.bannerAction')} />
          </p>
        </div>
      </Match>
      <Match when={billing()?.enabled && billing()?.state === 'past_due'}>
        <div class="alert alert-warn" role="status" data-testid="billing-banner">
          <Icon name="alert" />
          <p>
            {t('billing.bannerPastDue', { date: date() })}{' '}
            <SettleLink href="/settings#plan" label={t('billing.bannerAction')} />
          </p>
        </div>
      </Match>
      <Match when={billing()?.enabled && billing()?.state === 'pending'}>
        <div class="alert alert-info" role="status" data-testid="billing-banner">
          <Icon name="alert" />
          <p>
            {t('billing.bannerPending', { date: date() })}{' '}
            <SettleLink
              href={`/checkout?plan=${account()?.plan === 'starter' ? 'business' : account()?.plan}`}
              label={t('billing.payNow')}
            />
          </p>
        </div>
      </Match>
    </Switch>
  );
}

/** Only the owner handles billing (the route table's rule); others are told who can. */
function SettleLink(props: { href: string; label: string }): JSX.Element {
  return (
    <Show when={routeRoleBlocked(ACTIONS.changePlan) === undefined} fallback={t('billing.ownerSettles')}>
      <A href={props.href}>{props.label}</A>
    </Show>
  );
}
