import { describe, expect, test } from 'vitest';
import { type Read, takeWindow } from './read-windows.ts';

const KiB = 1024;
let ref = 0;
/** a read of one chunk of `length` bytes at `start` of pack `url` (refs numbered in order) */
const read = (url: string, start: number, length = 10 * KiB): Read => ({
  url,
  start,
  end: start + length,
  first: ref++,
  offsets: [0],
});

describe('windows of ranged reads', () => {
  test('reads of one pack interleaved with others share one request per stretch of the pack', () => {
    // pack a's pieces in order, each followed by one of a newer pack (what a table that changes a
    // little every day looks like after a month)
    const queued = [
      read('a', 0),
      read('b', 0),
      read('a', 20 * KiB),
      read('c', 500 * KiB),
      read('a', 40 * KiB),
      read('b', 10 * KiB),
    ];
    const w = takeWindow([...queued]);
    expect(w.reads).toEqual(queued);
    expect(w.fetches).toEqual([
      { url: 'a', start: 0, end: 50 * KiB },
      { url: 'b', start: 0, end: 20 * KiB },
      { url: 'c', start: 500 * KiB, end: 510 * KiB },
    ]);
    expect(w.fetchOf).toEqual([0, 1, 0, 2, 0, 1]);
    expect(w.bytes).toBe(80 * KiB);
  });

  test('a gap wider than the limit is not read through; a read before its stretch extends it', () => {
    const w = takeWindow([read('a', 300 * KiB), read('a', 0), read('a', 290 * KiB)], 4096 * KiB, 256 * KiB);
    // 0 lies 290 KiB before 300: a request of its own; 290 then joins the stretch at 300
    expect(w.fetches).toEqual([
      { url: 'a', start: 290 * KiB, end: 310 * KiB },
      { url: 'a', start: 0, end: 10 * KiB },
    ]);
    expect(w.fetchOf).toEqual([0, 1, 0]);
  });

  test('a window stops before it would hold more than its bytes, gaps counted; the rest stays queued', () => {
    const queued = [read('a', 0, 40 * KiB), read('b', 0, 40 * KiB), read('a', 60 * KiB, 10 * KiB)];
    const w = takeWindow(queued, 100 * KiB, 256 * KiB);
    // the third would stretch a's request to 70 KiB: 110 KiB in all
    expect(w.reads.length).toBe(2);
    expect(w.bytes).toBe(80 * KiB);
    expect(queued.length).toBe(1);
    // a single read larger than a window still makes one
    const big = takeWindow([read('a', 0, 200 * KiB), read('a', 200 * KiB)], 100 * KiB);
    expect(big.reads.length).toBe(1);
    expect(big.bytes).toBe(200 * KiB);
  });
});
