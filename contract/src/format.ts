// Sizes as people read them, the same in the dashboard, alert texts and e-mails. Browser-safe.

const UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const;

/**
 * Decimal units, like the plans (5 GB = 5·10⁹ bytes), in the conventions of `locale` (a BCP 47
 * tag): "1.5 GB" / "1,5 GB", "250 kB", "12 Byte".
 */
export function formatBytes(bytes: number, locale: string): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return new Intl.NumberFormat(locale, {
    style: 'unit',
    unit: UNITS[unit],
    unitDisplay: 'short',
    maximumFractionDigits: unit === 0 || Math.abs(value) >= 100 ? 0 : 1,
  })
    .format(value)
    .replace(/[\u00a0\u202f]/g, ' '); // one plain space, as in e-mails and Slack texts
}
