// German and English. The language comes from the account once logged in, before that from
// localStorage (the user's choice) or else the browser's languages; switching is reactive, so
// every t() call re-renders in place.
import { createSignal } from 'solid-js';
import { de } from './de.ts';
import { en, type MessageKey } from './en.ts';

export type Locale = 'en' | 'de';
export type { MessageKey };
export const LOCALES: readonly Locale[] = ['en', 'de'];
const DICTIONARIES: Record<Locale, Record<MessageKey, string>> = { en, de };
const STORAGE_KEY = 'resistro.locale';

function readStored(): Locale | undefined {
  try {
    const v = globalThis.localStorage?.getItem(STORAGE_KEY);
    return v === 'en' || v === 'de' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The stored choice, else the first browser language we speak, else English. */
export function detectLocale(languages: readonly string[] = globalThis.navigator?.languages ?? []): Locale {
  const stored = readStored();
  if (stored) return stored;
  for (const lang of languages) {
    const base = lang.toLowerCase().slice(0, 2);
    if (base === 'de' || base === 'en') return base;
  }
  return 'en';
}

const [locale, setLocaleSignal] = createSignal<Locale>(detectLocale());

export { locale };

export function setLocale(next: Locale): void {
  setLocaleSignal(next);
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // private mode: the choice lasts for this tab only
  }
  if (typeof document !== 'undefined') document.documentElement.lang = next;
}

// The account's time zone once someone is logged in (dates and times are shown in it);
// undefined before, when the browser's own zone applies.
const [timeZone, setTimeZoneSignal] = createSignal<string | undefined>(undefined);

/** The time zone dates are shown in: the account's, else the browser's. */
export function displayTimeZone(): string | undefined {
  return timeZone();
}

/** Once logged in, the UI follows the account: its language and its time zone. */
export function applyAccountLocale(account: { language?: Locale; timeZone?: string }): void {
  const { language, timeZone: zone } = account;
  if ((language === 'de' || language === 'en') && language !== locale()) setLocale(language);
  setTimeZoneSignal(zone && isKnownTimeZone(zone) ? zone : undefined);
}

function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The browser's time zone, the default for a new account. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** The BCP 47 tag for Intl: the browser's own regional variant when it matches the language. */
export function intlLocale(): string {
  const l = locale();
  const browser = globalThis.navigator?.languages?.find((x) => x.toLowerCase().startsWith(l));
  return browser ?? (l === 'de' ? 'de-DE' : 'en-GB');
}

export type Params = Record<string, string | number>;

/** The message for `key` in the current language with {placeholders} filled in. */
export function t(key: MessageKey, params?: Params): string {
  const text = DICTIONARIES[locale()][key] ?? en[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

/** Plural-aware: picks `<key>_one` or `<key>_other` by the language's plural rules. */
export function tn(key: string, count: number, params?: Params): string {
  const rule = new Intl.PluralRules(locale()).select(count) === 'one' ? 'one' : 'other';
  return t(`${key}_${rule}` as MessageKey, {
    count: new Intl.NumberFormat(intlLocale()).format(count),
    ...params,
  });
}
