// Keyset cursors: (timestamp, id) of the last row of a page, opaque to clients. A cursor comes
// back from the client, so it is decoded as untrusted input: only the exact form encodeCursor
// writes is accepted, and anything else is a 422 naming `cursor`, never a value PostgreSQL
// refuses (a 500).
import { isUsableTimestamp } from '@resistro/contract';
import { ApiError } from '../errors.ts';

export type Cursor = { at: Date; id: string };

/** What Date#toISOString writes for the years 0–9999. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** A UUID as PostgreSQL writes it; encodeCursor only ever sees ids read from the database. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(at: Date, id: string): string {
  return btoa(JSON.stringify({ t: at.toISOString(), id })).replace(/=+$/, '');
}

/** `idPattern`: ids of another shape than a UUID (e.g. Paddle's `txn_…`), checked the same way. */
export function decodeCursor(text: string, idPattern: RegExp = UUID): Cursor {
  let decoded: unknown;
  try {
    decoded = JSON.parse(atob(text));
  } catch {
    decoded = undefined;
  }
  if (decoded && typeof decoded === 'object' && !Array.isArray(decoded)) {
    const { t, id } = decoded as Record<string, unknown>;
    if (typeof t === 'string' && typeof id === 'string' && ISO_UTC.test(t) && idPattern.test(id)) {
      const at = new Date(t);
      if (isUsableTimestamp(t) && at.toISOString() === t) return { at, id };
    }
  }
  throw new ApiError('validation_failed', 'Invalid input: cursor is not one this API handed out', {
    cursor: 'is not one this API handed out',
  });
}
