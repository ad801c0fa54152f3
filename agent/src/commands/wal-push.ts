// `resistro wal-push %p`: PostgreSQL's archive_command (see wal/push.ts). Exit 0 only when the
// running agent holds the file on its disk; 1 otherwise, and PostgreSQL keeps it and retries.
import type { CommandInput } from '../command.ts';
import { UsageError, UserError } from '../errors.ts';
import { walPush } from '../wal/push.ts';

export async function run({ options, config }: CommandInput): Promise<number> {
  const file = options.file as string | undefined;
  if (!file)
    throw new UsageError(
      'wal-push needs the path of the WAL file',
      "Set archive_command = 'resistro wal-push %p' in postgresql.conf; PostgreSQL fills in %p.",
    );
  const socket = (options.socket as string | undefined) ?? config.walPushSocket;
  const result = await walPush({ socket, file, database: options.database as string | undefined });
  if (result.ok) return 0;
  throw new UserError(
    `WAL file ${file} was not archived: ${result.message}`,
    'PostgreSQL keeps the file and runs archive_command again. Check that the agent runs (systemctl status resistro-agent), that continuous protection of this server is on with the archive_command method, and that the server user may use the socket.',
    { code: 'wal_push_failed' },
  );
}
