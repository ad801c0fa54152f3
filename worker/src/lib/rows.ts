// Raw `db.execute` rows: drizzle's Postgres drivers hand timestamps back as text (its own type
// parsers), so rows from hand-written SQL convert them here.
export type RawTime = string | Date;

export function toDate(v: RawTime): Date {
  return v instanceof Date ? v : new Date(/[zZ]|[+-]\d\d(:?\d\d)?$/.test(v) ? v : `${v}Z`);
}

export function toDateOrNull(v: RawTime | null | undefined): Date | null {
  return v === null || v === undefined ? null : toDate(v);
}
