// What the scale bench measures outside the worker, each at the one place that sees all of it:
// - PostgreSQL protocol messages at the WebSocket proxy (connections, round trips, statements);
// - query plans from auto_explain in PostgreSQL's JSON log (rows scanned, buffers);
// - storage requests at a forwarding proxy in front of the S3 server;
// - CPU time of the workerd processes this bench started, from /proc.
import { readdirSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';

// ---------------------------------------------------------------- PostgreSQL wire protocol

export type ConnectionStats = {
  /** the first statement's text: a request's first statement is the API key lookup */
  firstQuery: string;
  /** one per exchange the client waits for: startup, and each Sync or simple Query */
  roundTrips: number;
  /** Execute messages plus simple Query messages (BEGIN/COMMIT included) */
  statements: number;
  openedAt: number;
  closedAt: number;
};

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;

/**
 * Reads the client-to-server half of one PostgreSQL connection (frontend messages may be split
 * or joined across WebSocket messages) and counts what the server answers to.
 */
export function wireCounter(onClose: (c: ConnectionStats) => void) {
  return () => {
    let buf = Buffer.alloc(0);
    let startup = true;
    const stats: ConnectionStats = {
      firstQuery: '',
      roundTrips: 0,
      statements: 0,
      openedAt: Date.now(),
      closedAt: 0,
    };
    const query = (body: Buffer, offset: number) => {
      if (stats.firstQuery) return;
      const end = body.indexOf(0, offset);
      stats.firstQuery = body.toString('utf8', offset, end < 0 ? body.length : end).slice(0, 300);
    };
    return {
      clientData(data: Buffer) {
        buf = buf.length ? Buffer.concat([buf, data]) : data;
        for (;;) {
          if (startup) {
            if (buf.length < 8) return;
            const len = buf.readInt32BE(0);
            if (buf.length < len) return;
            const code = buf.readInt32BE(4);
            if (code !== SSL_REQUEST && code !== GSS_REQUEST) {
              startup = false;
              stats.roundTrips++; // startup → authentication … ReadyForQuery
            }
            buf = buf.subarray(len);
            continue;
          }
          if (buf.length < 5) return;
          const type = String.fromCharCode(buf[0]!);
          const len = buf.readInt32BE(1);
          if (buf.length < 1 + len) return;
          const body = buf.subarray(5, 1 + len);
          if (type === 'Q') {
            stats.roundTrips++;
            stats.statements++;
            query(body, 0);
          } else if (type === 'P') {
            query(body, body.indexOf(0) + 1); // statement name, then the query text
          } else if (type === 'E') stats.statements++;
          else if (type === 'S') stats.roundTrips++;
          buf = buf.subarray(1 + len);
        }
      },
      close() {
        stats.closedAt = Date.now();
        onClose(stats);
      },
    };
  };
}

/** A request's connection starts with the API key lookup (authenticate middleware). */
export const isRequestConnection = (firstQuery: string) =>
  /"api_keys"/.test(firstQuery) && /"secret_hash"/.test(firstQuery);

// ---------------------------------------------------------------- auto_explain plans

export type PlanRecord = {
  at: number;
  /** PostgreSQL's session id (start time and process id): one per connection */
  session: string;
  query: string;
  /** rows the scan nodes read: rows returned plus rows removed by filters, times loops */
  rowsScanned: number;
  /** shared buffers hit + read by the whole statement */
  buffers: number;
};

type PlanNode = {
  'Node Type'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
};

const SCANS = /Scan$/; // Seq, Index, Index Only, Bitmap Heap, Tid, … (not Subquery/CTE/Function scans)
const DERIVED = /^(Subquery|CTE|Function|Values|WorkTable|Named Tuplestore|Table Function|Result) Scan$/;

export function rowsScanned(node: PlanNode): number {
  let n = 0;
  const type = node['Node Type'] ?? '';
  if (SCANS.test(type) && !DERIVED.test(type) && type !== 'Bitmap Index Scan') {
    const loops = node['Actual Loops'] ?? 1;
    n +=
      ((node['Actual Rows'] ?? 0) +
        (node['Rows Removed by Filter'] ?? 0) +
        (node['Rows Removed by Index Recheck'] ?? 0)) *
      loops;
  }
  for (const child of node.Plans ?? []) n += rowsScanned(child);
  return n;
}

/** Follows PostgreSQL's jsonlog file and returns the auto_explain plans logged since the last call. */
export function planReader(path: string) {
  let offset = 0;
  let rest = '';
  return async (): Promise<PlanRecord[]> => {
    const fh = await open(path, 'r').catch(() => undefined);
    if (!fh) return [];
    const out: PlanRecord[] = [];
    try {
      const { size } = await fh.stat();
      if (size <= offset) return [];
      const chunk = Buffer.alloc(size - offset);
      await fh.read(chunk, 0, chunk.length, offset);
      offset = size;
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('plan:')) continue;
        const rec = JSON.parse(line) as { timestamp: string; session_id: string; message: string };
        const i = rec.message.indexOf('plan:');
        if (!rec.message.startsWith('duration:') || i < 0) continue;
        const explained = JSON.parse(rec.message.slice(i + 5)) as {
          'Query Text': string;
          Plan: PlanNode;
        };
        out.push({
          at: Date.parse(rec.timestamp.replace(' ', 'T').replace(' UTC', 'Z')),
          session: rec.session_id,
          query: explained['Query Text'],
          rowsScanned: rowsScanned(explained.Plan),
          buffers: (explained.Plan['Shared Hit Blocks'] ?? 0) + (explained.Plan['Shared Read Blocks'] ?? 0),
        });
      }
    } finally {
      await fh.close();
    }
    return out;
  };
}

