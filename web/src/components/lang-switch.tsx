// The language of the dashboard: before log-in this browser's choice; once logged in the
// account's, so switching here changes it for the e-mails and API messages too.
import { createUniqueId, type JSX } from 'solid-js';
import { api } from '../api.ts';
import { type Locale, locale, setLocale, t } from '../i18n/index.ts';
import { account, updateAccount } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';

let latest = 0;

export async function chooseLanguage(next: Locale): Promise<void> {
  const previous = locale();
  setLocale(next);
  if (!account() || account()?.language === next) return;
  // Switching twice quickly: only the last choice's answer may set the account (and the UI).
  const mine = ++latest;
  try {
    const { account: updated } = await api.updateAccount({ language: next });
    if (mine === latest) updateAccount(updated);
  } catch {
    if (mine !== latest) return;
    setLocale(previous);
    showToast(t('settings.languageFailed'), 'error');
  }
}

const NAMES: Record<Locale, string> = { de: 'Deutsch', en: 'English' };

export function LangSwitch(props: { class?: string }): JSX.Element {
  const id = createUniqueId();
  return (
    <div class={`lang-switch ${props.class ?? ''}`}>
      <label for={id} class="sr-only">
        {t('lang.label')}
      </label>
      <select id={id} value={locale()} onChange={(e) => void chooseLanguage(e.currentTarget.value as Locale)}>
        <option value="de" lang="de" selected={locale() === 'de'}>
          {NAMES.de}
        </option>
        <option value="en" lang="en" selected={locale() === 'en'}>
          {NAMES.en}
        </option>
      </select>
    </div>
  );
}
