// A deduplicated backup's data path (docs/dedup.md): the engine's sections from one snapshot, N at
// a time, largest first, each dump tool's plain output straight into the DedupWriter (chunk, ask,
// seal and pack only what is new). No plaintext touches the disk. The first failure stops every
// dump, and no manifest is written: a backup without its manifest never completes.
import type { ParallelDump } from '../engines/index.ts';
import type { Manifest } from './manifest.ts';
import type { DedupWriter } from './writer.ts';

export async function runDedupPipeline(opts: {
  plan: ParallelDump;
  writer: DedupWriter;
  jobs: number;
  signal?: AbortSignal | undefined;
  onSection?: (info: { index: number; name: string; dumpPid: number | undefined }) => void;
}): Promise<Manifest> {
  const { plan, writer } = opts;
  opts.signal?.throwIfAborted();
  const indexes = plan.sections.map((s) => writer.section(s.kind, s.name, s.meta));
  const order = plan.sections
    .map((_, i) => i)
    .sort((a, b) => plan.sections[b]!.estimatedBytes - plan.sections[a]!.estimatedBytes);
  const running = new Set<{ kill(): void }>();
  let failure: unknown;
  const fail = (error: unknown) => {
    if (failure !== undefined) return;
    failure = error;
    for (const r of running) r.kill();
  };
  const onAbort = () => fail(opts.signal!.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const runSection = async (index: number) => {
    const dump = await plan.start(index);
    const section = plan.sections[index]!;
    opts.onSection?.({
      index,
      name: section.name ? `${section.kind} ${section.name}` : section.kind,
      dumpPid: dump.pid,
    });
    const handle = { kill: () => dump.kill() };
    running.add(handle);
    try {
      const [written, done] = await Promise.allSettled([
        writer.write(indexes[index]!, dump.stdout),
        dump.done,
      ]);
      // The tool's own failure is the cause; a broken read follows from it.
      if (done.status === 'rejected') throw done.reason;
      if (written.status === 'rejected') {
        dump.stdout.destroy();
        throw written.reason;
      }
    } catch (error) {
      dump.kill();
      throw error;
    } finally {
      running.delete(handle);
    }
  };
  let next = 0;
  const worker = async () => {
    while (failure === undefined && next < order.length) {
      const index = order[next++]!;
      await runSection(index).catch(fail);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, order.length)) }, worker));
    if (failure !== undefined) throw failure;
    return await writer.finish(plan.meta);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await plan.close().catch((error: unknown) => {
      failure ??= error;
    });
  }
}
