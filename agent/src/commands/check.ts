// `resistro check [--backup <id>] [--read-data]`: are the account's deduplicated backups whole?
// Each one's file is streamed by the service from its manifest and the stored chunks; without
// --read-data only the manifest is read (it authenticates under the key, and the service has
// found every chunk it lists in its index), with --read-data every chunk is read and
// authenticated as a restore would (restic's `check --read-data`). Exit 0 only when all pass.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClientError, type Backup } from '@resistro/contract';
import type { CommandInput } from '../command.ts';
import { openContainer } from '../dedup/container.ts';
import { verifyContainerFile } from '../dedup/container-files.ts';
import { classifyError, UserError } from '../errors.ts';
import { decryptionKey } from '../key-file.ts';
import { downloadBackup } from '../restore/download.ts';
import { createAgentApi } from '../upload/client.ts';

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
  let failed = 0;
  for (const b of dedup) {
    const dir = await mkdtemp(join(tmpdir(), 'resistro-check-'));
    try {
      const path = await downloadBackup(b.id, dir, api, log, signal);
      if (options['read-data']) {
        const r = await verifyContainerFile(path, key);
        out(
          `OK ${b.id} ${b.databaseName} ${b.startedAt}: ${r.sections} sections, ${r.chunks} chunks read and authenticated\n`,
        );
      } else {
        const c = await openContainer(path, key);
        await c.fh.close();
        const chunks = c.manifest.sections.reduce((n, s) => n + s.chunks.length, 0);
        out(`OK ${b.id} ${b.databaseName} ${b.startedAt}: manifest authentic, ${chunks} chunks indexed\n`);
      }
    } catch (error) {
      failed++;
      const report = classifyError(error);
      out(`FAILED ${b.id} ${b.databaseName} ${b.startedAt}: ${report.message}\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  out(
    `${dedup.length - failed} of ${dedup.length} deduplicated backups passed${options['read-data'] ? ' (all data read)' : ''}\n`,
  );
  return failed > 0 ? 1 : 0;
}
