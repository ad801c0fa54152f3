import { describe, expect, test } from 'vitest';
import { generateSymmetricKey, parseEncryptionKey } from '../format/index.ts';
import { decodeSegment, encodeSegment, type LogSegmentMeta, SegmentError } from './segment-file.ts';

const key = parseEncryptionKey(generateSymmetricKey());
const meta: LogSegmentMeta = {
  engine: 'mariadb',
  stream: 'binlog.000002',
  start: 4,
  end: 104,
  firstEventAt: 1_700_000_000,
  lastEventAt: 1_700_000_009,
  final: false,
};
const log = Buffer.alloc(100, 'INSERT row secret ');

describe('log segment files', () => {
  test('round trip, encrypted, with a sha256 of the file', async () => {
    const encoded = await encodeSegment(meta, log, key);
    expect(encoded.bytes.includes('secret')).toBe(false);
    expect(encoded.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await decodeSegment(encoded.bytes, key, meta)).toEqual({ meta, log });
  });

  test('another segment under this name is refused, naming both', async () => {
    const encoded = await encodeSegment(meta, log, key);
    await expect(
      decodeSegment(encoded.bytes, key, { stream: 'binlog.000003', start: 4, end: 104 }),
    ).rejects.toThrow(
      /log segment binlog.000003 bytes 4–104 is damaged: it holds binlog.000002 bytes 4–104 instead/,
    );
  });

  test('a flipped byte is a damaged segment; a wrong key says so', async () => {
    const encoded = await encodeSegment(meta, log, key);
    const damaged = Buffer.from(encoded.bytes);
    damaged[damaged.length - 20]! ^= 1;
    await expect(decodeSegment(damaged, key, meta)).rejects.toBeInstanceOf(SegmentError);
    const other = parseEncryptionKey(generateSymmetricKey());
    await expect(decodeSegment(encoded.bytes, other, meta)).rejects.toMatchObject({ code: 'wrong_key' });
  });

  test('the log must be exactly the range', async () => {
    await expect(encodeSegment(meta, log.subarray(1), key)).rejects.toThrow(/has 99 bytes, not 100/);
  });
});
