// The continuity of a server's log, as pure functions over the registry: where the segments
// leave a hole (a gap), which points a restore can reach (the window), and which base backup and
// segments a restore to one point needs. No database, no storage: unit-tested on its own.

export type ChainSegment = {
  stream: string;
  name: string;
  startPosition: string;
  endPosition: string;
  startOffset: number;
  endOffset: number;
  closedAt: Date;
  lastCommitAt: Date | null;
  /** storage no longer has the object: as good as never uploaded */
  missing: boolean;
};

export type ChainBase = {
  backupId: string;
  stream: string;
  startOffset: number;
  endOffset: number;
  consistentAt: Date;
};

export type Gap = {
  stream: string;
  after: string | null;
  before: string | null;
  fromOffset: number;
  toOffset: number | null;
  fromPosition: string;
  toPosition: string | null;
  missing: string[];
};

const MAX_NAMED = 20;

/** PostgreSQL's WAL file name of the segment holding `offset` (an LSN) on timeline `stream`. */
export function walFileName(stream: string, offset: number, segmentSize: number): string {
  const segno = Math.floor(offset / segmentSize);
  const perId = Math.floor(0x1_0000_0000 / segmentSize);
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
  return `${stream.toUpperCase().padStart(8, '0')}${hex(Math.floor(segno / perId))}${hex(segno % perId)}`;
}

/** "0/3000028" as PostgreSQL prints an LSN. */
export function lsnText(offset: number): string {
  const hi = Math.floor(offset / 0x1_0000_0000);
  const lo = offset % 0x1_0000_0000;
  return `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()}`;
}

/** The names of the segments in [from, to) where the engine names them by position (PostgreSQL). */
function missingNames(
  engine: string,
  stream: string,
  from: number,
  to: number | null,
  segmentSize: number | null,
): string[] {
  if (engine !== 'postgres' || !segmentSize || to === null) return [];
  const names: string[] = [];
  for (
    let at = Math.floor(from / segmentSize) * segmentSize;
    at < to && names.length < MAX_NAMED;
    at += segmentSize
  )
    names.push(walFileName(stream, at, segmentSize));
  return names;
}

/**
 * What a hole in [from, to) lacks: the segments registered there that storage lost (by the cron's
 * check), else the names the engine gives the positions (PostgreSQL, when the segment size is
 * known). A hole at the very start of a chain has no segment before it to derive names from, and
 * the agent may not have reported its segment size: the registry still knows what it lost.
 */
function holeNames(
  engine: string,
  segments: ChainSegment[],
  stream: string,
  from: number,
  to: number,
  segmentSize: number | null,
): string[] {
  const lost = segments
    .filter((x) => x.stream === stream && x.missing && x.endOffset > from && x.startOffset < to)
    .sort((a, b) => a.startOffset - b.startOffset)
    .slice(0, MAX_NAMED)
    .map((x) => x.name);
  return lost.length > 0 ? lost : missingNames(engine, stream, from, to, segmentSize);
}

/** Segments of one stream that storage still has, in order. */
function present(segments: ChainSegment[], stream: string): ChainSegment[] {
  return segments
    .filter((s) => s.stream === stream && !s.missing)
    .sort((a, b) => a.startOffset - b.startOffset || a.endOffset - b.endOffset);
}

/**
 * Every hole in the log from the oldest base backup on: between two segments, or between a base
 * backup's start and the first segment after it. Segments before the oldest base backup cannot
 * be restored from and do not count.
 */
