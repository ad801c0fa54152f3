// Dates and sizes as the account reads them: its language's conventions, its time zone.
import { dateTimeFormat } from './intl-cache.ts';
import { intlTag, type Language, type Locale, safeTimeZone } from './language.ts';
import { formatNumber } from './plural.ts';

/** "02.12.2026, 05:30 MEZ" / "02/12/2026, 04:30 UTC": the zone is named, so no one has to guess. */
export function formatDateTime(date: Date, locale: Locale): string {
  return dateTimeFormat(intlTag(locale.language), safeTimeZone(locale.timeZone)).format(date);
}

/** Decimal units as the dashboard shows them: "1,5 GB" in German, "1.5 GB" in English. */
export function formatBytes(language: Language, n: number): string {
  const units = ['kB', 'MB', 'GB', 'TB'];
  if (Math.abs(n) < 1000) return `${formatNumber(language, n)} ${language === 'de' ? 'Byte' : 'bytes'}`;
  let v = n / 1000;
  let u = 0;
  while (Math.abs(v) >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${formatNumber(language, v, v < 10 ? 2 : 1)} ${units[u]}`;
}
