// Shared pieces of the engine tests: test data that every engine stores, data directories, a
// spawn that records what was started, and dump helpers.
import { spawn as nodeSpawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { DatabaseTarget, Engine } from '../../src/engines/index.ts';
import type { SpawnFn } from '../../src/engines/process.ts';

/** Quotes, backslashes, line breaks, emoji (incl. ZWJ sequences), RTL, combining marks, SQL-ish text. */
export const AWKWARD_TEXT =
  `It's a "test" with \\backslashes\\ and \\n fake escapes,\nreal newlines\r\n\ttabs; ` +
  `emoji 😀👩‍👩‍👧🏳️‍🌈, RTL مرحبا بالعالم שלום עולם, combining é, CJK 漢字かな, ` +
  `zero\u200bwidth, -- not a comment; DROP TABLE x; /* nor this */ $$ dollar $$ \`tick\``;

export const EMOJI_TEXT = 'Grüße 😀 مرحبا 👩‍👩‍👧';

/** every byte value once */
export const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** ~5 MB of deterministic ASCII in one value */
export const BIG_TEXT = (() => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const seed = createHash('sha256').update('resistro big row').digest();
  const out = Buffer.alloc(5 * 1024 * 1024 + 17);
  for (let i = 0; i < out.length; i++)
    out[i] = alphabet.charCodeAt((seed[i % 32]! ^ ((i * 2654435761) >>> 13)) % 62);
  return out.toString('latin1');
})();
export const BIG_TEXT_SHA256 = createHash('sha256').update(BIG_TEXT).digest('hex');

/** What each engine's test reads back directly from a restored database. */
export type StoredValues = {
  awkward: string;
  emoji: string;
  bigLength: number;
  bigSha256: string;
  bytesHex: string;
};

export const EXPECTED_VALUES: StoredValues = {
  awkward: AWKWARD_TEXT,
  emoji: EMOJI_TEXT,
  bigLength: BIG_TEXT.length,
  bigSha256: BIG_TEXT_SHA256,
  bytesHex: ALL_BYTES.toString('hex'),
};

/** A fresh directory under .test-data that the postgres and mysql users can traverse. */
export function makeTestDataDir(label: string): { dir: string; remove(): void } {
  const dir = join(
    import.meta.dirname,
    '../../../.test-data',
    `${label}-${process.pid}-${randomBytes(3).toString('hex')}`,
  );
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export type SpawnRecord = { command: string; args: string[]; env: NodeJS.ProcessEnv | undefined };

/** A real spawn that remembers every command line and environment it was given. */
export function recordingSpawn(): { spawn: SpawnFn; records: SpawnRecord[] } {
  const records: SpawnRecord[] = [];
  const spawn: SpawnFn = (command, args, options) => {
    records.push({ command, args: [...args], env: options.env });
    return nodeSpawn(command, args, options);
  };
  return { spawn, records };
}

/** Runs a whole dump and returns its text; rejects like dump() or done would. */
export async function dumpToString(engine: Engine, target: DatabaseTarget): Promise<string> {
  const dump = await engine.dump(target);
  const chunks: Buffer[] = [];
  dump.stdout.on('data', (b: Buffer) => chunks.push(b));
  // `done` settles when the tool exits; its last output may still be in the pipe until 'end'.
  await Promise.all([finished(dump.stdout), dump.done]);
  return Buffer.concat(chunks).toString('utf8');
}

/** The test user's password: characters that break naive quoting in option files, shells and SQL. */
export const TEST_PASSWORD = `Resistro pw #1 "q" 'a' \\b $x; = ü`;
