// The subscription's state on every page when it needs the user: no payment yet, a failed payment
// (backups keep running until the grace period ends), or new backups stopped because of it.
import { A } from '@solidjs/router';
import { type JSX, Match, Switch } from 'solid-js';
import { t } from '../i18n/index.ts';
import { formatDate } from '../lib/format.ts';
import { account } from '../lib/session.ts';
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
            <A href="/settings#plan">{t('billing.bannerAction')}</A>
          </p>
        </div>
      </Match>
      <Match when={billing()?.enabled && billing()?.state === 'past_due'}>
        <div class="alert alert-warn" role="status" data-testid="billing-banner">
          <Icon name="alert" />
          <p>
            {t('billing.bannerPastDue', { date: date() })}{' '}
            <A href="/settings#plan">{t('billing.bannerAction')}</A>
          </p>
        </div>
      </Match>
      <Match when={billing()?.enabled && billing()?.state === 'pending'}>
        <div class="alert alert-info" role="status" data-testid="billing-banner">
          <Icon name="alert" />
          <p>
            {t('billing.bannerPending', { date: date() })}{' '}
            <A href={`/checkout?plan=${account()?.plan === 'starter' ? 'business' : account()?.plan}`}>
              {t('billing.payNow')}
            </A>
          </p>
        </div>
      </Match>
    </Switch>
  );
}
