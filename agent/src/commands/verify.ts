// `resistro verify --file F`: reads the whole file and checks everything, writing nothing.
// `resistro verify --restore …`: a test restore (verify-restore.ts).
import type { CommandInput } from '../command.ts';
import { isContainerFile } from '../dedup/container.ts';
import { verifyContainerFile } from '../dedup/container-files.ts';
import { UsageError } from '../errors.ts';
import { verifyFile } from '../format/index.ts';
import { checkInputFile } from '../input-file.ts';
import { decryptionKey } from '../key-file.ts';
import { formatBytes } from '../log.ts';
import { createProgress } from '../progress.ts';

export async function run(input: CommandInput): Promise<number> {
  const { options, config, log, out } = input;
  if (options.restore === true) return (await import('./verify-restore.ts')).runVerifyRestore(input);
  for (const name of ['backup', 'host', 'port', 'user', 'database', 'engine', 'time-limit', 'json'])
    if (options[name] !== undefined)
      throw new UsageError(`--${name} goes with --restore`, 'Run "resistro verify --help".');
  const file = options.file as string | undefined;
  if (!file)
    throw new UsageError(
      'verify needs --file <backup.resistro>',
      'Example: resistro verify --file backup-shop-2026-05-16.resistro',
    );
  const size = await checkInputFile(file);
  const key = decryptionKey(config, options['key-file'] as string | undefined);
  const progress = createProgress(log, `checking ${file}`, size);
  if (await isContainerFile(file)) {
    const r = await verifyContainerFile(file, key, (n) => progress.add(n)).finally(() => progress.done());
    (log.json ? log.info : log.debug)(
      'verify.ok',
      `${file} is intact: ${r.sections} sections, ${r.chunks} chunks, ${formatBytes(r.sqlBytes)} of SQL`,
      { keyId: r.header.keyId, chunks: r.chunks, sqlBytes: r.sqlBytes },
    );
    out(`OK ${file}: key ${r.header.keyId}, ${r.chunks} chunks, ${r.sqlBytes} bytes of SQL\n`);
    return 0;
  }
  const result = await verifyFile(file, key, { onBytes: (n) => progress.add(n) }).finally(() =>
    progress.done(),
  );
  // On a terminal the OK line below says it; the event is for logs (JSON).
  (log.json ? log.info : log.debug)(
    'verify.ok',
    `${file} is intact: ${result.chunks} chunks, ${formatBytes(result.plaintextBytes)} compressed, ${formatBytes(result.decompressedBytes ?? result.plaintextBytes)} of SQL`,
    {
      keyId: result.header.keyId,
      chunks: result.chunks,
      sqlBytes: result.decompressedBytes ?? result.plaintextBytes,
    },
  );
  out(
    `OK ${file}: key ${result.header.keyId}, ${result.chunks} chunks, ${result.decompressedBytes ?? result.plaintextBytes} bytes of SQL\n`,
  );
  return 0;
}
