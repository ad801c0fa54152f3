import { createUniqueId, type JSX } from 'solid-js';
import { type Locale, locale, setLocale, t } from '../i18n/index.ts';

const NAMES: Record<Locale, string> = { de: 'Deutsch', en: 'English' };

export function LangSwitch(props: { class?: string }): JSX.Element {
  const id = createUniqueId();
  return (
    <div class={`lang-switch ${props.class ?? ''}`}>
      <label for={id} class="sr-only">
        {t('lang.label')}
      </label>
      <select id={id} value={locale()} onChange={(e) => setLocale(e.currentTarget.value as Locale)}>
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
