// `resistro check [--backup <id>] [--read-data]`: are the account's deduplicated backups whole?
// Each one is read straight from storage, as `restore --backup` reads it (dedup/remote-read.ts):
// without --read-data only the manifest is read (it authenticates under the key), the service's
// index must place every chunk in a pack, and every such pack must be in storage, long enough (one
// one-byte read per pack: restic's `check`); with --read-data every chunk is read with ranged
// reads and authenticated as a restore would (restic's `check --read-data`). Nothing is written to
// disk. Exit 0 only when all pass.
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiClientError, type Backup } from '@resistro/contract';
import type { CommandInput } from '../command.ts';
import { openRemoteBackup, READS_IN_FLIGHT } from '../dedup/remote-read.ts';
import { classifyError, UserError } from '../errors.ts';
import { decryptionKey } from '../key-file.ts';
import { formatBytes } from '../log.ts';
import { createProgress } from '../progress.ts';
import { createAgentApi } from '../upload/client.ts';
import { createAgents } from '../upload/http.ts';

export async function run({ options, config, log, out, signal }: CommandInput): Promise<number> {
  const key = decryptionKey(config, options['key-file'] as string | undefined);
  const api = createAgentApi({ endpoint: config.endpoint, apiKey: config.apiKey! });
  const only = options.backup as string | undefined;
  const backups: Backup[] = [];
  if (only) backups.push((await api.getBackup(only)).backup);
  else {
    let cursor: string | undefined;
    do {
      const page = await api
        .listBackups({ status: 'succeeded', limit: 100, ...(cursor && { cursor }) })
        .catch((error: unknown) => {
          if (error instanceof ApiClientError && error.code === 'forbidden')
            throw new UserError(
              "this API key may not list the account's backups (an agent key reads only the backups it is given)",
              'Pass --backup <backup id> (from the dashboard), or run check with a key of the "read" scope in RESISTRO_API_KEY.',
              { cause: error },
            );
          throw error;
        });
      backups.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  const dedup = backups.filter((b) => b.dedup && b.status === 'succeeded');
  const agents = createAgents(READS_IN_FLIGHT);
  let failed = 0;
  try {
    for (const b of dedup) {
      try {
        const remote = await openRemoteBackup({ plan: () => api.dedupReads(b.id), key, agents, signal });
        await remote.checkStored();
        const chunks = remote.manifest.sections.reduce((n, s) => n + s.chunks.length, 0);
        if (options['read-data']) {
          const reading = createProgress(log, `reading backup ${b.id}`, remote.storedBytes);
          await pipeline(
            remote.open({ onFileBytes: (n) => reading.add(n) }),
            new Writable({ write: (_chunk, _e, cb) => cb() }),
          ).finally(() => reading.done());
          out(
            `OK ${b.id} ${b.databaseName} ${b.startedAt}: ${remote.manifest.sections.length} sections, ${chunks} chunks (${formatBytes(remote.storedBytes)}) read and authenticated\n`,
          );
        } else {
          out(
            `OK ${b.id} ${b.databaseName} ${b.startedAt}: manifest authentic, ${chunks} chunks indexed, their packs in storage\n`,
          );
        }
      } catch (error) {
        failed++;
        const report = classifyError(error);
        out(`FAILED ${b.id} ${b.databaseName} ${b.startedAt}: ${report.message}\n`);
      }
    }
  } finally {
    agents.destroy();
  }
  out(
    `${dedup.length - failed} of ${dedup.length} deduplicated backups passed${options['read-data'] ? ' (all data read)' : ''}\n`,
  );
  return failed > 0 ? 1 : 0;
}
