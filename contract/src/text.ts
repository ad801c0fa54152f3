// Text and timestamps the API takes: only what PostgreSQL can store and a JavaScript Date can
// hold. Every string of a request is Text, every time a Timestamp, so a value that would fail
// deep in the worker (a 500) is refused at the edge with the field named (a 422).
import * as v from 'valibot';

/**
 * NUL, or one half of a UTF-16 surrogate pair without the other: PostgreSQL refuses NUL in text
 * and jsonb, and a lone surrogate in jsonb. Without the `u` flag the pattern sees code units.
 */
const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

export const UNSTORABLE_TEXT = 'must not contain NUL characters or unpaired UTF-16 surrogates';
export const isStorableText = (text: string): boolean => !UNSTORABLE.test(text);
/** Each NUL or lone surrogate becomes U+FFFD, as a UTF-8 decoder does with a broken byte. */
export const toStorableText = (text: string): string => text.replace(UNSTORABLE_ALL, '\ufffd');

/** Any string a request carries. RTL text, emoji and combining marks are welcome. */
export const Text = v.pipe(v.string('must be a string'), v.check(isStorableText, UNSTORABLE_TEXT));

const EARLIEST = Date.parse('0001-01-01T00:00:00.000Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * An ISO 8601 timestamp that names a real instant between the years 1 and 9999 (UTC): Date.parse
 * answers NaN for an offset of hours only ("-23") and rolls 2024-02-31 over into March, and
 * PostgreSQL cannot store year 0 or years past 294276. Expects the shape of v.isoTimestamp().
 */
export function isUsableTimestamp(text: string): boolean {
  const ms = Date.parse(text);
  if (!(ms >= EARLIEST && ms <= LATEST)) return false;
  const year = Number(text.slice(0, 4));
  const month = Number(text.slice(5, 7));
  const day = Number(text.slice(8, 10));
  const lastDay = new Date(0);
  lastDay.setUTCFullYear(year, month, 0); // day 0 of the next month: the last of this one
  return day >= 1 && day <= lastDay.getUTCDate();
}

export const TIMESTAMP_MESSAGE = 'must be an ISO 8601 timestamp such as 2024-05-01T02:00:00Z';
export const Timestamp = v.pipe(
  Text,
  v.isoTimestamp(TIMESTAMP_MESSAGE),
  v.check(isUsableTimestamp, 'must be a real date and time between the years 1 and 9999'),
);
