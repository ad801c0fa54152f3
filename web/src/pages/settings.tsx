// Settings (user guide "Einstellungen"): plan, quota and usage, API keys, alert e-mails,
// notification channels (webhooks), and cancelling the account.
import { useLocation } from '@solidjs/router';
import { createEffect, createResource, createSignal, For, type JSX, Show } from 'solid-js';
import { api } from '../api.ts';
import { PageHeader } from '../components/page-header.tsx';
import { AlertEmailsSection } from '../components/settings-alert-emails.tsx';
import { ApiKeysSection } from '../components/settings-api-keys.tsx';
import { ChannelsSection } from '../components/settings-channels.tsx';
import { ClosingSection } from '../components/settings-closing.tsx';
import { LanguageSection } from '../components/settings-language.tsx';
import { LocationSection } from '../components/settings-location.tsx';
import { UsageSection } from '../components/settings-plan.tsx';
import { SecuritySection } from '../components/settings-security.tsx';
import { SsoSection } from '../components/settings-sso.tsx';
import { SubscriptionSection } from '../components/settings-subscription.tsx';
import { TeamSection } from '../components/settings-team.tsx';
import { Async } from '../components/states.tsx';
import { type MessageKey, t } from '../i18n/index.ts';
import { ACTIONS, type Action } from '../lib/actions.ts';
import { formatDate } from '../lib/format.ts';
import { me, routeRoleBlocked, updateAccount } from '../lib/session.ts';

/** Sections with what reading them needs (a member whose role may not read one does not see it). */
const SECTIONS: Array<[string, MessageKey, Action?]> = [
  ['plan', 'billing.title', ACTIONS.readBilling],
  ['usage', 'settings.usage'],
  ['team', 'team.title'],
  ['api-keys', 'keys.title', ACTIONS.listApiKeys],
  ['alerts', 'alertEmails.title'],
  ['webhooks', 'channels.title'],
  ['second-location', 'settings.secondLocation'],
  ['language', 'settings.language'],
  ['security', 'security.title'],
  ['sso', 'sso.title', ACTIONS.readSso],
  ['account', 'settings.account'],
];

const readable = (needs: Action | undefined) => !needs || routeRoleBlocked(needs) === undefined;

export default function SettingsPage(): JSX.Element {
  const location = useLocation();
  const [loaded, { refetch }] = createResource(async () => {
    const { account } = await api.account();
    updateAccount(account);
    return true;
  });
  const [confirmCancel, setConfirmCancel] = createSignal(false);
  const account = () => me()?.account;

  // Deep links (#api-keys from the onboarding, #plan from the sidebar) once the sections exist.
  createEffect(() => {
    const hash = location.hash.slice(1);
    if (loaded.state !== 'ready' || !hash) return;
    setTimeout(() => document.getElementById(hash)?.scrollIntoView({ block: 'start' }), 50);
  });

  return (
    <div class="page">
      <PageHeader title={t('settings.title')} description={t('settings.subtitle')} />
      <div class="settings-layout">
        <nav class="settings-nav" aria-label={t('settings.sections')}>
          <ul class="settings-nav-list">
            <For each={SECTIONS.filter(([, , needs]) => readable(needs))}>
              {([id, label]) => (
                <li>
                  <a
                    href={`#${id}`}
                    class="settings-nav-link"
                    classList={{ active: location.hash === `#${id}` }}
                  >
                    {t(label)}
                  </a>
                </li>
              )}
            </For>
          </ul>
        </nav>
        <div class="settings-content">
          <Async of={loaded} retry={refetch}>
            {() => (
              <Show when={account()}>
                {(a) => (
                  <>
                    <Show when={readable(ACTIONS.readBilling)}>
                      <SubscriptionSection account={a()} />
                    </Show>
                    <UsageSection account={a()} />
                    <TeamSection />
                    <Show when={readable(ACTIONS.listApiKeys)}>
                      <ApiKeysSection />
                    </Show>
                    <AlertEmailsSection account={a()} />
                    <ChannelsSection />
                    <LocationSection account={a()} />
                    <LanguageSection account={a()} />
                    <SecuritySection />
                    <Show when={readable(ACTIONS.readSso)}>
                      <SsoSection account={a()} />
                    </Show>
                    <section
                      class="card settings-section danger-zone"
                      id="account"
                      aria-labelledby="account-title"
                    >
                      <div class="card-head">
                        <h2 id="account-title">{t('settings.account')}</h2>
                      </div>
                      <dl class="kv">
                        <dt>{t('auth.email')}</dt>
                        <dd>{me()?.user.email}</dd>
                        <dt>{t('settings.memberSince')}</dt>
                        <dd>{formatDate(a().createdAt)}</dd>
                      </dl>
                      <ClosingSection account={a()} />
                    </section>
                  </>
                )}
              </Show>
            )}
          </Async>
        </div>
      </div>
    </div>
  );
}
