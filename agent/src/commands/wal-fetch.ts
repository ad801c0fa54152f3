// `resistro wal-fetch --database <id> --manifest <file> --file %f --dest %p`: see wal/fetch.ts.
import type { CommandInput } from '../command.ts';
import { UsageError } from '../errors.ts';
import { createAgentApi } from '../upload/client.ts';
import { walFetch } from '../wal/fetch.ts';

export async function run({ options, config }: CommandInput): Promise<number> {
  const databaseId = options.database as string | undefined;
  const manifestPath = options.manifest as string | undefined;
  const file = options.file as string | undefined;
  const dest = options.dest as string | undefined;
  if (!databaseId || !manifestPath || !file || !dest)
    throw new UsageError(
      'wal-fetch needs --database <id> --manifest <file> --file <walfile> --dest <path>',
      'It is written into restore_command by resistro restore --pitr; you do not run it yourself.',
    );
  const api = createAgentApi({ endpoint: config.endpoint!, apiKey: config.apiKey! });
  return walFetch({
    api,
    key: config.encryptionKey!,
    databaseId,
    manifestPath,
    file,
    dest,
    say: (line) => process.stderr.write(`${line}\n`),
  });
}
