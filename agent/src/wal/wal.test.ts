import { describe, expect, it } from 'vitest';
import { generateSymmetricKey, parseEncryptionKey } from '../format/keys.ts';
import { recoverySettings, walFetchCommand } from './restore.ts';
import { decodeWal, encodeWal, usedLength } from './segment.ts';
import { formatLsn, parseLsn, parseWalName, walName } from './tools.ts';

const MB16 = 16 * 1024 * 1024;

describe('WAL positions and names', () => {
  it('reads and writes LSNs and WAL file names as PostgreSQL does', () => {
    expect(parseLsn('1/3000028')).toBe(0x1_0300_0028);
    expect(formatLsn(0x1_0300_0028)).toBe('1/3000028');
    expect(walName('00000001', 0x1_0300_0028, MB16)).toBe('000000010000000100000003');
    expect(parseWalName('000000010000000100000003', MB16)).toEqual({
      timeline: '00000001',
      start: 0x1_0300_0000,
    });
    expect(parseWalName('00000002.history', MB16)).toBeNull();
    expect(() => parseLsn('0/xyz')).toThrow();
  });
});

describe('WAL segment files', () => {
  const key = parseEncryptionKey(generateSymmetricKey());

  it('round-trips a segment and refuses it under another name', async () => {
    const wal = Buffer.alloc(64 * 1024);
    wal.write('some wal records', 100);
    const enc = await encodeWal(
      { timeline: '00000001', name: '000000010000000000000003', start: 3 * MB16, partial: true },
      wal,
      key,
    );
    expect((await decodeWal(enc.bytes, key, '000000010000000000000003')).equals(wal)).toBe(true);
    await expect(decodeWal(enc.bytes, key, '000000010000000000000004')).rejects.toThrow(
      /000000010000000000000004/,
    );
    const damaged = Buffer.from(enc.bytes);
    damaged[damaged.length - 40]! ^= 1;
    await expect(decodeWal(damaged, key, '000000010000000000000003')).rejects.toThrow(/damaged/);
    expect(usedLength(wal)).toBe(116);
  });
});

describe('recovery settings', () => {
  it('stop at the target in PostgreSQL notation, fetch through wal-fetch, and promote', () => {
    const plan = { baseBackup: { stream: '00000002' } } as Parameters<typeof recoverySettings>[0];
    const cmd = walFetchCommand('6f1c1b4e-2a3d-4c5e-9f70-81a2b3c4d5e6', "/srv/it's/resistro-pitr.json");
    const text = recoverySettings(plan, { time: new Date('2026-12-01T14:30:00.250Z') }, cmd);
    expect(text).toContain("recovery_target_time = '2026-12-01 14:30:00.250+00'");
    expect(text).toContain("recovery_target_timeline = '2'");
    expect(text).toContain("recovery_target_action = 'promote'");
    // a quote inside the command is doubled for postgresql.conf, and the shell quoting survives
    expect(text).toMatch(
      /restore_command = '.*wal-fetch --database 6f1c1b4e-2a3d-4c5e-9f70-81a2b3c4d5e6 .*--file "%f" --dest "%p"'/,
    );
    expect(text).toContain("''/srv/it''\\''''s/resistro-pitr.json''");
    expect(recoverySettings(plan, { lsn: 1, text: '0/1' }, cmd)).toContain("recovery_target_lsn = '0/1'");
  });
});
