// `resistro wal-push %p`: PostgreSQL's archive_command where the agent may not hold a replication
// connection. Hands one WAL file to the running agent over its Unix socket (push-protocol.ts) and
// exits 0 only when the agent answered that the file is on its disk; every other outcome (no agent,
// a refusal, no answer in time) is exit 1, so PostgreSQL keeps the segment and tries again.
// It needs no configuration of its own (it runs as the server's user, who cannot read the agent's
// env file): only the socket's path.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename } from 'node:path';
import { encodeHeader, isPushable, MAX_PUSH_BYTES } from './push-protocol.ts';

export const PUSH_TIMEOUT_MS = 120_000;

export async function walPush(opts: {
  socket: string;
  file: string;
  database?: string | undefined;
  timeoutMs?: number;
}): Promise<{ ok: true } | { ok: false; message: string }> {
  const name = basename(opts.file);
  if (!isPushable(name)) return { ok: false, message: `${name} is not a WAL file name` };
  let body: Buffer;
  try {
    body = await readFile(opts.file);
  } catch (error) {
    return { ok: false, message: `cannot read ${opts.file}: ${(error as Error).message}` };
  }
  if (body.length > MAX_PUSH_BYTES) return { ok: false, message: `${name} is larger than 1 GiB` };
  const sha256 = createHash('sha256').update(body).digest('hex');
  const header = encodeHeader({ name, size: body.length, sha256, database: opts.database });
  return new Promise((resolve) => {
    const socket = connect(opts.socket);
    let answer = '';
    const done = (r: { ok: true } | { ok: false; message: string }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => done({ ok: false, message: 'the agent did not answer in time' }),
      opts.timeoutMs ?? PUSH_TIMEOUT_MS,
    );
    socket.once('connect', () => {
      socket.write(header);
      socket.write(body);
    });
    socket.on('data', (b: Buffer) => {
      answer += b.toString('utf8');
      const nl = answer.indexOf('\n');
      if (nl < 0) return;
      const line = answer.slice(0, nl);
      done(line === 'ok' ? { ok: true } : { ok: false, message: line.replace(/^error /, '') });
    });
    socket.once('error', (e: NodeJS.ErrnoException) =>
      done({
        ok: false,
        message:
          e.code === 'ENOENT' || e.code === 'ECONNREFUSED'
            ? `the agent is not running (nothing listens on ${opts.socket})`
            : e.code === 'EACCES'
              ? `no permission to use ${opts.socket}`
              : e.message,
      }),
    );
    socket.once('close', () =>
      done({ ok: false, message: 'the agent closed the connection without an answer' }),
    );
  });
}