// ---------------------------------------------------------------- storage requests

/** An S3 request's kind, by method and sub-resource (what S3 bills as class A or B). */
export function s3Operation(method: string, url: string): string {
  const q = new URL(url, 'http://x').searchParams;
  if (method === 'POST' && q.has('delete')) return 'DeleteObjects';
  if (method === 'POST' && q.has('uploads')) return 'CreateMultipartUpload';
  if (method === 'POST' && q.has('uploadId')) return 'CompleteMultipartUpload';
  if (method === 'DELETE' && q.has('uploadId')) return 'AbortMultipartUpload';
  if (method === 'GET' && q.has('uploadId')) return 'ListParts';
  if (method === 'PUT' && q.has('uploadId')) return 'UploadPart';
  if (
    method === 'GET' &&
    (q.has('prefix') || q.has('list-type') || url.split('?')[0]!.split('/').length <= 2)
  )
    return 'ListObjects';
  return `${method}Object`;
}

/**
 * A forwarding proxy in front of the S3 server that counts each request by operation. It passes
 * the Host header through, so SigV4 signatures made for its address still verify.
 */
export async function startS3Counter(target: { host: string; port: number }): Promise<{
  url: string;
  take(): Record<string, number>;
  stop(): Promise<void>;
}> {
  let counts: Record<string, number> = {};
  const server: Server = createServer((req: IncomingMessage, res) => {
    const op = s3Operation(req.method ?? 'GET', req.url ?? '/');
    counts[op] = (counts[op] ?? 0) + 1;
    const upstream = request(
      { host: target.host, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    take() {
      const c = counts;
      counts = {};
      return c;
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// ---------------------------------------------------------------- CPU time

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function procStat(pid: number): { comm: string; ppid: number; cpuMs: number; reapedMs: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const comm = s.slice(s.indexOf('(') + 1, close);
    const f = s.slice(close + 2).split(' ');
    // fields after comm: state ppid … utime(12th) stime(13th) cutime(14th) cstime(15th), from state = index 0
    return {
      comm,
      ppid: Number(f[1]),
      cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_SECOND,
      reapedMs: ((Number(f[13]) + Number(f[14])) * 1000) / TICKS_PER_SECOND,
    };
  } catch {
    return undefined;
  }
}

/**
 * CPU time of a PostgreSQL server as a meter: the postmaster, its live children (backends,
 * checkpointer, …) and the children it has reaped (cutime/cstime), so the CPU of a backend that
 * served one request and exited is counted too. Each call returns the ms since the previous one.
 */
export function postgresCpuMeter(postmasterPid: number) {
  const total = () => {
    const pm = procStat(postmasterPid);
    if (!pm) return 0;
    let ms = pm.cpuMs + pm.reapedMs;
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const st = procStat(Number(name));
      if (st && st.ppid === postmasterPid) ms += st.cpuMs;
    }
    return ms;
  };
  let last = total();
  return {
    take(): number {
      const now = total();
      const ms = now - last;
      last = now;
      return ms;
    },
  };
}

/**
 * CPU time of the processes named `comm` that descend from this process, as a meter: each call
 * returns the milliseconds used since the previous call by the processes alive now (a process
 * that exited in between loses its last interval; `restarts` counts new processes).
 */
export function cpuMeter(comm: string) {
  let last = new Map<number, number>();
  let restarts = -1;
  const sample = () => {
    const all = new Map<number, { comm: string; ppid: number; cpuMs: number }>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const st = procStat(Number(name));
      if (st) all.set(Number(name), st);
    }
    const mine = new Map<number, number>();
    for (const [pid, st] of all) {
      if (st.comm !== comm || pid === process.pid) continue;
      let p = st.ppid;
      for (let depth = 0; p > 1 && depth < 20; depth++) {
        if (p === process.pid) {
          mine.set(pid, st.cpuMs);
          break;
        }
        p = all.get(p)?.ppid ?? 0;
      }
    }
    return mine;
  };
  const meter = {
    /** CPU ms since the previous call */
    take(): number {
      const now = sample();
      let ms = 0;
      for (const [pid, cpu] of now) {
        const before = last.get(pid);
        if (before === undefined) restarts++;
        ms += cpu - (before ?? 0);
      }
      last = now;
      return ms;
    },
    get restarts() {
      return Math.max(0, restarts);
    },
  };
  meter.take();
  restarts = 0;
  return meter;
}
