// The contract every database engine must meet, run against a real server by each engine's test.
import { once } from 'node:events';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  type DatabaseTarget,
  DumpError,
  type Engine,
  EngineError,
  type EngineName,
} from '../../src/engines/index.ts';
import { dumpToString, EXPECTED_VALUES, type SpawnRecord, type StoredValues } from './helpers.ts';

/** One engine on one running server, with the engine-specific ways to fill and inspect databases. */
export type EngineUnderTest = {
  /** created with a recording spawn */
  engine: Engine;
  spawned: SpawnRecord[];
  /** the test user's correct password */
  password: string;
  target(database: string): DatabaseTarget;
  createDatabase(name: string): Promise<void>;
  /** every common column type, awkward text, 256 byte values, a ~5 MB row, sequences, a view, routines, a trigger (and an event) */
  seedAwkward(database: string): Promise<void>;
  /** ~30 MB in a table called `filler`, so a dump can be caught midway */
  seedLarge(database: string): Promise<void>;
  /** a table `leftover` plus a clashing `kitchen_sink` */
  seedLeftover(database: string): Promise<void>;
  hasLeftover(database: string): Promise<boolean>;
  /** one function and nothing else */
  seedRoutineOnly(database: string): Promise<void>;
  readValues(database: string): Promise<StoredValues>;
  /** blanks what legitimately differs between two dumps: the database name and the dump's date */
  normaliseDump(sql: string, database: string): string;
  /** text in the dump where the rows of `filler` start */
  largeTableMarker: string;
  /** text in the dump that starts the statement holding the ~5 MB row (a clean statement boundary) */
  bigRowMarker: string;
  /** restore is one transaction: a failed restore leaves nothing behind */
  atomicRestore: boolean;
  /** tool names detectTools must report */
  expectedTools: string[];
  stop(): Promise<void>;
};

/** SQL text as a byte stream in 64 KB chunks, like a decrypted backup arrives. */
export function sqlStream(sql: string | Buffer): Readable {
  const bytes = Buffer.isBuffer(sql) ? sql : Buffer.from(sql);
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += 65536) yield bytes.subarray(i, i + 65536);
    })(),
    { objectMode: false },
  );
}

/** Compares two dumps line by line so a failure shows the first difference, not 5 MB of diff. */
export function expectSameDump(actual: string, expected: string): void {
  const a = actual.split('\n');
  const b = expected.split('\n');
  const first = a.findIndex((line, i) => line !== b[i]);
  const at = first === -1 && a.length !== b.length ? Math.min(a.length, b.length) : first;
  if (at === -1) return;
  expect({ line: at + 1, text: a[at]?.slice(0, 300) }).toEqual({ line: at + 1, text: b[at]?.slice(0, 300) });
}

/** Reads from `stream` until `marker` went by, then pauses it (the tool keeps running, blocked). */
function readUntil(stream: Readable, marker: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (b: Buffer) => {
      seen = (seen + b.toString('latin1')).slice(-(marker.length + 65536));
      if (!seen.includes(marker)) return;
      stream.pause();
      stream.off('data', onData);
      resolve();
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`dump ended before ${marker}`)));
  });
}

function commandLine(records: SpawnRecord[]): string {
  return records.flatMap((r) => [r.command, ...r.args]).join('\0');
}

