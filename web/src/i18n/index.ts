// German and English. The language comes from the account once logged in, before that from
// localStorage (the user's choice) or else the browser's languages; switching is reactive, so
// every t() call re-renders in place.
//
// Each language's texts are a chunk of their own, loaded when the language is first used: a visit
// downloads one language (index.tsx waits for it before the first render), a switch the other.
import { batch, createSignal } from 'solid-js';
import type { MessageKey } from './en.ts';

export type Locale = 'en' | 'de';
export type { MessageKey };
export const LOCALES: readonly Locale[] = ['en', 'de'];
type Dictionary = Record<MessageKey, string>;
const LOADERS: Record<Locale, () => Promise<Dictionary>> = {
  en: () => import('./en.ts').then((m) => m.en),
  de: () => import('./de.ts').then((m) => m.de),
};
const loaded = new Map<Locale, Dictionary>();
const loading = new Map<Locale, Promise<Dictionary>>();
const STORAGE_KEY = 'resistro.locale';

/** The language's texts, fetched once; later calls get the same promise or the cached texts. */
export function loadLocale(l: Locale): Promise<Dictionary> {
  const done = loaded.get(l);
  if (done) return Promise.resolve(done);
  let p = loading.get(l);
  if (!p) {
    p = LOADERS[l]().then((d) => {
      loaded.set(l, d);
      return d;
    });
    // a failed fetch (network) may be retried by the next switch
    p.catch(() => loading.delete(l));
    loading.set(l, p);
  }
  return p;
}

/** Whether the language's texts are here (the other language loads only on a switch). */
export function isLocaleLoaded(l: Locale): boolean {
  return loaded.has(l);
}

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
const [dictionary, setDictionary] = createSignal<Dictionary | undefined>(undefined);

export { locale };

let wanted: Locale = locale();

/** Shows `next` once its texts are here (at once when they already are); the latest choice wins. */
function show(next: Locale): Promise<void> {
  wanted = next;
  const apply = (d: Dictionary) => {
    if (wanted !== next) return;
    batch(() => {
      setDictionary(d);
      setLocaleSignal(next);
    });
    if (typeof document !== 'undefined') document.documentElement.lang = next;
  };
  const ready = loaded.get(next);
  if (ready) {
    apply(ready);
    return Promise.resolve();
  }
  return loadLocale(next).then(apply);
}

/** The user's choice of language: remembered in this browser, shown once its texts are here. */
export function setLocale(next: Locale): Promise<void> {
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // private mode: the choice lasts for this tab only
  }
  return show(next);
}

/** Before the first render: the detected language's texts (and only those) are fetched. */
export async function startLocale(): Promise<void> {
  await show(locale());
  // the account's language may have been chosen meanwhile (the session answered first)
  if (!dictionary() || wanted !== locale()) await show(wanted);
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
  if ((language === 'de' || language === 'en') && language !== wanted) void setLocale(language);
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
  // Only before the texts arrived would the key show; index.tsx renders after they did.
  const text = dictionary()?.[key] ?? key;
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
