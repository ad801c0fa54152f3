// One restore of `npm run bench:dedup`, in a process of its own so that its peak RSS is the
// restore's alone (the benchmark's own process holds the in-memory chunk index and packs).
// Reads one JSON job from stdin (the key travels there, never in argv), prints one JSON line.
//   remote:    a deduplicated backup, ranged reads straight from storage into psql (restore --backup now)
//   assembled: the single file the service streams together (one ranged read after the other),
//              downloaded first, then restored (restore --backup of a deduplicated backup before)
//   whole:     a whole file downloaded, then restored (restore --backup of today's backups)
import { createWriteStream, readFileSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DedupReads } from '@resistro/contract';
import { containerPrefix, recordPrefix } from '../src/dedup/container.ts';
import { chunkRefs, decryptManifest } from '../src/dedup/manifest.ts';
import { openRemoteBackup } from '../src/dedup/remote-read.ts';
import type { DatabaseTarget } from '../src/engines/index.ts';
import { parseEncryptionKey } from '../src/format/index.ts';
import { createLogger } from '../src/log.ts';
import { restoreFile } from '../src/restore/into-database.ts';
import { createAgents, getRange } from '../src/upload/http.ts';

type Job = {
  mode: 'remote' | 'assembled' | 'whole';
  key: string;
  target: DatabaseTarget;
  jobs: number;
  /** remote, assembled */
  plan?: DedupReads;
  /** whole: the file's presigned URL; assembled, whole: where to put the file */
  url?: string;
  path?: string;
};

let text = '';
for await (const chunk of process.stdin) text += chunk;
const job = JSON.parse(text) as Job;
const key = parseEncryptionKey(job.key);
const log = createLogger({ level: process.env.BENCH_LOG === 'debug' ? 'debug' : 'error' });
const signal = new AbortController().signal;
const agents = createAgents(8);
const t0 = performance.now();
const restore = (path: string) =>
  restoreFile({
    path,
    size: statSync(path).size,
    key,
    target: job.target,
    replace: false,
    jobs: job.jobs,
    log,
    signal,
  });

if (job.mode === 'remote') {
  const remote = await openRemoteBackup({ plan: async () => job.plan!, key, agents });
  await restoreFile({
    path: 'remote',
    size: remote.storedBytes,
    key,
    target: job.target,
    replace: false,
    jobs: job.jobs,
    log,
    signal,
    remote,
  });
} else if (job.mode === 'whole') {
  const res = await fetch(job.url!);
  if (res.status !== 200) throw new Error(`download: ${res.status}`);
  await pipeline(Readable.fromWeb(res.body as never), createWriteStream(job.path!));
  await restore(job.path!);
} else {
  const plan = job.plan!;
  const manifestFile = Buffer.from(await (await fetch(plan.manifestUrl)).arrayBuffer());
  const lengths = [...chunkRefs(await decryptManifest(key, manifestFile))].map(({ ref }) => ref[3]);
  const out = createWriteStream(job.path!);
  const write = (b: Buffer) =>
    new Promise<void>((resolve, reject) => out.write(b, (e) => (e ? reject(e) : resolve())));
  await write(containerPrefix(manifestFile.length));
  await write(manifestFile);
  let ref = 0;
  for (const [pack, start, end, offsets] of plan.runs) {
    const data = await getRange(plan.packs[pack]!, start, end, agents);
    for (const at of offsets) {
      const length = lengths[ref++]!;
      await write(recordPrefix(length));
      await write(data.subarray(at, at + length));
    }
  }
  await new Promise<void>((resolve) => out.end(resolve));
  await restore(job.path!);
}
agents.destroy();
// CPU of this process, and of its finished children (psql, zstd: /proc/self/stat cutime + cstime)
const own = process.cpuUsage();
const stat = readFileSync('/proc/self/stat', 'utf8');
const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
process.stdout.write(
  `${JSON.stringify({
    wallMs: performance.now() - t0,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    agentCpuMs: (own.user + own.system) / 1000,
    childCpuMs: ((Number(fields[13]) + Number(fields[14])) * 1000) / 100,
  })}\n`,
);
