import { describe, expect, it } from 'vitest';
import {
  type ChainBase,
  type ChainSegment,
  findGaps,
  keepFor,
  lsnText,
  planRestore,
  rangesOf,
  walFileName,
  windowOf,
} from './chain.ts';

const MB16 = 16 * 1024 * 1024;
const T0 = Date.parse('2026-12-01T10:00:00Z');
const min = (n: number) => new Date(T0 + n * 60_000);

/** WAL segment number n of timeline 1, closed n minutes after T0. */
function seg(n: number, opts: { missing?: boolean; stream?: string } = {}): ChainSegment {
  const stream = opts.stream ?? '00000001';
  return {
    stream,
    name: walFileName(stream, n * MB16, MB16),
    startPosition: lsnText(n * MB16),
    endPosition: lsnText((n + 1) * MB16),
    startOffset: n * MB16,
    endOffset: (n + 1) * MB16,
    closedAt: min(n),
    lastCommitAt: null,
    missing: opts.missing ?? false,
  };
}

function base(id: string, segment: number, consistentMinute: number): ChainBase {
  return {
    backupId: id,
    stream: '00000001',
    startOffset: segment * MB16 + 40,
    endOffset: segment * MB16 + 4096,
    consistentAt: min(consistentMinute),
  };
}

describe('WAL names and LSNs', () => {
  it("names segments as PostgreSQL does, across the 4 GiB 'log id' boundary", () => {
    expect(walFileName('00000001', 0x3000028, MB16)).toBe('000000010000000000000003');
    expect(walFileName('00000002', 0x1_0000_0000 + 5 * MB16, MB16)).toBe('000000020000000100000005');
    expect(lsnText(0x1_0300_0028)).toBe('1/3000028');
  });
});

describe('gaps', () => {
  it('finds none in an unbroken chain, and names the missing segments of a hole', () => {
    const bases = [base('b1', 2, 2)];
    expect(findGaps('postgres', [seg(2), seg(3), seg(4)], bases, MB16)).toEqual([]);
    const gaps = findGaps('postgres', [seg(2), seg(3), seg(6)], bases, MB16);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({
      after: '000000010000000000000003',
      before: '000000010000000000000006',
      missing: ['000000010000000000000004', '000000010000000000000005'],
    });
  });

  it('counts a segment gone from storage as a hole', () => {
    const gaps = findGaps('postgres', [seg(2), seg(3, { missing: true }), seg(4)], [base('b1', 2, 2)], MB16);
    expect(gaps.map((g) => g.missing)).toEqual([['000000010000000000000003']]);
    const atEnd = findGaps('postgres', [seg(2), seg(3, { missing: true })], [base('b1', 2, 2)], MB16);
    expect(atEnd.map((g) => g.missing)).toEqual([['000000010000000000000003']]);
  });

  it('ignores segments before the oldest base backup', () => {
    expect(findGaps('postgres', [seg(0), seg(2), seg(3)], [base('b1', 2, 2)], MB16)).toEqual([]);
  });

  it('does not name segments for engines without positional names', () => {
    const gaps = findGaps('mariadb', [seg(2), seg(5)], [base('b1', 2, 2)], null);
    expect(gaps[0]?.missing).toEqual([]);
    expect(gaps[0]?.before).toBe(seg(5).name);
  });
});

describe('window and restore plans', () => {
  const segments = [2, 3, 4, 5, 6].map((n) => seg(n));
  const bases = [base('b1', 2, 2), base('b2', 4, 4)];

  it('spans from the oldest usable base backup to the newest segment', () => {
    expect(windowOf(segments, bases)).toEqual({ start: min(2), end: min(6) });
    expect(windowOf([], bases)).toBeNull();
  });

  it('shows a hole between two restorable stretches that the single window hides', () => {
    // segment 4 is missing; b3 starts a new chain after it
    const holed = [2, 3, 5, 6, 7].map((n) => seg(n));
    const withNewBase = [base('b1', 2, 2), base('b3', 5, 5)];
    expect(rangesOf(holed, withNewBase)).toEqual([
      { start: min(2), end: min(3) },
      { start: min(5), end: min(7) },
    ]);
    expect(windowOf(holed, withNewBase)).toEqual({ start: min(2), end: min(7) });
    // overlapping chains merge into one stretch
    expect(rangesOf(segments, bases)).toEqual([{ start: min(2), end: min(6) }]);
    expect(rangesOf([], bases)).toEqual([]);
  });

  it('picks the newest base backup before the target and the segments up to it', () => {
    const plan = planRestore('postgres', segments, bases, { kind: 'time', time: min(4.5) }, MB16);
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.base.backupId).toBe('b2');
    expect(plan.segments.map((s) => s.startOffset / MB16)).toEqual([4, 5]);
    const early = planRestore('postgres', segments, bases, { kind: 'time', time: min(3.5) }, MB16);
    expect(early.ok && early.base.backupId).toBe('b1');
  });

  it('refuses a target before the window or after it', () => {
    expect(planRestore('postgres', segments, bases, { kind: 'time', time: min(1) }, MB16)).toMatchObject({
      ok: false,
      reason: 'before_window',
    });
    expect(planRestore('postgres', segments, bases, { kind: 'time', time: min(60) }, MB16)).toMatchObject({
      ok: false,
      reason: 'after_window',
    });
  });

  it('refuses a restore across a hole, naming the missing segment', () => {
    const holed = segments.filter((s) => s.startOffset !== 5 * MB16);
    const plan = planRestore('postgres', holed, bases, { kind: 'time', time: min(5.9) }, MB16);
    expect(plan).toMatchObject({ ok: false, reason: 'gap', gap: { missing: ['000000010000000000000005'] } });
    // before the hole is still fine
    expect(planRestore('postgres', holed, bases, { kind: 'time', time: min(3.5) }, MB16).ok).toBe(true);
    // and "latest" never silently ends at the hole
    expect(planRestore('postgres', holed, bases, { kind: 'latest' }, MB16)).toMatchObject({ reason: 'gap' });
  });

  it('plans to a position and to the latest point', () => {
    const byOffset = planRestore(
      'postgres',
      segments,
      bases,
      { kind: 'offset', offset: 5 * MB16 + 10 },
      MB16,
    );
    expect(byOffset.ok && byOffset.segments.map((s) => s.startOffset / MB16)).toEqual([4, 5]);
    const latest = planRestore('postgres', segments, bases, { kind: 'latest' }, MB16);
    expect(latest.ok && latest.resolved).toEqual({ time: min(6), offset: 7 * MB16 });
  });
});

describe('retention keeps what the window needs', () => {
  const segments = [2, 3, 4, 5, 6, 7, 8].map((n) => seg(n));
  const bases = [base('b1', 2, 2), base('b2', 4, 4), base('b3', 7, 7)];

  it('keeps the base backup covering the window start and everything after it', () => {
    const keep = keepFor(segments, bases, min(5));
    expect([...keep.bases].sort()).toEqual(['b2', 'b3']);
    expect(keep.fromOffset.get('00000001')).toBe(4 * MB16 + 40);
  });

  it('never drops the newest usable chain, however old', () => {
    const keep = keepFor(segments, bases, min(10_000));
    expect([...keep.bases]).toEqual(['b3']);
    expect(keep.fromOffset.get('00000001')).toBe(7 * MB16 + 40);
  });

  it('keeps a base backup still waiting for its first segments', () => {
    const keep = keepFor(segments, [...bases, base('b4', 20, 20)], min(10_000));
    expect([...keep.bases].sort()).toEqual(['b3', 'b4']);
  });
});
