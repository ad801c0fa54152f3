// A MySQL/MariaDB dump cut into sections as it streams past (docs/dedup.md): mysqldump and
// mariadb-dump write one consistent stream (engines/mysql.ts says why it stays one), but they mark
// where each table begins with a comment line of their own:
//
//   -- Table structure for table `orders`          → a "data" section named orders (its
//                                                     CREATE TABLE, its rows, its triggers)
//   -- Final view structure for view `v`           ┐
//   -- Dumping events for database 'shop'          ├ the "post-data" section (one, from the first)
//   -- Dumping routines for database 'shop'        ┘
//
// Everything before the first table is "pre-data". Each section is chunked on its own, so a
// table's chunks start at the table and a change in one table never moves the cut points of the
// next; rows come in primary-key order (InnoDB's clustered index; --order-by-primary asks for it).
//
// The cut only names pieces: the sections together are exactly the dump's bytes in order, which a
// restore replays as one script. A marker-like line inside a routine's body (the only place a dump
// has raw multi-line text) cuts a section somewhere else, nothing more. Row data never starts a
// line with "-- ": the tools escape line breaks inside strings.
//
// Memory: at most one marker line (MAX_MARKER bytes) is held back across reads.
import type { DedupWriter } from './writer.ts';

/** A marker line is short: the phrase, a quoted name of at most 64 characters (4 bytes each). */
const MAX_MARKER = 1024;
const NL = 0x0a;
const MARKER =
  /^-- (Table structure for table|Final view structure for view|Dumping events for database|Dumping routines for database) (.*)$/;
const DASHES = Buffer.from('-- ');

export type SplitSection = { kind: 'pre-data' | 'data' | 'post-data'; name: string };

/** The section a marker line starts, or undefined when the line does not start one. */
export function markerSection(line: string, current: SplitSection): SplitSection | undefined {
  const m = MARKER.exec(line);
  if (!m) return undefined;
  if (m[1] === 'Table structure for table') return { kind: 'data', name: unquote(m[2]!) };
  return current.kind === 'post-data' ? undefined : { kind: 'post-data', name: '' };
}

/** `a``b` → a`b (the tools quote names with backticks, doubling one inside) */
function unquote(quoted: string): string {
  const t = quoted.trim();
  return t.length >= 2 && t.startsWith('`') && t.endsWith('`') ? t.slice(1, -1).replaceAll('``', '`') : t;
}

/**
 * Streams a dump into the writer, one section per table. Returns the sections in order (as the
 * writer numbered them).
 */
export async function writeSplitDump(
  writer: DedupWriter,
  input: AsyncIterable<Buffer | string> | Iterable<Buffer>,
): Promise<SplitSection[]> {
  const sections: SplitSection[] = [];
  let current: SplitSection = { kind: 'pre-data', name: '' };
  let sink = writer.open(writer.section(current.kind, current.name));
  sections.push(current);
  /** bytes not yet handed to a section: the start of a line that may be a marker */
  let held: Buffer = Buffer.alloc(0);
  /** `held` (or the next read, when nothing is held) starts at the beginning of a line */
  let atLineStart = true;

  const startSection = async (next: SplitSection) => {
    await sink.end();
    current = next;
    sections.push(next);
    sink = writer.open(writer.section(next.kind, next.name));
  };

  for await (const piece of input) {
    const data = typeof piece === 'string' ? Buffer.from(piece) : piece;
    const buf = held.length > 0 ? Buffer.concat([held, data]) : data;
    held = Buffer.alloc(0);
    let from = 0; // first byte not yet handed over
    let lineStart = atLineStart ? 0 : nextLineStart(buf, 0);
    while (lineStart >= 0 && lineStart < buf.length) {
      const rest = buf.length - lineStart;
      // Not "-- " (or a prefix of it, at the end of the read): not a marker, go to the next line.
      const probe = Math.min(rest, DASHES.length);
      if (buf.compare(DASHES, 0, probe, lineStart, lineStart + probe) !== 0) {
        lineStart = nextLineStart(buf, lineStart);
        continue;
      }
      const end = buf.indexOf(NL, lineStart);
      if (end < 0) {
        // The line goes on in the next read: hold it back while it may still be a marker.
        if (rest <= MAX_MARKER) {
          if (lineStart > from) await sink.push(buf.subarray(from, lineStart));
          held = Buffer.from(buf.subarray(lineStart));
          from = buf.length;
        }
        break;
      }
      const next =
        end - lineStart <= MAX_MARKER
          ? markerSection(buf.toString('utf8', lineStart, end), current)
          : undefined;
      if (next) {
        if (lineStart > from) await sink.push(buf.subarray(from, lineStart));
        from = lineStart;
        await startSection(next);
      }
      lineStart = end + 1;
    }
    if (from < buf.length) await sink.push(buf.subarray(from));
    // The next read starts a line when this one ended with a line break (or what is held does).
    atLineStart = held.length > 0 || (buf.length > 0 ? buf[buf.length - 1] === NL : atLineStart);
  }
  if (held.length > 0) await sink.push(held);
  await sink.end();
  return sections;
}

/** Where the line after the one holding `at` starts; -1 when no line break follows. */
function nextLineStart(buf: Buffer, at: number): number {
  const nl = buf.indexOf(NL, at);
  return nl < 0 ? -1 : nl + 1;
}
