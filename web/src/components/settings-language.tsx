// The account's language and time zone: every text Resistro shows or sends this account (the
// dashboard, API messages, alert e-mails, webhooks) is in this language, dates in this zone.
import type { Account } from '@resistro/contract/schemas';
import { createSignal, For, type JSX, Show } from 'solid-js';
import { ApiClientError, api } from '../api.ts';
import { type Locale, t } from '../i18n/index.ts';
import { ACTIONS } from '../lib/actions.ts';
import { formatDateTime } from '../lib/format.ts';
import { updateAccount } from '../lib/session.ts';
import { timeZones } from '../lib/time-zones.ts';
import { showToast } from '../lib/toast.ts';
import { control, Field } from './field.tsx';
import { ErrorState } from './states.tsx';
import { Guarded } from './write-guard.tsx';

const NAMES: Record<Locale, string> = { de: 'Deutsch', en: 'English' };

export function LanguageSection(props: { account: Account }): JSX.Element {
  const [language, setLanguage] = createSignal<Locale>(props.account.language);
  const [zone, setZone] = createSignal(props.account.timeZone);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<unknown>();
  const [fields, setFields] = createSignal<Record<string, string>>({});
  const zones = timeZones(props.account.timeZone);
  const changed = () => language() !== props.account.language || zone() !== props.account.timeZone;

  const save = async (e: SubmitEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setFields({});
    try {
      const { account } = await api.updateAccount({ language: language(), timeZone: zone() });
      // The whole dashboard switches with it (session → i18n), so the toast is already in the new language.
      updateAccount(account);
      showToast(t('settings.languageSaved'));
    } catch (err) {
      setError(err);
      if (err instanceof ApiClientError && err.fields) setFields(err.fields);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card settings-section" id="language" aria-labelledby="language-title">
      <div class="card-head">
        <h2 id="language-title">{t('settings.language')}</h2>
        <p class="muted">{t('settings.languageHint')}</p>
      </div>
      <Show when={error()}>
        <ErrorState error={error()} compact />
      </Show>
      <Guarded action={ACTIONS.updateAccount}>
        <form class="form-grid" onSubmit={save} novalidate>
          <Field id="account-language" label={t('lang.label')} error={fields().language}>
            <select
              {...control('account-language', fields().language)}
              value={language()}
              onChange={(e) => setLanguage(e.currentTarget.value as Locale)}
            >
              <For each={['de', 'en'] as const}>
                {(l) => (
                  <option value={l} lang={l} selected={language() === l}>
                    {NAMES[l]}
                  </option>
                )}
              </For>
            </select>
          </Field>
          <Field
            id="account-time-zone"
            label={t('settings.timeZone')}
            error={fields().timeZone}
            hint={t('settings.timeZoneHint', { now: formatDateTime(new Date(), zone()) })}
          >
            <select
              {...control('account-time-zone', fields().timeZone, true)}
              value={zone()}
              onChange={(e) => setZone(e.currentTarget.value)}
            >
              <For each={zones}>
                {(z) => (
                  <option value={z} selected={zone() === z}>
                    {z}
                  </option>
                )}
              </For>
            </select>
          </Field>
          <div class="form-actions">
            <button type="submit" class="btn btn-primary" disabled={busy() || !changed()}>
              {busy() ? t('state.working') : t('settings.languageSave')}
            </button>
          </div>
        </form>
      </Guarded>
    </section>
  );
}
