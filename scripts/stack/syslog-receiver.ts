// The local stand-in for a customer's syslog collector: RFC 5424 messages in octet-counting frames
// (RFC 6587 §3.4.1) over plain TCP and over TLS (RFC 5425), as rsyslog's imtcp/imptcp and
// syslog-ng's network() sources take them. Its TLS certificate is issued by a throwaway local CA
// (`caFile`), which the worker trusts through NODE_EXTRA_CA_CERTS.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';

export type SyslogRecord = {
  transport: 'tcp' | 'tls';
  facility: number;
  severity: number;
  timestamp: string;
  hostname: string;
  appName: string;
  msgId: string;
  structuredData: Record<string, Record<string, string>>;
  msg: string;
  /** the frame's message exactly as received */
  raw: string;
};

/** Parses one RFC 5424 message; throws on anything a strict collector would reject. */
export function parseRfc5424(raw: string): Omit<SyslogRecord, 'transport' | 'raw'> {
  const head = raw.match(/^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) /);
  if (!head) throw new Error('not an RFC 5424 header');
  const pri = Number(head[1]);
  if (pri > 191) throw new Error('PRI out of range');
  let i = head[0].length;
  const structuredData: SyslogRecord['structuredData'] = {};
  if (raw[i] === '-') i++;
  else {
    while (raw[i] === '[') {
      const idEnd = raw.indexOf(' ', i);
      const id = raw.slice(i + 1, idEnd);
      const params: Record<string, string> = {};
      i = idEnd;
      while (raw[i] === ' ') {
        const eq = raw.indexOf('="', i);
        const name = raw.slice(i + 1, eq);
        let value = '';
        let j = eq + 2;
        for (; j < raw.length && raw[j] !== '"'; j++) {
          if (raw[j] === '\\' && ['"', '\\', ']'].includes(raw[j + 1]!)) j++;
          value += raw[j];
        }
        if (raw[j] !== '"') throw new Error('unterminated SD-PARAM');
        params[name] = value;
        i = j + 1;
      }
      if (raw[i] !== ']') throw new Error('unterminated SD-ELEMENT');
      structuredData[id] = params;
      i++;
    }
  }
  let msg = raw[i] === ' ' ? raw.slice(i + 1) : raw.slice(i);
  if (msg.startsWith('\uFEFF')) msg = msg.slice(1);
  return {
    facility: pri >> 3,
    severity: pri & 7,
    timestamp: head[2]!,
    hostname: head[3]!,
    appName: head[4]!,
    msgId: head[6]!,
    structuredData,
    msg,
  };
}

/** Splits a byte stream into octet-counted frames: "<len> <len bytes>" … */
function frameReader(onFrame: (message: string) => void, onError: (e: Error) => void) {
  let buf = Buffer.alloc(0);
  return (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const space = buf.indexOf(0x20);
      if (space === -1) {
        if (buf.length > 10) onError(new Error('no octet count'));
        return;
      }
      const count = buf.subarray(0, space).toString('latin1');
      if (!/^[1-9]\d{0,8}$/.test(count))
        return onError(new Error(`bad octet count ${JSON.stringify(count)}`));
      const n = Number(count);
      if (buf.length < space + 1 + n) return;
      onFrame(buf.subarray(space + 1, space + 1 + n).toString('utf8'));
      buf = buf.subarray(space + 1 + n);
    }
  };
}

/** A local CA and a certificate for 127.0.0.1/localhost signed by it (openssl, once per stack). */
export function makeLocalCertificates(dir: string): { caFile: string; certFile: string; keyFile: string } {
  mkdirSync(dir, { recursive: true });
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl(
    'req',
    '-x509',
    ...ec,
    '-days',
    '30',
    '-subj',
    '/CN=Resistro local test CA',
    '-keyout',
    f('ca-key.pem'),
    '-out',
    f('ca.pem'),
  );
  ssl('req', '-new', ...ec, '-subj', '/CN=localhost', '-keyout', f('key.pem'), '-out', f('cert.csr'));
  writeFileSync(
    f('ext.cnf'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  ssl(
    'x509',
    '-req',
    '-in',
    f('cert.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca-key.pem'),
    '-CAcreateserial',
    '-days',
    '30',
    '-extfile',
    f('ext.cnf'),
    '-out',
    f('cert.pem'),
  );
  return { caFile: f('ca.pem'), certFile: f('cert.pem'), keyFile: f('key.pem') };
}

export type SyslogReceiver = {
  tcpPort: number;
  tlsPort: number;
  caFile: string;
  records(): SyslogRecord[];
  /** frames that did not parse, with the reason */
  rejected(): string[];
  clear(): void;
  stop(): Promise<void>;
};

export async function startSyslogReceiver(opts: {
  certDir: string;
  host?: string;
  onRecord?: (r: SyslogRecord) => void;
}): Promise<SyslogReceiver> {
  const certs = makeLocalCertificates(opts.certDir);
  const records: SyslogRecord[] = [];
  const rejected: string[] = [];
  const sockets = new Set<Socket>();
  const handle = (transport: 'tcp' | 'tls') => (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on(
      'data',
      frameReader(
        (raw) => {
          try {
            const r = { transport, raw, ...parseRfc5424(raw) };
            records.push(r);
            opts.onRecord?.(r);
          } catch (e) {
            rejected.push(`${(e as Error).message}: ${raw.slice(0, 200)}`);
          }
        },
        (e) => {
          rejected.push(e.message);
          socket.destroy();
        },
      ),
    );
  };
  const tcp = createTcpServer(handle('tcp'));
  const tls = createTlsServer(
    { cert: readFileSync(certs.certFile), key: readFileSync(certs.keyFile) },
    handle('tls'),
  );
  tls.on('tlsClientError', (e) => rejected.push(`TLS: ${e.message}`));
  const listen = (s: Server) =>
    new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, opts.host ?? '127.0.0.1', () => {
        const a = s.address();
        resolve(typeof a === 'object' && a ? a.port : 0);
      });
    });
  const tcpPort = await listen(tcp);
  const tlsPort = await listen(tls);
  const close = (s: Server) => new Promise<void>((r) => s.close(() => r()));
  return {
    tcpPort,
    tlsPort,
    caFile: certs.caFile,
    records: () => [...records],
    rejected: () => [...rejected],
    clear: () => {
      records.length = 0;
      rejected.length = 0;
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([close(tcp), close(tls)]);
    },
  };
}
