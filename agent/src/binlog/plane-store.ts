// Log segments through the control plane (contract/src/pitr.ts): presigned single PUTs straight to
// storage, then registration (the plane checks each object's size), and for a restore the plan's
// short-lived GET URLs. The plane's registry is generic (a stream, byte offsets); a binlog maps to
// it as:
//   stream = the binlog's base name ("mysql-bin"), name = "<file>.<start>-<end>",
//   offset = file sequence × 2^32 + byte position, and a segment that ends its file (a rotate)
//   reaches (sequence + 1) × 2^32, where the next file's first segment starts: the plane then sees
//   one unbroken range, and a file that never got its last segment is a gap.
import { createHash } from 'node:crypto';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { PitrBaseBackupBody, PitrRestorePlan, PitrSegmentInput } from '@resistro/contract';
import type { LogPosition } from '../engines/mysql-log-position.ts';
import type { AgentApi } from '../upload/client.ts';
import { callApi } from '../upload/client.ts';
import type { HttpAgents } from '../upload/http.ts';
import { putPart } from '../upload/http.ts';
import { parseBinlogName } from './events.ts';
import type { LogSegmentMeta } from './segment-file.ts';
import type { SegmentRef, SegmentSource, SegmentStore } from './store.ts';

const FILE_SPAN = 2 ** 32;

export function binlogOffset(file: string, pos: number): number {
  const parsed = parseBinlogName(file);
  if (!parsed) throw new Error(`"${file}" is not a binlog file name`);
  return parsed.number * FILE_SPAN + pos;
}

export function binlogStream(file: string): string {
  return parseBinlogName(file)?.base ?? 'binlog';
}

/** A segment as the plane's registry records it. */
export function segmentInput(
  meta: LogSegmentMeta,
  file: { bytes: Buffer; sha256: string },
): PitrSegmentInput {
  const start = binlogOffset(meta.stream, meta.start);
  const seconds = (s: number) => (s > 0 ? new Date(s * 1000).toISOString() : undefined);
  return {
    stream: binlogStream(meta.stream),
    name: `${meta.stream}.${meta.start}-${meta.end}`,
    startPosition: `${meta.stream}:${meta.start}`,
    endPosition: `${meta.stream}:${meta.end}`,
    startOffset: start,
    endOffset: meta.final
      ? (parseBinlogName(meta.stream)!.number + 1) * FILE_SPAN
      : start + (meta.end - meta.start),
    sizeBytes: file.bytes.length,
    sha256: file.sha256,
    md5: createHash('md5').update(file.bytes).digest('base64'),
    partial: false,
    closedAt: new Date().toISOString(),
    firstCommitAt: seconds(meta.firstEventAt),
    lastCommitAt: seconds(meta.lastEventAt),
  };
}

/** A dump as a base backup: the log is needed from its file's start, consistent at its position. */
export function baseBackupInput(
  backupId: string,
  position: LogPosition,
  consistentAt: Date,
): PitrBaseBackupBody {
  return {
    backupId,
    stream: binlogStream(position.file),
    startPosition: `${position.file}:4`,
    endPosition: `${position.file}:${position.pos}${position.gtid ? ` (GTID ${position.gtid})` : ''}`.slice(
      0,
      200,
    ),
    startOffset: binlogOffset(position.file, 0),
    endOffset: binlogOffset(position.file, position.pos),
    consistentAt: consistentAt.toISOString(),
  };
}

export function planeSegmentStore(opts: {
  api: AgentApi;
  databaseId: string;
  agents: HttpAgents;
  signal?: AbortSignal;
}): SegmentStore {
  return {
    async put(meta, file) {
      const input = segmentInput(meta, file);
      const { urls } = await callApi(() => opts.api.pitrUploadUrls(opts.databaseId, [input]), {
        what: 'get an upload URL for a log segment',
        signal: opts.signal,
      });
      const url = urls.find((u) => u.name === input.name);
      if (!url) throw new Error(`the control plane returned no upload URL for ${input.name}`);
      await putPart(url.url, { kind: 'buffer', data: file.bytes }, opts.agents, opts.signal, url.headers);
      await callApi(() => opts.api.registerPitrSegments(opts.databaseId, [input]), {
        what: 'register a log segment',
        signal: opts.signal,
      });
    },
  };
}

/** The segments of a restore plan, fetched through their short-lived URLs. */
export function planSegmentSource(plan: PitrRestorePlan): SegmentSource {
  const refs: SegmentRef[] = plan.segments.map((s) => {
    const match = /^(.+)\.(\d+)-(\d+)$/.exec(s.name);
    if (!match || !parseBinlogName(match[1]!))
      throw new Error(`the plan lists "${s.name}", which is not a binlog segment name`);
    return { id: s.url, stream: match[1]!, start: Number(match[2]), end: Number(match[3]) };
  });
  return {
    list: async () => refs,
    fetch: (ref) => download(ref.id),
  };
}

function download(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    get(url, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.once('error', reject);
      res.once('end', () => {
        if (res.statusCode !== 200)
          return reject(
            new Error(`storage answered ${res.statusCode}${res.statusCode === 404 ? ' (not found)' : ''}`),
          );
        resolve(Buffer.concat(chunks));
      });
    }).once('error', reject);
  });
}
