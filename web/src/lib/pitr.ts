// The "restore to…" helper's logic (issue 13): a moment picked in the dashboard's time zone, checked
// against the stretches a restore can reach, and written into the exact `resistro restore --pitr`
// command the agent accepts (agent/src/cli.ts, agent/src/restore/target-time.ts).
import { zoneOffsetMs } from './format.ts';

export type Span = { start: string; end: string };
export type PitrFamily = 'postgres' | 'mysql';

export function pitrFamily(engine: string): PitrFamily | null {
  if (engine === 'postgres') return 'postgres';
  if (engine === 'mysql' || engine === 'mariadb') return 'mysql';
  return null;
}

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

/** The wall clock of `zone` at `instant`, to the second: [y, m, d, h, mi, s]. */
function wallClock(instant: Date, zone: string): number[] {
  const wall = new Date(Math.floor(instant.getTime() / 1000) * 1000 + zoneOffsetMs(zone, instant.getTime()));
  return [
    wall.getUTCFullYear(),
    wall.getUTCMonth() + 1,
    wall.getUTCDate(),
    wall.getUTCHours(),
    wall.getUTCMinutes(),
    wall.getUTCSeconds(),
  ];
}

/**
 * The moment as `--time` takes it: "2026-12-01 15:30:00+01:00", in `zone` with its offset written
 * out, so the agent never reads it as its own machine's local time.
 */
export function cliTime(instant: Date, zone: string): string {
  const [y, mo, d, h, mi, s] = wallClock(instant, zone) as [number, number, number, number, number, number];
  const offsetMin = Math.round(zoneOffsetMs(zone, instant.getTime()) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const zoneText = `${sign}${pad(Math.floor(Math.abs(offsetMin) / 60))}:${pad(Math.abs(offsetMin) % 60)}`;
  return `${pad(y, 4)}-${pad(mo)}-${pad(d)} ${pad(h)}:${pad(mi)}:${pad(s)}${zoneText}`;
}

/** The value of an `<input type="datetime-local" step="1">` showing `instant` in `zone`. */
export function toLocalInput(instant: Date, zone: string): string {
  const [y, mo, d, h, mi, s] = wallClock(instant, zone) as [number, number, number, number, number, number];
  return `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}`;
}

/** A datetime-local value read as a wall clock time in `zone`; null when it is no time at all. */
export function fromLocalInput(value: string, zone: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?$/.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(wall);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return null;
  // The offset at the wall time read as UTC is right except within hours of a DST change; a
  // second pass with the corrected instant settles it (as lib/format.ts's dayBoundary does).
  const first = wall - zoneOffsetMs(zone, wall);
  return new Date(wall - zoneOffsetMs(zone, first));
}

/** The earliest whole second a restore can reach, and the latest. */
export function restorableBounds(ranges: Span[]): { earliest: Date; latest: Date } | null {
  const first = ranges[0];
  const last = ranges.at(-1);
  if (!first || !last) return null;
  const earliest = new Date(Math.ceil(Date.parse(first.start) / 1000) * 1000);
  const latest = new Date(Math.floor(Date.parse(last.end) / 1000) * 1000);
  // a window shorter than its own second (just started): no whole second lies inside it yet
  return earliest.getTime() <= latest.getTime() ? { earliest, latest } : null;
}

export type MomentCheck =
  | { ok: true }
  | { ok: false; reason: 'nothing' }
  | { ok: false; reason: 'before'; earliest: Date }
  | { ok: false; reason: 'after'; latest: Date }
  | { ok: false; reason: 'hole'; from: Date; to: Date };

/**
 * Whether a restore can reach `moment` (taken to the whole second, as the command writes it): it
 * must lie inside one of the restorable stretches. The control plane refuses the same moments
 * (worker/src/pitr/chain.ts planRestore); saying so here spares the user a failed command.
 */
export function checkMoment(moment: Date, ranges: Span[]): MomentCheck {
  const bounds = restorableBounds(ranges);
  if (!bounds) return { ok: false, reason: 'nothing' };
  const t = Math.floor(moment.getTime() / 1000) * 1000;
  if (t < bounds.earliest.getTime()) return { ok: false, reason: 'before', earliest: bounds.earliest };
  if (t > bounds.latest.getTime()) return { ok: false, reason: 'after', latest: bounds.latest };
  for (const [i, r] of ranges.entries()) {
    if (t >= Date.parse(r.start) && t <= Date.parse(r.end)) return { ok: true };
    const next = ranges[i + 1];
    if (next && t > Date.parse(r.end) && t < Date.parse(next.start))
      return { ok: false, reason: 'hole', from: new Date(r.end), to: new Date(next.start) };
  }
  // between the ceiling of the first start and that start's own millisecond: inside the first
  return { ok: true };
}

/** A shell word: as it is when it is plain, else in single quotes. */
export function shellWord(text: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(text)) return text;
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

export type RestoreTarget = { kind: 'time'; instant: Date; zone: string } | { kind: 'latest' };

export type CommandOptions =
  | { family: 'postgres'; databaseId: string; target: RestoreTarget; dataDir: string }
  | {
      family: 'mysql';
      databaseId: string;
      target: RestoreTarget;
      host: string;
      port: number | null;
      database: string;
      user: string;
    };

/**
 * The command as `resistro restore --pitr` takes it (agent/src/cli.ts): the database by its id
 * (names need not be unique), exactly one of --time/--latest, then where to restore: PostgreSQL
 * a new data directory, MySQL/MariaDB a new database on a server.
 */
export function restoreCommand(o: CommandOptions): string {
  const target =
    o.target.kind === 'latest' ? '--latest' : `--time "${cliTime(o.target.instant, o.target.zone)}"`;
  const head = `resistro restore --pitr --from ${o.databaseId} ${target}`;
  if (o.family === 'postgres') return `${head} \\\n  --data-dir ${shellWord(o.dataDir)}`;
  const port = o.port === null ? '' : ` --port ${o.port}`;
  return `${head} \\\n  --host ${shellWord(o.host)}${port} --database ${shellWord(o.database)} --user ${shellWord(o.user)}`;
}
