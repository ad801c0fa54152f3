import { PitrBaseBackupBody, PitrSegmentInput } from '@resistro/contract';
import * as v from 'valibot';
import { expect, test } from 'vitest';
import { baseBackupInput, binlogOffset, segmentInput } from './plane-store.ts';
import type { LogSegmentMeta } from './segment-file.ts';

const file = { bytes: Buffer.from('ciphertext'), sha256: 'a'.repeat(64) };
const meta = (over: Partial<LogSegmentMeta>): LogSegmentMeta => ({
  engine: 'mariadb',
  stream: 'mysql-bin.000007',
  start: 0,
  end: 500,
  firstEventAt: 1_764_000_000,
  lastEventAt: 1_764_000_005,
  final: false,
  ...over,
});

test('binlog segments map onto the registry as one unbroken range across files', () => {
  const first = segmentInput(meta({}), file);
  const last = segmentInput(meta({ start: 500, end: 900, final: true }), file);
  const next = segmentInput(meta({ stream: 'mysql-bin.000008', start: 0, end: 300 }), file);
  expect(first).toMatchObject({
    stream: 'mysql-bin',
    name: 'mysql-bin.000007.0-500',
    startOffset: 7 * 2 ** 32,
    endOffset: 7 * 2 ** 32 + 500,
    startPosition: 'mysql-bin.000007:0',
    lastCommitAt: '2025-11-24T16:00:05.000Z',
    partial: false,
  });
  expect(last.startOffset).toBe(first.endOffset);
  // the final segment of a file reaches the first byte of the next file
  expect(last.endOffset).toBe(next.startOffset);
  for (const s of [first, last, next]) expect(v.safeParse(PitrSegmentInput, s).success).toBe(true);
});

test('a dump is a base backup that needs its binlog file from the start', () => {
  const body = baseBackupInput(
    '0b0e1c4e-1111-4111-8111-111111111111',
    { file: 'mysql-bin.000007', pos: 1987, gtid: '0-1-9' },
    new Date('2026-12-02T12:00:00Z'),
  );
  expect(body).toMatchObject({
    startOffset: 7 * 2 ** 32,
    endOffset: binlogOffset('mysql-bin.000007', 1987),
    endPosition: 'mysql-bin.000007:1987 (GTID 0-1-9)',
    consistentAt: '2026-12-02T12:00:00.000Z',
  });
  expect(v.safeParse(PitrBaseBackupBody, body).success).toBe(true);
});
