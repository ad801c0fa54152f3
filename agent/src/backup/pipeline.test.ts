// The pipeline when the dump fails while its parts are on their way to storage: the backup fails
// with the dump's own error, and nothing in the log or on disk says it went to the offline spool.
// Real sink, spool and HTTP uploads; a stand-in dump whose failure the test times.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DumpError, type Engine } from '../engines/index.ts';
import { generateSymmetricKey, parseEncryptionKey } from '../format/index.ts';
import { createLogger } from '../log.ts';
import type { AgentApi } from '../upload/client.ts';
import { createAgents } from '../upload/http.ts';
import { BackupSink } from '../upload/sink.ts';
import { Spool } from '../upload/spool.ts';
import { runPipeline } from './pipeline.ts';

const PART = 256 * 1024;
const held: ServerResponse[] = [];
let received = 0;
const storage = createServer((req: IncomingMessage, res: ServerResponse) => {
  req.resume();
  req.on('end', () => {
    received++;
    held.push(res); // never answered: the upload is in flight when the dump fails
  });
});
beforeAll(() => new Promise<void>((r) => storage.listen(0, '127.0.0.1', r)));
afterAll(() => {
  for (const res of held) res.destroy();
  storage.close();
});

function failingDump(bytes: number, failWhen: () => Promise<void>) {
  const stdout = new PassThrough();
  const error = new DumpError(
    'tool_failed',
    "mysqldump exited with code 2: Couldn't execute 'SHOW CREATE PROCEDURE': access denied",
    'Grant the backup user SHOW CREATE ROUTINE.',
    { tool: 'mysqldump', exitCode: 2, signal: null, stderr: 'access denied' },
  );
  const done = failWhen().then(() => {
    throw error;
  });
  done.catch(() => {});
  stdout.end(randomBytes(bytes));
  const engine = {
    name: 'mysql',
    dump: async () => ({ stdout, done, kill() {}, pid: undefined }),
  } as unknown as Engine;
  return { engine, error };
}

describe('a dump that fails during the upload', () => {
  // One part in flight is where the sink used to race its own clean-up into "storage unreachable:
  // … goes to the offline spool"; more parts (and one waiting for a free slot) for good measure.
  test.each([1, 2, 5])(
    'with %i parts: fails with the dump error; nothing is spooled or said to be',
    async (parts) => {
      const port = (storage.address() as AddressInfo).port;
      const dir = mkdtempSync(join(tmpdir(), 'resistro-pipeline-'));
      for (const d of ['spool', 'tmp']) mkdirSync(join(dir, d));
      const lines: string[] = [];
      const log = createLogger({ json: true, level: 'debug', write: (line) => lines.push(line) });
      const spool = new Spool({ dir: join(dir, 'spool'), maxBytes: 1 << 30, log });
      const api = {
        async partUrls(_id: string, numbers: number[]) {
          return {
            parts: numbers.map((n) => ({ partNumber: n, url: `http://127.0.0.1:${port}/o?partNumber=${n}` })),
            expiresAt: new Date(Date.now() + 900_000).toISOString(),
          };
        },
      } as unknown as AgentApi;
      const sink = new BackupSink({
        log,
        spool,
        spoolStart: {
          databaseId: 'db',
          databaseName: 'shop',
          trigger: 'manual',
          startedAt: new Date().toISOString(),
          upload: null,
          reason: '',
        },
        upload: {
          api,
          agents: createAgents(4),
          backupId: 'backup-1',
          partSize: PART,
          maxParts: 10_000,
          tmpDir: join(dir, 'tmp'),
          retry: { attempts: 2, baseMs: 1, maxMs: 2 },
        },
      });
      // The dump fails once its parts are in flight (random bytes do not compress; at most 4 at once).
      const inFlight = received + Math.min(parts, 4);
      const { engine, error } = failingDump(parts * PART - 1000, async () => {
        while (received < inFlight) await new Promise((r) => setTimeout(r, 10));
      });
      const failure = await runPipeline({
        engine,
        target: { engine: 'mysql', host: 'h', port: 3306, database: 'shop', user: 'u' },
        key: parseEncryptionKey(generateSymmetricKey()),
        level: 1,
        compressor: 'node',
        sink,
      }).catch((e) => e);
      await sink.discard();
      expect(failure).toBe(error);
      const events = lines.map((l) => JSON.parse(l) as { event: string; msg: string });
      expect(events.filter((e) => /spool/.test(e.event) || /spool|unreachable/.test(e.msg))).toEqual([]);
      expect(readdirSync(join(dir, 'spool'))).toEqual([]);
    },
  );
});
