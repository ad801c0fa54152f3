// The daemon's end of `archive_command = 'resistro wal-push %p'` (push-protocol.ts): a Unix socket
// that takes one WAL file per connection, checks it (size, SHA-256, and for a segment the cluster's
// system identifier in its first page), writes it into the spool of the cluster's WAL uploader with
// fsync on the file and the directory, and only then answers ok. From there the uploader
// compresses, encrypts and uploads it as it does pg_receivewal's segments.
// SECURITY: the socket is 0660 and belongs to the group "postgres" where that group exists: the
// server's archive_command can hand over WAL, other local users can not inject any.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, open, readFile, rename, rm, unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import type { Logger } from '../log.ts';
import { isSegment, PUSH_MAGIC, type PushHeader, parseHeader, segmentSystemId } from './push-protocol.ts';

export type PushReceiver = {
  databaseId: string;
  name: string;
  /** the cluster's system identifier, when the agent could read it */
  systemId: string | undefined;
  spoolDir: string;
  /** a file arrived: upload it soon */
  arrived(): void;
};

const IDLE_MS = 60_000;

export class WalPushServer {
  readonly #path: string;
  readonly #log: Logger;
  readonly #receivers = new Map<string, PushReceiver>();
  #server: Server | undefined;

  constructor(opts: { path: string; log: Logger }) {
    this.#path = opts.path;
    this.#log = opts.log;
  }

  get path(): string {
    return this.#path;
  }

  get receiving(): number {
    return this.#receivers.size;
  }

  add(r: PushReceiver): void {
    this.#receivers.set(r.databaseId, r);
  }

  remove(databaseId: string): void {
    this.#receivers.delete(databaseId);
  }

  async listen(): Promise<void> {
    if (this.#server) return;
    await mkdir(dirname(this.#path), { recursive: true, mode: 0o755 });
    await removeStaleSocket(this.#path);
    const server = createServer((socket) => void this.#handle(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(this.#path, 0o660);
    const gid = groupId('postgres');
    if (gid !== undefined) await chown(this.#path, -1, gid).catch(() => {});
    server.on('error', (e) => this.#log.warn('pitr.wal-push', `wal-push socket: ${e.message}`));
    this.#server = server;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await unlink(this.#path).catch(() => {});
  }

  async #handle(socket: Socket): Promise<void> {
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    socket.on('error', () => {});
    const reply = (text: string) => new Promise<void>((resolve) => socket.end(`${text}\n`, () => resolve()));
    let received: { header: PushHeader; body: Buffer };
    try {
      received = await readRequest(socket);
    } catch (error) {
      await reply(`error ${(error as Error).message}`);
      return;
    }
    try {
      const receiver = this.#route(received.header, received.body);
      await storeDurably(receiver.spoolDir, received.header.name, received.body);
      await reply('ok');
      if (isSegment(received.header.name)) receiver.arrived();
    } catch (error) {
      this.#log.warn('pitr.wal-push', `refused ${received.header.name}: ${(error as Error).message}`);
      await reply(`error ${(error as Error).message.replace(/\n/g, ' ')}`);
    }
  }

  /** The cluster this file belongs to: named by --database, else by the segment's system id. */
  #route(h: PushHeader, body: Buffer): PushReceiver {
    const all = [...this.#receivers.values()];
    if (all.length === 0)
      throw new Error('this agent protects no PostgreSQL server with archive_command (is it switched on?)');
    const systemId = isSegment(h.name) ? segmentSystemId(body) : undefined;
    let candidates = all;
    if (h.database) candidates = all.filter((r) => r.databaseId === h.database || r.name === h.database);
    else if (systemId) {
      const same = all.filter((r) => r.systemId === systemId);
      candidates = same.length > 0 ? same : all.filter((r) => r.systemId === undefined);
    }
    if (candidates.length === 0)
      throw new Error(
        h.database
          ? `no database "${h.database}" of this agent uses archive_command`
          : `no database of this agent is the cluster ${systemId ?? '(unknown)'}`,
      );
    if (candidates.length > 1)
      throw new Error('several databases of this agent use archive_command: add --database <name> to it');
    const receiver = candidates[0]!;
    if (systemId && receiver.systemId && systemId !== receiver.systemId)
      throw new Error(`the segment belongs to cluster ${systemId}, not to "${receiver.name}"`);
    return receiver;
  }
}

/** Reads the header line and exactly the announced bytes, checked against their SHA-256. */
function readRequest(socket: Socket): Promise<{ header: PushHeader; body: Buffer }> {
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    let header: PushHeader | undefined;
    const chunks: Buffer[] = [];
    let have = 0;
    const fail = (message: string) => {
      socket.removeAllListeners('data');
      reject(new Error(message));
    };
    const take = (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      if (!header || have < header.size) return;
      socket.removeAllListeners('data');
      const body = Buffer.concat(chunks, have);
      if (have > header.size) return fail('more bytes than announced');
      if (createHash('sha256').update(body).digest('hex') !== header.sha256)
        return fail('checksum differs: the file changed in transit');
      resolve({ header, body });
    };
    socket.on('data', (chunk: Buffer) => {
      if (header) return take(chunk);
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10);
      if (nl < 0) {
        if (head.length > 512) fail('not a wal-push request');
        return;
      }
      const parsed = parseHeader(head.subarray(0, nl).toString('utf8'));
      if (typeof parsed === 'string') return fail(parsed);
      header = parsed;
      take(head.subarray(nl + 1));
    });
    // (a settled promise ignores the later reject)
    const early = () => {
      if (!header || have < header.size) reject(new Error('the file ended early'));
    };
    socket.once('end', early);
    socket.once('close', early);
  });
}

/** Into the spool: a temporary name, fsync, rename, fsync of the directory. */
async function storeDurably(dir: string, name: string, body: Buffer): Promise<void> {
  const final = join(dir, name);
  // PostgreSQL may archive a file again after a crash: the same content is fine, other content is not
  const existing = await readFile(final).catch(() => undefined);
  if (existing) {
    if (existing.equals(body)) return;
    throw new Error(`${name} is already in the spool with other content`);
  }
  const tmp = join(dir, `.push-${name}-${randomBytes(4).toString('hex')}`);
  const file = await open(tmp, 'wx', 0o600);
  try {
    await file.writeFile(body);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(tmp, final);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** A socket file left by an agent that died: removed when nobody answers on it. */
async function removeStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.end(`${PUSH_MAGIC}\n`);
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another agent already listens on ${path}`);
  await unlink(path);
}

function groupId(name: string): number | undefined {
  try {
    const line = readFileSync('/etc/group', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`));
    const gid = Number(line?.split(':')[2]);
    return Number.isInteger(gid) ? gid : undefined;
  } catch {
    return undefined;
  }
}
