// The sink against a real HTTP server that behaves like presigned S3 part URLs (PUT with
// Content-Length, ETag back), with failures on demand. The control plane's part-URL call is a
// small stand-in here; the integration tests run the same code against the real control plane
// and the signature-checking S3 server.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, test } from 'vitest';
import { createLogger } from '../log.ts';
import type { AgentApi } from './client.ts';
import { createAgents } from './http.ts';
import { BackupSink } from './sink.ts';
import { Spool } from './spool.ts';

type Behaviour = (part: number, attempt: number) => 'ok' | 500 | 403 | 'drop';

async function startStorage(behaviour: Behaviour = () => 'ok') {
  const parts = new Map<number, Buffer>();
  const attempts = new Map<number, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  const server: Server = createServer((req, res) => {
    const part = Number(new URL(req.url!, 'http://x').searchParams.get('partNumber'));
    const attempt = (attempts.get(part) ?? 0) + 1;
    attempts.set(part, attempt);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (b: Buffer) => chunks.push(b));
    req.on('end', () => {
      inFlight--;
      const body = Buffer.concat(chunks);
      const what = behaviour(part, attempt);
      if (what === 'drop') return void req.socket.destroy();
      if (what !== 'ok') {
        res.writeHead(what, { 'content-type': 'application/xml' });
        return void res.end(`<Error><Code>${what === 403 ? 'AccessDenied' : 'InternalError'}</Code></Error>`);
      }
      expect(Number(req.headers['content-length'])).toBe(body.length);
      parts.set(part, body);
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const urlCalls: number[][] = [];
  const api = {
    async partUrls(_id: string, numbers: number[]) {
      urlCalls.push(numbers);
      return {
        parts: numbers.map((n) => ({
          partNumber: n,
          url: `http://127.0.0.1:${port}/obj?partNumber=${n}&sig=${urlCalls.length}`,
        })),
        expiresAt: new Date(Date.now() + 900_000).toISOString(),
      };
    },
  } as unknown as AgentApi;
  servers.push(server);
  return {
    api,
    parts,
    attempts,
    urlCalls,
    get maxInFlight() {
      return maxInFlight;
    },
  };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

function make(opts: { api: AgentApi; partSize: number; forceFiles?: boolean; attempts?: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'resistro-sink-'));
  const log = createLogger({ json: true, write: () => {} });
  const spool = new Spool({ dir: join(dir, 'spool'), maxBytes: 1 << 30, log });
  const tmp = join(dir, 'tmp');
  for (const d of [join(dir, 'spool'), tmp]) mkdirSync(d);
  const sink = new BackupSink({
    log,
    spool,
    spoolStart: {
      databaseId: 'db',
      databaseName: 'db',
      trigger: 'manual',
      startedAt: new Date().toISOString(),
      upload: null,
      reason: '',
    },
    upload: {
      api: opts.api,
      agents: createAgents(4),
      backupId: 'backup-1',
      partSize: opts.partSize,
      maxParts: 10_000,
      tmpDir: tmp,
      forceFiles: opts.forceFiles,
      retry: { attempts: opts.attempts ?? 4, baseMs: 1, maxMs: 2 },
    },
  });
  return { sink, spool, tmp };
}

/** `data` in chunks of awkward sizes, like an encrypt stream's output */
function chunked(data: Buffer): Readable {
  return Readable.from(
    (function* () {
      let offset = 0;
      let i = 0;
      while (offset < data.length) {
        const size = [4, 65536, 16, 1000, 70000][i++ % 5]!;
        yield data.subarray(offset, offset + size);
        offset += size;
      }
    })(),
    { objectMode: false },
  );
}

const joinParts = (parts: Map<number, Buffer>) =>
  Buffer.concat([...parts.keys()].sort((a, b) => a - b).map((n) => parts.get(n)!));

describe('BackupSink', () => {
  test('cuts the stream into parts of exactly partSize (the last shorter), at most 4 in flight, and hashes all of it', async () => {
    const storage = await startStorage();
    const { sink } = make({ api: storage.api, partSize: 64 * 1024 });
    const data = randomBytes(10 * 64 * 1024 + 12345);
    await pipeline(chunked(data), sink);
    const result = sink.result();
    expect(result.kind).toBe('uploaded');
    if (result.kind !== 'uploaded') return;
    expect(result.parts.map((p) => p.partNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect([...storage.parts.values()].filter((b) => b.length !== 64 * 1024).map((b) => b.length)).toEqual([
      12345,
    ]);
    expect(joinParts(storage.parts).equals(data)).toBe(true);
    expect(result.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect(result.sizeBytes).toBe(data.length);
    expect(storage.maxInFlight).toBeLessThanOrEqual(4);
  });

  test('large parts go through temporary files that are removed afterwards', async () => {
    const storage = await startStorage();
    const { sink, tmp } = make({ api: storage.api, partSize: 100 * 1024, forceFiles: true });
    const data = randomBytes(5 * 100 * 1024);
    await pipeline(chunked(data), sink);
    expect(sink.result().kind).toBe('uploaded');
    expect(storage.parts.size).toBe(5);
    expect(joinParts(storage.parts).equals(data)).toBe(true);
    expect(readdirSync(tmp)).toEqual([]);
  });

  test('retries a part that failed and fetches a fresh URL for one that storage refused (403)', async () => {
    const storage = await startStorage((part, attempt) =>
      part === 2 && attempt === 1 ? 500 : part === 3 && attempt === 1 ? 403 : 'ok',
    );
    const { sink } = make({ api: storage.api, partSize: 64 * 1024 });
    const data = randomBytes(4 * 64 * 1024);
    await pipeline(chunked(data), sink);
    expect(sink.result().kind).toBe('uploaded');
    expect(storage.attempts.get(2)).toBe(2);
    expect(storage.attempts.get(3)).toBe(2);
    expect(storage.urlCalls.some((numbers) => numbers[0] === 3)).toBe(true);
    expect(joinParts(storage.parts).equals(data)).toBe(true);
  });

  test('when storage stays down, the unconfirmed rest goes to the spool: uploaded parts + spool tail = the stream', async () => {
    for (const forceFiles of [false, true]) {
      const storage = await startStorage((part) => (part >= 3 ? 'drop' : 'ok'));
      const { sink, spool } = make({ api: storage.api, partSize: 64 * 1024, forceFiles, attempts: 2 });
      const data = randomBytes(7 * 64 * 1024 + 99);
      await pipeline(chunked(data), sink);
      const result = sink.result();
      expect(result.kind).toBe('spooled');
      const entry = await sink.commitSpool({ durationMs: 1, keyId: 'ab'.repeat(16) });
      expect(entry.upload?.parts.map((p) => p.partNumber)).toEqual([1, 2]);
      expect(entry.upload?.tailOffset).toBe(2 * 64 * 1024);
      expect(entry.sha256).toBe(createHash('sha256').update(data).digest('hex'));
      const tail = readFileSync(spool.tailPath(entry.id));
      expect(Buffer.concat([joinParts(storage.parts).subarray(0, 2 * 64 * 1024), tail]).equals(data)).toBe(
        true,
      );
    }
  });

  test('a permanent refusal (400) fails the stream instead of spooling', async () => {
    const storage = await startStorage((part) => (part === 2 ? (400 as 500) : 'ok'));
    const { sink } = make({ api: storage.api, partSize: 64 * 1024 });
    await expect(pipeline(chunked(randomBytes(4 * 64 * 1024)), sink)).rejects.toThrow(/storage answered 400/);
  });
});
