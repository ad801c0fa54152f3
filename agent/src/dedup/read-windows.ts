// The ranged reads of a restore from storage, grouped into windows (remote-read.ts).
//
// The service's read plan (contract coalesceReads) joins only chunks that follow each other in the
// manifest AND in one pack. A backup of a database that changes a little every day interleaves old
// pieces with the newer packs that replaced a few rows each (day 30 of bench:dedup: a piece of pack
// 1, one of pack 17, the next of pack 1 again ...), so that plan is hundreds of small reads, each a
// request with its latency, and a fixed number of them in flight holds very few bytes.
//
// A window takes the plan's reads in order until it would hold READ_RUN_BYTES (gaps read through
// included), and fetches what it needs per pack: reads of one pack at most READ_GAP_BYTES apart
// become one ranged request. A restore keeps a few windows in flight (one permit each), so the
// memory bound stays what it was per read: a window holds ≤ READ_RUN_BYTES, whatever the plan.

import { READ_GAP_BYTES, READ_RUN_BYTES } from '@resistro/contract';

/** One read of the plan: refs [first, first + offsets.length) at these offsets from `start`. */
export type Read = { url: string; start: number; end: number; first: number; offsets: number[] };

/** One ranged request of a window: bytes [start, end) of the object at `url`. */
export type Fetch = { url: string; start: number; end: number };

export type ReadWindow = {
  /** the plan's reads, in order (the refs they serve follow each other) */
  reads: Read[];
  fetches: Fetch[];
  /** for each read, the index of the fetch that holds it */
  fetchOf: number[];
  /** bytes the window's fetches hold together */
  bytes: number;
};

/**
 * Takes reads from the front of `queued` (which it shortens) into one window: at least one read,
 * then as many as fit in `maxBytes`, counted as the bytes of the window's fetches.
 */
export function takeWindow(queued: Read[], maxBytes = READ_RUN_BYTES, gap = READ_GAP_BYTES): ReadWindow {
  const w: ReadWindow = { reads: [], fetches: [], fetchOf: [], bytes: 0 };
  const byUrl = new Map<string, number[]>();
  while (queued.length > 0) {
    const r = queued[0]!;
    const size = r.end - r.start;
    let into = -1;
    let grown = 0;
    for (const i of byUrl.get(r.url) ?? []) {
      const f = w.fetches[i]!;
      if (r.start > f.end + gap || f.start > r.end + gap) continue;
      const span = Math.max(f.end, r.end) - Math.min(f.start, r.start);
      if (span > maxBytes) continue;
      into = i;
      grown = span - (f.end - f.start);
      break;
    }
    const added = into >= 0 ? grown : size;
    if (w.reads.length > 0 && w.bytes + added > maxBytes) break;
    queued.shift();
    if (into >= 0) {
      const f = w.fetches[into]!;
      f.start = Math.min(f.start, r.start);
      f.end = Math.max(f.end, r.end);
    } else {
      into = w.fetches.push({ url: r.url, start: r.start, end: r.end }) - 1;
      const list = byUrl.get(r.url);
      if (list) list.push(into);
      else byUrl.set(r.url, [into]);
    }
    w.bytes += added;
    w.reads.push(r);
    w.fetchOf.push(into);
  }
  return w;
}
