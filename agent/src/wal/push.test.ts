import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { walPush } from './push.ts';
import { encodeHeader, parseHeader, segmentSystemId } from './push-protocol.ts';
import { WalPushServer } from './push-server.ts';

const SEGMENT = '000000010000000000000003';
let dir: string | undefined;
let server: WalPushServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A segment's first page: long header flag, then the system identifier at byte 24. */
function segment(systemId: bigint, fill = 7): Buffer {
  const b = Buffer.alloc(64 * 1024, fill);
  b.writeUInt16LE(0xd110, 0);
  b.writeUInt16LE(0x0002, 2);
  b.writeBigUInt64LE(systemId, 24);
  return b;
}

async function serve(receivers: { id: string; systemId?: string }[]) {
  const root = mkdtempSync(join(tmpdir(), 'resistro-push-unit-'));
  dir = root;
  const path = join(root, 'push.sock');
  server = new WalPushServer({ path, log: createLogger({ level: 'error' }) });
  const arrived: string[] = [];
  for (const r of receivers) {
    const spool = join(root, `spool-${r.id}`);
    mkdirSync(spool);
    server.add({
      databaseId: r.id,
      name: `db-${r.id}`,
      systemId: r.systemId,
      spoolDir: spool,
      arrived: () => arrived.push(r.id),
    });
  }
  await server.listen();
  const file = (name: string, body: Buffer) => {
    const p = join(root, name);
    writeFileSync(p, body);
    return p;
  };
  return { path, arrived, file, spool: (id: string) => join(root, `spool-${id}`), root };
}

describe('wal-push protocol', () => {
  it('reads the system identifier from a long page header, and nothing from a short one', () => {
    expect(segmentSystemId(segment(7318003826514520084n))).toBe('7318003826514520084');
    const short = segment(1n);
    short.writeUInt16LE(0, 2);
    expect(segmentSystemId(short)).toBeUndefined();
  });

  it('round-trips a header and refuses malformed ones by name', () => {
    const h = { name: SEGMENT, size: 16, sha256: 'a'.repeat(64), database: undefined };
    expect(parseHeader(encodeHeader(h).trimEnd())).toEqual(h);
    expect(parseHeader(`RESISTRO-WAL-PUSH 1 ../etc/passwd 1 ${'a'.repeat(64)} -`)).toContain(
      'not a WAL file name',
    );
    expect(parseHeader(`RESISTRO-WAL-PUSH 1 ${SEGMENT} 99999999999 ${'a'.repeat(64)} -`)).toBe(
      'size out of range',
    );
    expect(parseHeader('GET / HTTP/1.1')).toBe('not a wal-push request');
  });
});

describe('wal-push to the agent', () => {
  it('answers ok only with the file in the spool, and wakes the uploader', async () => {
    const s = await serve([{ id: 'a', systemId: '42' }]);
    const body = segment(42n);
    expect(await walPush({ socket: s.path, file: s.file(SEGMENT, body) })).toEqual({ ok: true });
    expect(readFileSync(join(s.spool('a'), SEGMENT)).equals(body)).toBe(true);
    expect(s.arrived).toEqual(['a']);
    // PostgreSQL may archive the same file again after a crash: fine; other content is refused
    expect(await walPush({ socket: s.path, file: s.file(SEGMENT, body) })).toEqual({ ok: true });
    const other = await walPush({ socket: s.path, file: s.file(SEGMENT, segment(42n, 9)) });
    expect(other).toEqual({ ok: false, message: expect.stringContaining('other content') });
  });

  it('routes by the cluster and refuses a segment of another cluster', async () => {
    const s = await serve([
      { id: 'a', systemId: '42' },
      { id: 'b', systemId: '43' },
    ]);
    expect(await walPush({ socket: s.path, file: s.file(SEGMENT, segment(43n)) })).toEqual({ ok: true });
    expect(s.arrived).toEqual(['b']);
    const foreign = await walPush({ socket: s.path, file: s.file('000000010000000000000004', segment(44n)) });
    expect(foreign.ok).toBe(false);
    const named = await walPush({
      socket: s.path,
      file: s.file('000000010000000000000005', segment(43n)),
      database: 'db-a',
    });
    expect(named).toEqual({ ok: false, message: expect.stringContaining('belongs to cluster 43') });
  });

  it('keeps nothing of a file cut short or changed in transit', async () => {
    const s = await serve([{ id: 'a' }]);
    const send = (bytes: Buffer, announced: number, sha: string) =>
      new Promise<string>((resolve) => {
        const c = connect(s.path);
        let answer = '';
        c.on('data', (b: Buffer) => {
          answer += b.toString();
        });
        c.on('close', () => resolve(answer));
        c.on('error', () => {});
        c.write(encodeHeader({ name: SEGMENT, size: announced, sha256: sha, database: undefined }));
        c.end(bytes);
      });
    const body = segment(1n);
    const sha = createHash('sha256').update(body).digest('hex');
    await send(body.subarray(0, 1000), body.length, sha);
    expect(await send(body, body.length, 'b'.repeat(64))).toContain('checksum differs');
    expect(readdirSync(s.spool('a'))).toEqual([]);
  });

  it('fails when no agent listens, and when the agent protects no cluster this way', async () => {
    const s = await serve([]);
    const none = await walPush({ socket: join(s.root, 'absent.sock'), file: s.file(SEGMENT, segment(1n)) });
    expect(none).toEqual({ ok: false, message: expect.stringContaining('not running') });
    const idle = await walPush({ socket: s.path, file: s.file(SEGMENT, segment(1n)) });
    expect(idle).toEqual({ ok: false, message: expect.stringContaining('protects no PostgreSQL server') });
  });
});
