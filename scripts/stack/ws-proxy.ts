// The WebSocket-to-TCP proxy that lets the Neon serverless driver (as used in production against
// Neon) talk to a plain local PostgreSQL. Every connection goes to the one configured server,
// whatever address the client asks for.
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { WebSocketServer } from 'ws';

export async function startWsProxy(opts: {
  port: number;
  pgHost: string;
  pgPort: number;
  /** sees each connection's client-to-server bytes (the scale bench counts protocol messages) */
  tap?: () => { clientData(data: Buffer): void; close(): void };
}): Promise<{ port: number; stop(): Promise<void> }> {
  const http: Server = createServer((_req, res) => {
    res.writeHead(426).end('WebSocket only');
  });
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (ws) => {
    const socket = connect({ host: opts.pgHost, port: opts.pgPort });
    socket.setNoDelay(true);
    const pending: Buffer[] = [];
    const tap = opts.tap?.();
    let open = false;
    socket.on('connect', () => {
      open = true;
      for (const b of pending) socket.write(b);
      pending.length = 0;
    });
    ws.on('message', (data: Buffer) => {
      tap?.clientData(data);
      if (open) socket.write(data);
      else pending.push(data);
    });
    socket.on('data', (data) => ws.send(data));
    socket.on('error', () => ws.close());
    socket.on('close', () => ws.close());
    ws.on('close', () => {
      tap?.close();
      socket.destroy();
    });
    ws.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => http.listen(opts.port, '127.0.0.1', resolve));
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    port,
    stop: () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        http.close(() => resolve());
      }),
  };
}
