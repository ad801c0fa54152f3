// Dates, sizes and durations through Intl, in the current language.
import { formatBytes as formatBytesIn } from '@resistro/contract/format';
import { displayTimeZone, intlLocale } from '../i18n/index.ts';

/** Decimal units, like the plans (5 GB = 5·10⁹ bytes); the one formatter the worker uses too. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '–';
  return formatBytesIn(bytes, intlLocale());
}

/** In the account's time zone unless a schedule's own zone is asked for. */
export function formatDateTime(iso: string | Date | null | undefined, timeZone?: string): string {
  if (!iso) return '–';
  const zone = timeZone ?? displayTimeZone();
  return new Intl.DateTimeFormat(intlLocale(), {
    dateStyle: 'medium',
    timeStyle: 'short',
    ...(zone && { timeZone: zone }),
  }).format(new Date(iso));
}

/** Date and time to the second: a moment a point-in-time restore can go to. */
export function formatMoment(iso: string | Date | null | undefined): string {
  if (!iso) return '–';
  const zone = displayTimeZone();
  return new Intl.DateTimeFormat(intlLocale(), {
    dateStyle: 'medium',
    timeStyle: 'medium',
    ...(zone && { timeZone: zone }),
  }).format(new Date(iso));
}

/** Weekday, date and time, e.g. for the next runs of a schedule in its own time zone. */
export function formatRun(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat(intlLocale(), {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZone,
  }).format(date);
}

export function formatDate(iso: string | Date): string {
  const zone = displayTimeZone();
  return new Intl.DateTimeFormat(intlLocale(), {
    dateStyle: 'medium',
    ...(zone && { timeZone: zone }),
  }).format(new Date(iso));
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(intlLocale()).format(n);
}

export function formatPercent(fraction: number): string {
  return new Intl.NumberFormat(intlLocale(), {
    style: 'percent',
    maximumFractionDigits: fraction < 0.1 ? 1 : 0,
  }).format(fraction);
}

export function formatPrice(eur: number): string {
  return new Intl.NumberFormat(intlLocale(), {
    style: 'currency',
    currency: 'EUR',
    maximumFractionDigits: 0,
  }).format(eur);
}

/** 850 ms, 12 s, 3 min 20 s, 1 h 5 min. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  const unit = (value: number, u: 'millisecond' | 'second' | 'minute' | 'hour', digits = 0) =>
    new Intl.NumberFormat(intlLocale(), {
      style: 'unit',
      unit: u,
      unitDisplay: 'narrow',
      maximumFractionDigits: digits,
    }).format(value);
  if (ms < 1000) return unit(ms, 'millisecond');
  if (ms < 60_000) return unit(ms / 1000, 'second', ms < 10_000 ? 1 : 0);
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600) {
    const s = totalSeconds % 60;
    return `${unit(Math.floor(totalSeconds / 60), 'minute')}${s ? ` ${unit(s, 'second')}` : ''}`;
  }
  const minutes = Math.round(totalSeconds / 60);
  const m = minutes % 60;
  return `${unit(Math.floor(minutes / 60), 'hour')}${m ? ` ${unit(m, 'minute')}` : ''}`;
}

const STEPS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 30],
  ['month', 12],
  ['year', Number.POSITIVE_INFINITY],
];

/**
 * "12 seconds ago", "in 3 hours". `tense` clamps clock skew between the browser and the server:
 * a backup that just finished, stamped by a server clock a few seconds ahead, reads "now", never
 * "in 5 seconds"; a next run that is due reads "now", never "5 seconds ago".
 */
export function formatRelative(
  iso: string | Date | null | undefined,
  now = new Date(),
  tense?: 'past' | 'future',
): string {
  if (!iso) return '–';
  let value = (new Date(iso).getTime() - now.getTime()) / 1000;
  if (tense === 'past') value = Math.min(0, value);
  if (tense === 'future') value = Math.max(0, value);
  const rtf = new Intl.RelativeTimeFormat(intlLocale(), { numeric: 'auto', style: 'long' });
  for (const [unit, size] of STEPS) {
    if (Math.abs(value) < size) return rtf.format(Math.round(value), unit);
    value /= size;
  }
  return rtf.format(Math.round(value), 'year');
}

/** How far `zone`'s wall clock is ahead of UTC at the instant `utcMs`. */
export function zoneOffsetMs(zone: string, utcMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return wall - Math.floor(utcMs / 1000) * 1000;
}

/**
 * A calendar day (YYYY-MM-DD) in the account's time zone (the browser's before log-in), as the
 * instant it starts or ends: the same days the dates in the lists are shown in.
 */
export function dayBoundary(day: string, end: boolean): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const zone = displayTimeZone();
  if (!zone) {
    const d = new Date(`${day}T${end ? '23:59:59.999' : '00:00:00'}`);
    return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
  }
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const wall = end ? Date.UTC(y, m - 1, d, 23, 59, 59, 999) : Date.UTC(y, m - 1, d);
  const check = new Date(wall);
  if (check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) return undefined; // 2026-13-45
  // The offset at the wall time read as UTC is right except within hours of a DST change;
  // a second pass with the corrected instant settles it.
  const first = wall - zoneOffsetMs(zone, wall);
  return new Date(wall - zoneOffsetMs(zone, first)).toISOString();
}

/** An amount in a currency's minor unit (Paddle's totals): "34,51 €" / "€34.51". */
export function formatMoney(money: { amount: string; currency: string }): string {
  return new Intl.NumberFormat(intlLocale(), { style: 'currency', currency: money.currency }).format(
    Number(money.amount) / 100,
  );
}
