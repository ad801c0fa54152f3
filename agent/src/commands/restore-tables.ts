// `resistro restore --table`: single tables out of a backup, into an existing database. A version 1
// (MySQL/MariaDB) or version 2 (PostgreSQL in sections) file on disk, or a deduplicated backup: its
// version 3 file, or straight from storage (restore --backup), where only the chunks of the
// sections the tables need are read, with ranged reads, and nothing is written to disk.
import type { CommandInput } from '../command.ts';
import type { DatabaseTarget } from '../engines/index.ts';
import { createPostgresSessions } from '../engines/postgres.ts';
import { UsageError } from '../errors.ts';
import { type EncryptionKey, SECTIONED_VERSION } from '../format/index.ts';
import { formatBytes } from '../log.ts';
import { createProgress } from '../progress.ts';
import { restoreMysqlTables, restoreMysqlTablesFrom } from '../restore/mysql-table.ts';
import type { SectionSource } from '../restore/parallel.ts';
import { restoreTable, restoreTableFrom } from '../restore/table.ts';

export type TableSource =
  /** a version 1 or 2 file on disk */
  | { kind: 'file'; path: string; key: EncryptionKey; version: number }
  /**
   * A deduplicated backup's sections, plain SQL, each read on its own; `onFileBytes` sees what is
   * read (from the file, or from storage). `openedBytes`: read already when it was opened (the
   * manifest).
   */
  | { kind: 'sections'; open: (onFileBytes: (n: number) => void) => SectionSource; openedBytes: number };

export async function restoreTables(
  input: CommandInput,
  o: {
    /** the backup in messages: its path, or "backup <id>" */
    from: string;
    source: TableSource;
    target: DatabaseTarget;
    tables: string[];
    /** how to list the backup's tables, for the hint of an unknown table */
    listCommand: string;
  },
): Promise<number> {
  const { options, log, out } = input;
  const { target, tables } = o;
  const as = options.as as string | undefined;
  const replace = Boolean(options.replace);
  const restoring = createProgress(log, `restoring ${tables.join(', ')} into ${target.database}`, undefined);
  let readBytes = o.source.kind === 'sections' ? o.source.openedBytes : 0;
  const onFileBytes = (n: number) => {
    readBytes += n;
    restoring.add(n);
  };
  const source = o.source.kind === 'sections' ? o.source.open(onFileBytes) : undefined;
  const into = `${target.engine} ${target.host}:${target.port}/${target.database}`;
  try {
    // The same options for every table restore; the file or the sections it reads from.
    const common = { replace, ...(as !== undefined && { as }), onFileBytes, listCommand: o.listCommand };
    const file = o.source.kind === 'file' ? o.source : undefined;
    if (target.engine !== 'postgres') {
      const result = file
        ? await restoreMysqlTables(file.path, file.key, target, tables, common)
        : await restoreMysqlTablesFrom(source!, target, tables, common);
      log.info(
        'restore.table',
        `restored table${result.tables.length > 1 ? 's' : ''} ${result.tables.join(', ')} from ${o.from} (${formatBytes(readBytes)} read)`,
        {
          tables: result.tables.join(', '),
          sections: result.sections,
          readBytes,
        },
      );
      out(
        `restored table${result.tables.length > 1 ? 's' : ''} ${result.tables.join(', ')} from ${o.from} into ${into}\n`,
      );
      return 0;
    }
    if (file && file.version !== SECTIONED_VERSION)
      throw new UsageError(
        '--table needs a PostgreSQL backup made in sections (by resistro 0.2 or newer)',
        'Restore the whole backup into a scratch database and copy the table from there.',
      );
    for (const table of tables) {
      const opts = { ...common, sessions: createPostgresSessions() };
      const result = file
        ? await restoreTable(file.path, file.key, target, table, opts)
        : await restoreTableFrom(source!, target, table, opts);
      log.info(
        'restore.table',
        `restored table ${table}${as ? ` as ${as}` : ''}${result.created ? ' (created)' : ''} from section ${result.section} (${formatBytes(readBytes)} read)`,
        { table, section: result.section, created: result.created, readBytes },
      );
      out(`restored table ${table}${as ? ` as ${as}` : ''} from ${o.from} into ${into}\n`);
    }
    return 0;
  } finally {
    restoring.done();
  }
}