export function describeEngineContract(
  name: EngineName,
  setup: () => Promise<EngineUnderTest>,
  extra?: (get: () => EngineUnderTest) => void,
): void {
  describe(`${name} engine`, () => {
    let e: EngineUnderTest;
    let sourceDump = '';

    beforeAll(async () => {
      e = await setup();
      await e.createDatabase('rt_source');
      await e.seedAwkward('rt_source');
      await e.createDatabase('rt_large');
      await e.seedLarge('rt_large');
      sourceDump = await dumpToString(e.engine, e.target('rt_source'));
    }, 120_000);

    afterAll(async () => {
      await e?.stop();
    }, 60_000);

    beforeEach(() => {
      if (e) e.spawned.length = 0;
    });

    test('round-trips awkward content: a restored copy dumps to the same SQL and holds the same values', async () => {
      expect(sourceDump.length).toBeGreaterThan(5_000_000);
      expect(await e.readValues('rt_source')).toEqual(EXPECTED_VALUES);

      await e.createDatabase('rt_copy');
      await e.engine.restore(e.target('rt_copy'), sqlStream(sourceDump));
      const copyDump = await dumpToString(e.engine, e.target('rt_copy'));

      expectSameDump(e.normaliseDump(copyDump, 'rt_copy'), e.normaliseDump(sourceDump, 'rt_source'));
      expect(await e.readValues('rt_copy')).toEqual(EXPECTED_VALUES);
    }, 60_000);

    test('refuses to restore into a non-empty database unless replace, which then gives an identical copy', async () => {
      await e.createDatabase('rt_occupied');
      await e.seedLeftover('rt_occupied');

      const refused = await e.engine
        .restore(e.target('rt_occupied'), sqlStream(sourceDump))
        .catch((err) => err);
      expect(refused).toBeInstanceOf(EngineError);
      expect(refused.code).toBe('target_not_empty');
      expect(refused.message).toMatch(/rt_occupied.*not empty/);
      expect(refused.hint).toMatch(/replace/);
      expect(await e.hasLeftover('rt_occupied')).toBe(true);

      await e.engine.restore(e.target('rt_occupied'), sqlStream(sourceDump), { replace: true });
      expect(await e.hasLeftover('rt_occupied')).toBe(false);
      const replaced = await dumpToString(e.engine, e.target('rt_occupied'));
      expectSameDump(e.normaliseDump(replaced, 'rt_occupied'), e.normaliseDump(sourceDump, 'rt_source'));
      expect(await e.readValues('rt_occupied')).toEqual(EXPECTED_VALUES);
    }, 60_000);

    test('isEmpty is true for a fresh database and false once it holds tables or only a routine', async () => {
      await e.createDatabase('rt_fresh');
      await e.createDatabase('rt_routine');
      await e.seedRoutineOnly('rt_routine');
      expect(await e.engine.isEmpty(e.target('rt_fresh'))).toBe(true);
      expect(await e.engine.isEmpty(e.target('rt_source'))).toBe(false);
      expect(await e.engine.isEmpty(e.target('rt_routine'))).toBe(false);
    }, 30_000);

    test('a wrong password fails the dump with a DumpError about authentication carrying the tool stderr', async () => {
      const wrong = `not-the-password-${Math.random().toString(36).slice(2)}`;
      const err = await dumpToString(e.engine, { ...e.target('rt_source'), password: wrong }).catch((x) => x);
      expect(err).toBeInstanceOf(DumpError);
      expect(err.code).toBe('auth_failed');
      expect(err.message).toMatch(/authentication/i);
      expect(err.stderr).toMatch(/denied|authentication failed/i);
      expect(err.message).toContain(err.stderr.split('\n')[0]);
      expect(err.hint).toMatch(/password/);
      expect(err.message).not.toContain(wrong);
      expect(e.spawned.length).toBeGreaterThan(0);
      expect(commandLine(e.spawned)).not.toContain(wrong);
    }, 30_000);

    test('the password reaches a running dump tool through its environment or a private option file, never argv', async () => {
      const dump = await e.engine.dump(e.target('rt_large'));
      await once(dump.stdout, 'readable'); // the tool has exec'd and is producing output
      const argv = readFileSync(`/proc/${dump.pid}/cmdline`, 'utf8').split('\0');
      expect(argv.join(' ')).toMatch(/dump/);
      expect(argv.join('\0')).not.toContain(e.password);
      expect(commandLine(e.spawned)).not.toContain(e.password);

      const record = e.spawned.at(-1)!;
      const optionFile = record.args[0]?.startsWith('--defaults-extra-file=')
        ? record.args[0].slice('--defaults-extra-file='.length)
        : undefined;
      if (optionFile) {
        expect(statSync(optionFile).mode & 0o777).toBe(0o600);
        expect(statSync(dirname(optionFile)).mode & 0o777).toBe(0o700);
      } else {
        expect(record.env?.PGPASSWORD).toBe(e.password);
      }

      dump.stdout.resume();
      await dump.done;
      if (optionFile) expect(existsSync(dirname(optionFile))).toBe(false);
    }, 30_000);

    test('kill() during a dump makes done reject with a DumpError naming SIGTERM', async () => {
      const dump = await e.engine.dump(e.target('rt_large'));
      await readUntil(dump.stdout, e.largeTableMarker);
      dump.kill();
      const err = await dump.done.catch((x) => x);
      dump.stdout.destroy();
      expect(err).toBeInstanceOf(DumpError);
      expect(err.code).toBe('killed');
      expect(err.signal).toBe('SIGTERM');
      expect(err.message).toMatch(/signal SIGTERM/);
    }, 30_000);

    test('a dump tool killed from outside midway makes done reject with a DumpError naming the signal', async () => {
      const dump = await e.engine.dump(e.target('rt_large'));
      await readUntil(dump.stdout, e.largeTableMarker);
      process.kill(dump.pid!, 'SIGKILL');
      const err = await dump.done.catch((x) => x);
      dump.stdout.destroy();
      expect(err).toBeInstanceOf(DumpError);
      expect(err.code).toBe('killed');
      expect(err.signal).toBe('SIGKILL');
      expect(err.exitCode).toBeNull();
      expect(err.message).toMatch(/killed by signal SIGKILL/);
    }, 30_000);

    test('restore stops with an input error when the SQL stream fails midway', async () => {
      await e.createDatabase('rt_cut');
      // Cut at a statement boundary after the tables were created: a client that saw a clean end
      // of input here would happily commit the schema and some rows.
      const cut = sourceDump.indexOf(e.bigRowMarker);
      expect(cut).toBeGreaterThan(0);
      const head = Buffer.from(sourceDump.slice(0, cut));
      const failing = Readable.from(
        (async function* () {
          for await (const chunk of sqlStream(head)) yield chunk;
          // Let the client work through what it got: without one transaction, until the part before
          // the cut has landed (a fixed pause was too short on a loaded machine).
          const until = Date.now() + 20_000;
          if (!e.atomicRestore)
            while ((await e.engine.isEmpty(e.target('rt_cut'))) && Date.now() < until)
              await new Promise((r) => setTimeout(r, 100));
          else await new Promise((r) => setTimeout(r, 200));
          throw new Error('decryption failed: chunk 7 is corrupt');
        })(),
        { objectMode: false },
      );
      const err = await e.engine.restore(e.target('rt_cut'), failing).catch((x) => x);
      expect(err).toBeInstanceOf(EngineError);
      expect(err.code).toBe('input_failed');
      expect(err.message).toContain('chunk 7 is corrupt');
      expect(err.cause).toBeInstanceOf(Error);
      // One transaction: nothing stays. Without (MySQL DDL commits itself): the part before the cut stays.
      expect(await e.engine.isEmpty(e.target('rt_cut'))).toBe(e.atomicRestore);
    }, 30_000);

    test("restore of invalid SQL fails with the client's error and stderr", async () => {
      await e.createDatabase('rt_bad');
      const err = await e.engine
        .restore(e.target('rt_bad'), sqlStream('CREATE TABLE broken (;\n'))
        .catch((x) => x);
      expect(err).toBeInstanceOf(EngineError);
      expect(err.stderr).toMatch(/syntax/i);
      expect(err.message).toMatch(/syntax/i);
    }, 30_000);

    test('detectTools reports the dump and restore tools with versions, serverVersion the server', async () => {
      const tools = await e.engine.detectTools();
      for (const toolName of e.expectedTools) {
        const tool = tools.find((t) => t.name === toolName);
        expect(tool, `${toolName} in ${JSON.stringify(tools)}`).toBeDefined();
        expect(tool!.version).toMatch(/^\d+\.\d+/);
        expect(existsSync(tool!.path)).toBe(true);
      }
      expect(await e.engine.serverVersion(e.target('rt_source'))).toMatch(/^\d+\.\d+/);
    }, 30_000);

    extra?.(() => e);
  });
}
