// The language of the dashboard: before log-in this browser's choice; once logged in the
// account's, so switching here changes it for the e-mails and API messages too.
import { createUniqueId, type JSX } from 'solid-js';
import { api } from '../api.ts';
import { type Locale, locale, setLocale, t } from '../i18n/index.ts';
import { account, updateAccount } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';

let latest = 0;
/** Language changes reach the server one after another, in the order they were chosen. */
let queue: Promise<unknown> = Promise.resolve();
let pending = 0;

export async function chooseLanguage(next: Locale): Promise<void> {
  const previous = locale();
  void setLocale(next);
  if (!account()) return;
  // The account has this language and no other change is on its way: nothing to send. (With one
  // on its way, this choice must still be sent, or the earlier one would win.)
  if (account()?.language === next && pending === 0) return;
  // Switching twice quickly: only the last choice's answer may set the account (and the UI).
  const mine = ++latest;
  pending++;
  const request = queue.then(() => api.updateAccount({ language: next }));
  queue = request.catch(() => {});
  try {
    const { account: updated } = await request;
    if (mine === latest) updateAccount(updated);
  } catch {
    if (mine !== latest) return;
    void setLocale(previous);
    showToast(t('settings.languageFailed'), 'error');
  } finally {
    pending--;
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
