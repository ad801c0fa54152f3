// The contract every file-producing source (SQLite, Redis, directories) meets, against a real
// source the test starts: the same promises the SQL engines' contract makes, in terms of files.
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type DatabaseTarget,
  DumpError,
  type Engine,
  EngineError,
  type RestoreOptions,
} from '../../src/engines/index.ts';
import type { SpawnRecord } from './helpers.ts';

export type SourceUnderTest = {
  engine: Engine;
  spawned: SpawnRecord[];
  /** a seeded source that works */
  target: DatabaseTarget;
  /** a source that does not exist or cannot be reached */
  missing: DatabaseTarget;
  /** the codes a dump of `missing` may fail with */
  missingCodes: string[];
  /** where a restore into a fresh place `dir` goes */
  restoreOptions(dir: string): { target: DatabaseTarget; options: RestoreOptions };
  /** what the source holds, and what a restore into `dir` holds, in one comparable form */
  fingerprintSource(): Promise<unknown>;
  fingerprintRestored(dir: string): Promise<unknown>;
  /** tool names detectTools must report */
  expectedTools: string[];
  /** a secret that must never appear in any command line */
  secret?: string;
  stop(): Promise<void>;
};

export async function dumpToBuffer(
  engine: Engine,
  t: DatabaseTarget,
): Promise<{ bytes: Buffer; notes: string[] }> {
  const dump = await engine.dump(t);
  const chunks: Buffer[] = [];
  dump.stdout.on('data', (b: Buffer) => chunks.push(b));
  await Promise.all([finished(dump.stdout), dump.done]);
  return { bytes: Buffer.concat(chunks), notes: dump.notes ?? [] };
}

/** Bytes as a stream in 64 KB chunks, like a decrypted backup arrives. */
export function byteStream(bytes: Buffer): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += 65536) yield bytes.subarray(i, i + 65536);
    })(),
  );
}

/** this engine's own temporary folders (other programs' resistro-* folders share /tmp) */
const tempEntries = (engine: Engine) =>
  readdirSync(tmpdir()).filter((n) => n.startsWith(`resistro-${engine.name}-`));

export function runSourceContract(
  name: string,
  start: () => Promise<SourceUnderTest>,
  scratch: () => string,
): void {
  describe(`${name} source contract`, () => {
    let s: SourceUnderTest;
    let dump: Buffer;
    beforeAll(async () => {
      s = await start();
      dump = (await dumpToBuffer(s.engine, s.target)).bytes;
    });
    afterAll(() => s?.stop());

    test('reports its tools with versions', async () => {
      const tools = await s.engine.detectTools();
      for (const name of s.expectedTools)
        expect(tools.find((t) => t.name === name)?.version).toMatch(/^\d+\.\d+/);
    });

    test('a backup restored into a fresh place holds exactly what the source holds', async () => {
      const dir = join(scratch(), 'fresh');
      const r = s.restoreOptions(dir);
      await s.engine.restore(r.target, byteStream(dump), r.options);
      expect(await s.fingerprintRestored(dir)).toEqual(await s.fingerprintSource());
    });

    test('refuses to restore over what is there unless told to replace it', async () => {
      const dir = join(scratch(), 'twice');
      const r = s.restoreOptions(dir);
      await s.engine.restore(r.target, byteStream(dump), r.options);
      const err = await s.engine.restore(r.target, byteStream(dump), r.options).catch((e) => e);
      expect(err).toBeInstanceOf(EngineError);
      expect(['target_not_empty', 'target_in_use']).toContain(err.code);
      expect(err.hint).toMatch(/--replace/);
      await s.engine.restore(r.target, byteStream(dump), { ...r.options, replace: true });
      expect(await s.fingerprintRestored(dir)).toEqual(await s.fingerprintSource());
    });

    test('a backup cut off midway is never restored as if it were whole', async () => {
      const dir = join(scratch(), 'cut');
      const r = s.restoreOptions(dir);
      // as a damaged file shows while it is decrypted: half the bytes, then an error
      const half = dump.subarray(0, Math.floor(dump.length / 2));
      const input = Readable.from(
        (async function* () {
          yield half;
          throw new Error('the backup file ended early');
        })(),
      );
      const err = await s.engine.restore(r.target, input, r.options).catch((e) => e);
      expect(err).toBeInstanceOf(EngineError);
    });

    test('a source that is not there fails with a reason and a hint, before any byte is streamed', async () => {
      const err = await s.engine.dump(s.missing).then(
        async (d) => {
          d.stdout.resume();
          return d.done.then(
            () => undefined,
            (e) => e,
          );
        },
        (e) => e,
      );
      expect(err).toBeInstanceOf(EngineError);
      expect(s.missingCodes).toContain(err.code);
      expect(err.hint.length).toBeGreaterThan(10);
    });

    test('a dump stopped midway rejects as killed and leaves no temporary files', async () => {
      const before = tempEntries(s.engine);
      const d = await s.engine.dump(s.target);
      d.stdout.once('data', () => d.kill());
      d.stdout.resume();
      const err = await d.done.then(
        () => undefined,
        (e) => e,
      );
      expect(err).toBeInstanceOf(DumpError);
      expect(err.code).toBe('killed');
      expect(tempEntries(s.engine).filter((n) => !before.includes(n))).toEqual([]);
    });

    test('the connection check passes for the source and names what is wrong with a missing one', async () => {
      const ok = await s.engine.checkConnection(s.target);
      expect(ok.items.filter((i) => !i.ok)).toEqual([]);
      expect(ok.toolVersion).toMatch(/^\d+\.\d+/);
      const bad = await s.engine.checkConnection(s.missing);
      expect(bad.items.some((i) => !i.ok && i.code)).toBe(true);
    });

    test('no secret on any command line', () => {
      if (!s.secret) return;
      for (const r of s.spawned) expect(r.args.join(' ')).not.toContain(s.secret);
    });
  });
}
