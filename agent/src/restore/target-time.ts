// The moment a point-in-time restore goes to, as users type it: "2026-12-01 15:30:00+01",
// "2026-12-01T14:30:00Z", "2026-12-01 15:30" (no zone: this machine's local time, said in the log).
import { UsageError } from '../errors.ts';

const TIME =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

export function parseTargetTime(text: string): { time: Date; zoneGiven: boolean } {
  const match = TIME.exec(text.trim());
  const invalid = () =>
    new UsageError(
      `--time "${text.slice(0, 60)}" is not a date and time`,
      'Write it as "2026-12-01 15:30:00+01" (or with Z for UTC); without a zone it is this machine\'s local time.',
    );
  if (!match) throw invalid();
  const [, y, mo, d, h, mi, s = '00', fraction = '', zone] = match;
  let iso = `${y}-${mo}-${d}T${h}:${mi}:${s}${fraction}`;
  if (zone) {
    const z = zone.toUpperCase();
    iso +=
      z === 'Z' ? 'Z' : z.length === 3 ? `${z}:00` : z.includes(':') ? z : `${z.slice(0, 3)}:${z.slice(3)}`;
  }
  const time = new Date(iso);
  // Date also accepts 2026-02-31 (as March 3rd): a date that does not exist is refused instead.
  if (
    Number.isNaN(time.getTime()) ||
    (!zone && time.getDate() !== Number(d)) ||
    Number(mo) > 12 ||
    Number(d) > 31 ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  )
    throw invalid();
  if (zone && new Date(`${y}-${mo}-${d}T12:00:00Z`).getUTCDate() !== Number(d)) throw invalid();
  return { time, zoneGiven: Boolean(zone) };
}

/** "mysql-bin.000042:1234" → { file, pos } */
export function parseLogPositionOption(text: string): { file: string; pos: number } {
  const match = /^([A-Za-z0-9_.-]{1,200}\.\d{6,10}):(\d{1,15})$/.exec(text.trim());
  if (!match || Number(match[2]) < 4)
    throw new UsageError(
      `--position "${text.slice(0, 60)}" is not a binlog position`,
      'Write it as <binlog file>:<byte offset>, e.g. mysql-bin.000042:1234 (mariadb-binlog prints them as "# at 1234").',
    );
  return { file: match[1]!, pos: Number(match[2]) };
}