export function findGaps(
  engine: string,
  segments: ChainSegment[],
  bases: ChainBase[],
  segmentSize: number | null,
): Gap[] {
  const gaps: Gap[] = [];
  const streams = [...new Set([...bases.map((b) => b.stream)])].sort();
  for (const stream of streams) {
    const from = Math.min(...bases.filter((b) => b.stream === stream).map((b) => b.startOffset));
    let covered = from;
    let last: ChainSegment | null = null;
    for (const s of present(segments, stream)) {
      if (s.endOffset <= covered) {
        last = s;
        continue;
      }
      if (s.startOffset > covered) {
        gaps.push({
          stream,
          after: last?.name ?? null,
          before: s.name,
          fromOffset: covered,
          toOffset: s.startOffset,
          fromPosition: last?.endPosition ?? `${covered}`,
          toPosition: s.startPosition,
          missing: holeNames(engine, segments, stream, covered, s.startOffset, segmentSize),
        });
      }
      covered = Math.max(covered, s.endOffset);
      last = s;
    }
    // A segment registered but gone from storage at the very end: also a hole, up to nothing.
    const lost = segments
      .filter((s) => s.stream === stream && s.missing && s.startOffset >= covered)
      .sort((a, b) => a.startOffset - b.startOffset)[0];
    if (lost) {
      gaps.push({
        stream,
        after: last?.name ?? null,
        before: null,
        fromOffset: covered,
        toOffset: null,
        fromPosition: last?.endPosition ?? `${covered}`,
        toPosition: null,
        missing: [lost.name],
      });
    }
  }
  return gaps;
}

/** How far a base backup's chain of segments reaches without a hole. */
export type Reach = { base: ChainBase; segments: ChainSegment[]; endOffset: number; endTime: Date | null };

export function reachOf(base: ChainBase, segments: ChainSegment[]): Reach {
  const chain: ChainSegment[] = [];
  let covered = base.startOffset;
  let endTime: Date | null = null;
  for (const s of present(segments, base.stream)) {
    if (s.endOffset <= covered) continue;
    if (s.startOffset > covered) break;
    chain.push(s);
    covered = s.endOffset;
    endTime = s.lastCommitAt ?? s.closedAt;
  }
  return { base, segments: chain, endOffset: covered, endTime };
}

/** A base backup can be restored once its chain reaches its consistent point. */
const usable = (r: Reach) => r.endOffset >= r.base.endOffset && r.endTime !== null;

/** The earliest and latest point any base backup's unbroken chain reaches. */
export function windowOf(segments: ChainSegment[], bases: ChainBase[]): { start: Date; end: Date } | null {
  const reaches = bases.map((b) => reachOf(b, segments)).filter(usable);
  if (reaches.length === 0) return null;
  const start = new Date(Math.min(...reaches.map((r) => r.base.consistentAt.getTime())));
  const end = new Date(
    Math.max(...reaches.map((r) => Math.max(r.endTime!.getTime(), r.base.consistentAt.getTime()))),
  );
  return { start, end };
}

/**
 * The stretches of time a restore can reach, oldest first: each usable base backup reaches from
 * its consistent point to the end of its unbroken chain; overlapping stretches merge. A gap
 * followed by a new base backup leaves a hole between two stretches that windowOf's single
 * start and end do not show.
 */
export function rangesOf(segments: ChainSegment[], bases: ChainBase[]): Array<{ start: Date; end: Date }> {
  const spans = bases
    .map((b) => reachOf(b, segments))
    .filter(usable)
    .map((r) => ({
      start: r.base.consistentAt,
      end: new Date(Math.max(r.endTime!.getTime(), r.base.consistentAt.getTime())),
    }))
    .sort((a, b) => a.start.getTime() - b.start.getTime());
  const merged: Array<{ start: Date; end: Date }> = [];
  for (const s of spans) {
    const last = merged.at(-1);
    if (last && s.start.getTime() <= last.end.getTime()) {
      if (s.end.getTime() > last.end.getTime()) last.end = s.end;
    } else merged.push({ ...s });
  }
  return merged;
}

export type Target = { kind: 'time'; time: Date } | { kind: 'offset'; offset: number } | { kind: 'latest' };

export type PlanResult =
  | {
      ok: true;
      base: ChainBase;
      segments: ChainSegment[];
      resolved: { time: Date | null; offset: number | null };
    }
  | {
      ok: false;
      reason: 'no_base_backup' | 'before_window' | 'after_window';
      window: { start: Date; end: Date } | null;
    }
  | { ok: false; reason: 'gap'; gap: Gap };

