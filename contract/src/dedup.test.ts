import { describe, expect, it } from 'vitest';
import { coalesceReads, READ_GAP_BYTES, READ_RUN_BYTES } from './dedup.ts';

const KiB = 1024;

describe('coalesceReads: the ranged reads of a deduplicated restore', () => {
  it('joins neighbouring chunks of one pack, reading through small gaps', () => {
    const r = coalesceReads([
      { pack: 'a', offset: 0, length: 100 },
      { pack: 'a', offset: 100, length: 50 },
      // a dead chunk of READ_GAP_BYTES between: still one read
      { pack: 'a', offset: 150 + READ_GAP_BYTES, length: 10 },
    ]);
    expect(r.packs).toEqual(['a']);
    expect(r.runs).toEqual([[0, 0, 160 + READ_GAP_BYTES, [0, 100, 150 + READ_GAP_BYTES]]]);
  });

  it('starts a new read for another pack, a larger gap, a step backwards, or a full read', () => {
    const r = coalesceReads([
      { pack: 'a', offset: 0, length: 10 },
      { pack: 'b', offset: 10, length: 10 },
      { pack: 'b', offset: 21 + READ_GAP_BYTES, length: 10 },
      { pack: 'b', offset: 0, length: 10 },
      { pack: 'a', offset: 10, length: READ_RUN_BYTES },
      { pack: 'a', offset: 10 + READ_RUN_BYTES, length: 64 * KiB },
    ]);
    expect(r.packs).toEqual(['a', 'b']);
    expect(r.runs.map(([pack, start, end, offsets]) => [pack, start, end, offsets.length])).toEqual([
      [0, 0, 10, 1],
      [1, 10, 20, 1],
      [1, 21 + READ_GAP_BYTES, 31 + READ_GAP_BYTES, 1],
      [1, 0, 10, 1],
      [0, 10, 10 + READ_RUN_BYTES, 1],
      // adjacent, but the read would grow past READ_RUN_BYTES
      [0, 10 + READ_RUN_BYTES, 10 + READ_RUN_BYTES + 64 * KiB, 1],
    ]);
  });

  it('keeps every reference, in order, repeated ones included', () => {
    const r = coalesceReads([
      { pack: 'a', offset: 0, length: 10 },
      { pack: 'a', offset: 0, length: 10 },
    ]);
    expect(r.runs.reduce((n, run) => n + run[3].length, 0)).toBe(2);
  });
});
