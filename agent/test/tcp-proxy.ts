// A TCP proxy the fault tests put in front of a server (the control plane, object storage) so they
// can take it away and bring it back, deterministically:
//   cut()     every connection is dropped and new ones are reset: "the server is down"
//   restore() forwarding works again
//   holdUploads() / releaseUploads(): connections that start with "PUT " (presigned part uploads)
//             stop forwarding, so an upload hangs mid-way for as long as the test wants.
//   corruptNextUpload(): flips one bit in the body of the next part upload on its way, as a bad
//             network card or middlebox would; the request itself stays well-formed.
import { connect, createServer, type Server, type Socket } from 'node:net';

export type TcpProxy = {
  port: number;
  url: string;
  /** request bytes forwarded on PUT connections */
  readonly uploadedBytes: number;
  readonly connections: number;
  cut(): void;
  restore(): void;
  holdUploads(): void;
  releaseUploads(): void;
  corruptNextUpload(): void;
  /** how many uploads had a bit flipped */
  readonly corrupted: number;
  /** resolves once `bytes` PUT bytes went through */
  waitForUploadedBytes(bytes: number): Promise<void>;
  close(): Promise<void>;
};

type Pair = {
  client: Socket;
  upstream: Socket;
  isPut: boolean | undefined;
  held: boolean;
  /** this connection's next chunk is body bytes of the request to corrupt */
  corruptBody: boolean;
};

export async function startTcpProxy(target: { host?: string; port: number }): Promise<TcpProxy> {
  let down = false;
  let holding = false;
  let uploadedBytes = 0;
  let connections = 0;
  let corruptArmed = false;
  let corrupted = 0;
  const pairs = new Set<Pair>();
  const waiters: { bytes: number; resolve: () => void }[] = [];
  const notify = () => {
    for (const w of [...waiters]) {
      if (uploadedBytes >= w.bytes) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };

  const server: Server = createServer((client) => {
    connections++;
    if (down) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, target.host ?? '127.0.0.1');
    const pair: Pair = { client, upstream, isPut: undefined, held: false, corruptBody: false };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.on('data', (chunk: Buffer) => {
      let data = chunk;
      if (pair.isPut === undefined) pair.isPut = data.subarray(0, 4).toString('latin1') === 'PUT ';
      if (pair.isPut) {
        uploadedBytes += data.length;
        notify();
        if (corruptArmed || pair.corruptBody) data = corrupt(pair, data);
      }
      if (!upstream.write(data)) {
        client.pause();
        upstream.once('drain', () => {
          if (!pair.held) client.resume();
        });
      }
      if (pair.isPut && holding) hold(pair);
    });
    upstream.on('data', (data: Buffer) => {
      if (!client.write(data)) {
        upstream.pause();
        client.once('drain', () => {
          if (!pair.held) upstream.resume();
        });
      }
    });
  });
  /** Flips a bit of the first body byte after a request's headers (or of the next chunk, if the headers came alone). */
  const corrupt = (pair: Pair, data: Buffer): Buffer => {
    let at = -1;
    if (pair.corruptBody) at = 0;
    else {
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) return data;
      if (end + 4 < data.length) at = end + 4;
      else {
        pair.corruptBody = true;
        corruptArmed = false;
        return data;
      }
    }
    const copy = Buffer.from(data);
    copy[at]! ^= 0x01;
    pair.corruptBody = false;
    corruptArmed = false;
    corrupted++;
    return copy;
  };
  const hold = (pair: Pair) => {
    pair.held = true;
    pair.client.pause();
    pair.upstream.pause();
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get uploadedBytes() {
      return uploadedBytes;
    },
    get connections() {
      return connections;
    },
    cut() {
      down = true;
      for (const pair of [...pairs]) {
        pair.client.resetAndDestroy();
        pair.upstream.destroy();
      }
      pairs.clear();
    },
    restore() {
      down = false;
    },
    holdUploads() {
      holding = true;
      for (const pair of pairs) if (pair.isPut) hold(pair);
    },
    corruptNextUpload() {
      corruptArmed = true;
    },
    get corrupted() {
      return corrupted;
    },
    releaseUploads() {
      holding = false;
      for (const pair of pairs) {
        if (!pair.held) continue;
        pair.held = false;
        pair.client.resume();
        pair.upstream.resume();
      }
    },
    waitForUploadedBytes(bytes) {
      return new Promise((resolve) => {
        waiters.push({ bytes, resolve });
        notify();
      });
    },
    close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