/**
 * The base backup and segments for a restore to `target`: the newest base backup consistent
 * before the target, and its segments up to the first one that reaches past the target. A hole on
 * the way refuses the plan, naming the hole: a restore never silently stops early.
 */
export function planRestore(
  engine: string,
  segments: ChainSegment[],
  bases: ChainBase[],
  target: Target,
  segmentSize: number | null,
): PlanResult {
  const window = windowOf(segments, bases);
  if (bases.length === 0) return { ok: false, reason: 'no_base_backup', window };
  const sorted = [...bases].sort((a, b) => b.consistentAt.getTime() - a.consistentAt.getTime());
  const base =
    target.kind === 'time'
      ? sorted.find((b) => b.consistentAt.getTime() <= target.time.getTime())
      : target.kind === 'offset'
        ? sorted.find((b) => b.endOffset <= target.offset)
        : sorted[0];
  if (!base) return { ok: false, reason: 'before_window', window };
  const reach = reachOf(base, segments);
  const reaches = (s: ChainSegment) =>
    target.kind === 'time'
      ? (s.lastCommitAt ?? s.closedAt).getTime() >= target.time.getTime()
      : target.kind === 'offset'
        ? s.endOffset >= target.offset
        : false;
  const holeAfter = (): Gap | null =>
    findGaps(engine, segments, [base], segmentSize).find((g) => g.fromOffset >= base.startOffset) ?? null;
  if (target.kind === 'latest') {
    const gap = holeAfter();
    if (gap) return { ok: false, reason: 'gap', gap };
    if (!usable(reach)) return { ok: false, reason: 'after_window', window };
    return {
      ok: true,
      base,
      segments: reach.segments,
      resolved: { time: reach.endTime, offset: reach.endOffset },
    };
  }
  const upTo = reach.segments.findIndex(reaches);
  if (upTo >= 0 && reach.segments[upTo]!.endOffset >= base.endOffset) {
    return {
      ok: true,
      base,
      segments: reach.segments.slice(0, upTo + 1),
      resolved:
        target.kind === 'time' ? { time: target.time, offset: null } : { time: null, offset: target.offset },
    };
  }
  // The chain stops before the target: a hole if anything later exists, else the target is too new.
  const gap = holeAfter();
  if (gap) return { ok: false, reason: 'gap', gap };
  return { ok: false, reason: 'after_window', window };
}

/**
 * What retention keeps for a window starting at `windowStart`: the newest usable base backup
 * consistent at or before the window start (or the oldest one, if none is that old) and every
 * later one; every segment from the oldest kept base backup's start on. The newest usable chain
 * is always kept, whatever its age.
 */
export function keepFor(
  segments: ChainSegment[],
  bases: ChainBase[],
  windowStart: Date,
): { bases: Set<string>; fromOffset: Map<string, number> } {
  const reaches = bases.map((b) => reachOf(b, segments));
  const good = reaches
    .filter(usable)
    .sort((a, b) => a.base.consistentAt.getTime() - b.base.consistentAt.getTime());
  const keep = new Set<string>();
  // Base backups not (yet) usable are kept: the newest one may still be gathering its segments.
  for (const r of reaches) if (!usable(r)) keep.add(r.base.backupId);
  const anchorIndex = good.findLastIndex((r) => r.base.consistentAt.getTime() <= windowStart.getTime());
  const first = Math.max(anchorIndex, 0);
  for (const r of good.slice(first)) keep.add(r.base.backupId);
  const fromOffset = new Map<string, number>();
  for (const b of bases) {
    if (!keep.has(b.backupId)) continue;
    const current = fromOffset.get(b.stream);
    if (current === undefined || b.startOffset < current) fromOffset.set(b.stream, b.startOffset);
  }
  return { bases: keep, fromOffset };
}
