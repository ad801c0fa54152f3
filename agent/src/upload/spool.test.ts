import { mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createLogger, type LogFields } from '../log.ts';
import { Spool, type SpoolEntryStart, SpoolFullError } from './spool.ts';

function setup(maxBytes: number) {
  const dir = mkdtempSync(join(tmpdir(), 'resistro-spool-'));
  const lines: { event: string; fields: LogFields }[] = [];
  const log = createLogger({ json: true, write: (l) => lines.push(JSON.parse(l)) });
  const dropped: string[] = [];
  const spool = new Spool({ dir, maxBytes, log, onDrop: async (e) => void dropped.push(e.id) });
  return { dir, spool, lines, dropped };
}

const start = (name: string): SpoolEntryStart => ({
  databaseId: '00000000-0000-4000-8000-000000000001',
  databaseName: name,
  trigger: 'schedule',
  startedAt: new Date().toISOString(),
  upload: null,
  reason: 'control plane unreachable',
});

async function spoolBytes(spool: Spool, name: string, bytes: number) {
  const writer = await spool.begin(start(name));
  for (let i = 0; i < bytes; i += 1000) await writer.write(Buffer.alloc(Math.min(1000, bytes - i), 1));
  return writer.commit({ durationMs: 5, keyId: 'ab'.repeat(16), sizeBytes: bytes, sha256: '0'.repeat(64) });
}

describe('Spool', () => {
  test('keeps committed entries with their sidecar, oldest first, files private', async () => {
    const { spool } = setup(1_000_000);
    const a = await spoolBytes(spool, 'a', 3000);
    const b = await spoolBytes(spool, 'b', 2000);
    expect((await spool.list()).map((e) => e.databaseName)).toEqual(['a', 'b']);
    expect(readFileSync(spool.tailPath(a.id)).length).toBe(3000);
    expect(statSync(spool.tailPath(b.id)).mode & 0o777).toBe(0o600);
    expect(statSync(spool.sidecarPath(b.id)).mode & 0o777).toBe(0o600);
    expect(await spool.usage()).toBe(5000);
  });

  test('over the size cap, drops the oldest entries with a warning, never the one being written', async () => {
    const { spool, lines, dropped } = setup(10_000);
    const oldest = await spoolBytes(spool, 'oldest', 4000);
    const middle = await spoolBytes(spool, 'middle', 4000);
    const newest = await spoolBytes(spool, 'newest', 5000);
    expect((await spool.list()).map((e) => e.id)).toEqual([middle.id, newest.id]);
    expect(dropped).toEqual([oldest.id]);
    expect(lines.find((l) => l.event === 'spool.dropped')).toMatchObject({ level: 'warn' });
    expect(await spool.usage()).toBe(9000);
  });

  test('a backup larger than the whole cap fails with SpoolFullError; discarding it leaves no file', async () => {
    const { dir, spool } = setup(5000);
    const writer = await spool.begin(start('huge'));
    await expect(
      (async () => {
        for (let i = 0; i < 6; i++) await writer.write(Buffer.alloc(1000));
      })(),
    ).rejects.toBeInstanceOf(SpoolFullError);
    await writer.discard();
    expect(readdirSync(dir)).toEqual([]);
  });

  test('a cap of 0 turns spooling off', async () => {
    const { spool } = setup(0);
    await expect(spool.begin(start('x'))).rejects.toThrow(/turned off/);
  });

  test('an entry being delivered (locked) is not dropped to make room', async () => {
    const { spool } = setup(6000);
    const busy = await spoolBytes(spool, 'busy', 4000);
    const lock = await spool.lock(busy.id);
    await expect(spoolBytes(spool, 'new', 4000)).rejects.toBeInstanceOf(SpoolFullError);
    await lock?.release();
    expect((await spool.list()).map((e) => e.id)).toEqual([busy.id]);
  });

  test('sweep removes old tails without a sidecar (a crash while spooling), keeps everything else', async () => {
    const { dir, spool } = setup(1_000_000);
    const entry = await spoolBytes(spool, 'ok', 100);
    const orphan = join(dir, '11111111-2222-4333-8444-555555555555.resistro');
    writeFileSync(orphan, 'x');
    const old = new Date(Date.now() - 3600_000);
    utimesSync(orphan, old, old);
    const fresh = join(dir, '66666666-2222-4333-8444-555555555555.resistro');
    writeFileSync(fresh, 'y');
    expect(await spool.sweep()).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(
      [`${entry.id}.json`, `${entry.id}.resistro`, '66666666-2222-4333-8444-555555555555.resistro'].sort(),
    );
  });
});
