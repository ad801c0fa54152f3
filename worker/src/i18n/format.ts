// Dates and sizes as the account reads them: its language's conventions, its time zone.
import { formatBytes as formatBytesIn } from '@resistro/contract';
import { dateTimeFormat } from './intl-cache.ts';
import { intlTag, type Language, type Locale, safeTimeZone } from './language.ts';

/** "02.12.2026, 05:30 MEZ" / "02/12/2026, 04:30 UTC": the zone is named, so no one has to guess. */
export function formatDateTime(date: Date, locale: Locale): string {
  return dateTimeFormat(intlTag(locale.language), safeTimeZone(locale.timeZone)).format(date);
}

/** Decimal units as the dashboard shows them: "1,5 GB" in German, "1.5 GB" in English. */
export function formatBytes(language: Language, n: number): string {
  return formatBytesIn(n, intlTag(language));
}
