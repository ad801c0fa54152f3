// A TCP proxy in front of a database server that can stop a large client stream mid-way: once
// armed, the first connection that has sent `bytes` towards the server is held (nothing more is
// forwarded) until released. Queries are a few kilobytes; a restore streams the whole dump, so
// this holds exactly the restore, deterministically "midway", for as long as a test needs.
import { connect, createServer, type Socket } from 'node:net';

export type GateProxy = {
  port: number;
  /** hold the next connection that sends more than `bytes` to the server */
  armAfter(bytes: number): void;
  /** resolves once a connection is held */
  held(): Promise<void>;
  release(): void;
  close(): Promise<void>;
};

export async function startGateProxy(target: { host?: string; port: number }): Promise<GateProxy> {
  let armedAt: number | undefined;
  let holding: Socket | undefined;
  const heldWaiters: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host ?? '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    let sent = 0;
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on('error', drop);
      s.on('close', drop);
    }
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      if (armedAt !== undefined && !holding && sent > armedAt) {
        armedAt = undefined;
        holding = client;
        client.pause();
        for (const w of heldWaiters.splice(0)) w();
        // what arrived with this chunk waits too: forwarded on release
        client.once('resume', () => upstream.write(chunk));
        return;
      }
      upstream.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the gate proxy has no port');
  return {
    port: address.port,
    armAfter(bytes) {
      armedAt = bytes;
    },
    held: () => (holding ? Promise.resolve() : new Promise((resolve) => heldWaiters.push(resolve))),
    release() {
      const h = holding;
      holding = undefined;
      h?.resume();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
