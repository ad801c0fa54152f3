import { describe, expect, it } from 'vitest';
import { type MergeCandidate, mergeCandidates, mergeGroups, mergeReads } from './merge.ts';

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

  it('takes every pack at least half dead, then mostly live ones, most dead first, only while a database keeps more than its share of dead bytes', () => {
    const packs = [
      pack('old', 'db1', 100, 40), // 60 % dead: always
      pack('a', 'db1', 100, 90), // 10 % dead
      pack('b', 'db1', 100, 70), // 30 % dead
      pack('c', 'db1', 100, 80), // 20 % dead
      pack('full', 'db1', 100, 100), // nothing dead: never
      pack('x', 'db2', 100, 85), // 15 % dead
    ];
    // db1 stores 1000 bytes: at most 100 dead may stay. Dead: 60+10+30+20 = 120; after "old" 60,
    // over 100? no (60 <= 100): nothing more.
    expect(
      mergeCandidates(
        packs,
        new Map([
          ['db1', 1000],
          ['db2', 1000],
        ]),
      ).map((p) => p.id),
    ).toEqual(['old']);
    // db1 stores 400 bytes (so 40 may stay): after "old" 60 are left, b (30) brings it to 30.
    expect(
      mergeCandidates(
        packs,
        new Map([
          ['db1', 400],
          ['db2', 100],
        ]),
      ).map((p) => p.id),
    ).toEqual(['old', 'b', 'x']);
    // Nothing may stay dead: every pack with a dead byte, in the order given.
    expect(
      mergeCandidates(
        packs,
        new Map([
          ['db1', 400],
          ['db2', 100],
        ]),
        0.5,
        0,
      ).map((p) => p.id),
    ).toEqual(['old', 'a', 'b', 'c', 'x']);
  });
});
