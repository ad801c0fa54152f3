// The account's language and time zone, and the request's language before anyone logged in.
import { LANGUAGES, type Language } from '@resistro/contract';

export type { Language };
export type Locale = { language: Language; timeZone: string };
export const DEFAULT_LOCALE: Locale = { language: 'en', timeZone: 'UTC' };

export function isLanguage(value: unknown): value is Language {
  return (LANGUAGES as readonly unknown[]).includes(value);
}

/** The best of our languages by the Accept-Language header's q-values; English when none fits. */
export function languageFromHeader(header: string | null | undefined): Language {
  if (!header) return 'en';
  let best: { lang: Language; q: number } | undefined;
  for (const part of header.slice(0, 500).split(',')) {
    const [tag = '', ...params] = part.trim().split(';');
    const base = tag.trim().toLowerCase().slice(0, 2);
    if (!isLanguage(base)) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (Number.isFinite(q) && q > 0 && (!best || q > best.q)) best = { lang: base, q };
  }
  return best?.lang ?? 'en';
}

/** The BCP 47 tag for Intl: 24-hour clocks and day-first dates in both languages. */
export function intlTag(language: Language): string {
  return language === 'de' ? 'de-DE' : 'en-GB';
}

const knownZones = new Map<string, string>();

/** A stored time zone Intl cannot use (removed from the runtime's data) falls back to UTC. */
export function safeTimeZone(timeZone: string): string {
  let zone = knownZones.get(timeZone);
  if (zone === undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone });
      zone = timeZone;
    } catch {
      zone = 'UTC';
    }
    knownZones.set(timeZone, zone);
  }
  return zone;
}
