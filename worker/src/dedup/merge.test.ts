import { describe, expect, it } from 'vitest';
import { type MergeCandidate, mergeGroups, mergeReads } from './merge.ts';

const pack = (id: string, databaseId: string, sizeBytes: number, liveBytes: number): MergeCandidate => ({
  id,
  objectKey: `${id}.pack`,
  databaseId,
  sizeBytes,
  liveBytes,
});

describe('pack merge planning', () => {
  it('groups packs of one database up to the target of live bytes, and keeps only groups that free enough', () => {
    const groups = mergeGroups(
      [
        pack('a', 'db1', 100, 30),
        pack('b', 'db2', 100, 10),
        pack('c', 'db1', 100, 40),
        pack('d', 'db1', 100, 50),
        pack('e', 'db2', 100, 45),
        pack('f', 'db1', 100, 200), // more live bytes than a merged pack takes: never read
      ],
      100,
      80,
    );
    // db1: a+c (70 live, frees 130), then d alone (frees 50: too little); db2: b+e (55, frees 145)
    expect(groups.map((g) => g.map((p) => p.id))).toEqual([
      ['b', 'e'],
      ['a', 'c'],
    ]);
  });

  it('reads runs of live chunks with one ranged read, over small dead gaps only, pack by pack', () => {
    const reads = mergeReads(
      [
        { chunkId: '1', packId: 'p', offset: 0, length: 10 },
        { chunkId: '2', packId: 'p', offset: 15, length: 10 },
        { chunkId: '3', packId: 'p', offset: 100, length: 10 },
        { chunkId: '4', packId: 'q', offset: 110, length: 10 },
        { chunkId: '5', packId: 'q', offset: 120, length: 30 },
      ],
      5,
      35,
    );
    expect(reads.map((r) => [r.packId, r.start, r.end, r.chunks.map((c) => c.chunkId).join('')])).toEqual([
      ['p', 0, 25, '12'],
      ['p', 100, 110, '3'],
      ['q', 110, 120, '4'],
      ['q', 120, 150, '5'],
    ]);
  });
});
