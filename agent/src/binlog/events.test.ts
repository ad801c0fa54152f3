import { describe, expect, test } from 'vitest';
import { BINLOG_MAGIC, BinlogFormatError, nextBinlogName, parseBinlogName, scanEvents } from './events.ts';

/** One event: the 19-byte header with a correct log_pos, then `body` bytes. */
function event(at: number, type: number, timestamp: number, body = 10): Buffer {
  const size = 19 + body;
  const e = Buffer.alloc(size);
  e.writeUInt32LE(timestamp, 0);
  e[4] = type;
  e.writeUInt32LE(1, 5);
  e.writeUInt32LE(size, 9);
  e.writeUInt32LE(at + size, 13);
  return e;
}

function file(...specs: [type: number, timestamp: number][]): Buffer {
  const parts: Buffer[] = [BINLOG_MAGIC];
  let at = 4;
  for (const [type, timestamp] of specs) {
    const e = event(at, type, timestamp);
    parts.push(e);
    at += e.length;
  }
  return Buffer.concat(parts);
}

describe('scanEvents', () => {
  test('finds the end of the last complete event and the event times', () => {
    const bytes = file([15, 1000], [2, 1001], [2, 1005]);
    expect(scanEvents(bytes, 0)).toEqual({
      end: bytes.length,
      events: 3,
      firstEventAt: 1000,
      lastEventAt: 1005,
      final: false,
    });
  });

  test('a half-written event at the end waits for the next cut', () => {
    const bytes = file([15, 1000], [2, 1001]);
    const cut = bytes.subarray(0, bytes.length - 5);
    expect(scanEvents(cut, 0)).toMatchObject({ end: 4 + 29, events: 1 });
    expect(scanEvents(bytes.subarray(0, 10), 0)).toMatchObject({ end: 4, events: 0 });
  });

  test('continues from an offset inside the file', () => {
    const bytes = file([15, 1000], [2, 1001], [4, 1002]);
    expect(scanEvents(bytes.subarray(33), 33)).toEqual({
      end: bytes.length,
      events: 2,
      firstEventAt: 1001,
      lastEventAt: 1002,
      final: true,
    });
  });

  test('a rotate or stop event ends the file', () => {
    expect(scanEvents(file([15, 1], [4, 2]), 0).final).toBe(true);
    expect(scanEvents(file([15, 1], [3, 2]), 0).final).toBe(true);
  });

  test('refuses bytes that are not a binlog', () => {
    expect(() => scanEvents(Buffer.from('-- MariaDB dump'), 0)).toThrow(BinlogFormatError);
    const bytes = file([15, 1], [2, 2]);
    bytes.writeUInt32LE(999, 4 + 13); // log_pos of the first event
    expect(() => scanEvents(bytes, 0)).toThrow(/next starts at 999/);
    const tiny = file([15, 1]);
    tiny.writeUInt32LE(3, 4 + 9);
    expect(() => scanEvents(tiny, 0)).toThrow(/size of 3/);
  });
});

test('binlog names: parse and the next file', () => {
  expect(parseBinlogName('mysql-bin.000042')).toEqual({ base: 'mysql-bin', number: 42 });
  expect(parseBinlogName('../etc/passwd')).toBeUndefined();
  expect(parseBinlogName('state.json')).toBeUndefined();
  expect(nextBinlogName('binlog.000009')).toBe('binlog.000010');
  expect(nextBinlogName('binlog.999999')).toBe('binlog.1000000');
});
