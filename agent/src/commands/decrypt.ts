// `resistro decrypt --file F --output O`: the plain SQL, for psql/mysql or inspection. The output
// file appears (mode 0600) only after the whole input verified.
import type { CommandInput } from '../command.ts';
import { isContainerFile } from '../dedup/container.ts';
import { decryptContainerFile } from '../dedup/container-files.ts';
import { UsageError } from '../errors.ts';
import { decryptFile } from '../format/index.ts';
import { checkInputFile, checkOutputFile } from '../input-file.ts';
import { decryptionKey } from '../key-file.ts';
import { formatBytes } from '../log.ts';
import { createProgress } from '../progress.ts';

export async function run({ options, config, log }: CommandInput): Promise<number> {
  const file = options.file as string | undefined;
  const output = options.output as string | undefined;
  if (!file || !output) {
    throw new UsageError(
      'decrypt needs --file <backup.resistro> and --output <file.sql>',
      'Example: resistro decrypt --file backup-shop-2026-05-16.resistro --output shop.sql',
    );
  }
  const size = await checkInputFile(file);
  await checkOutputFile(output, { force: options.force === true, input: file });
  const key = decryptionKey(config, options['key-file'] as string | undefined);
  const progress = createProgress(log, `decrypting ${file}`, size);
  if (await isContainerFile(file)) {
    // Version 3 (deduplicated): the chunks are stored compressed one by one; the output is SQL.
    const r = await decryptContainerFile(file, output, key, (n) => progress.add(n)).finally(() =>
      progress.done(),
    );
    log.info('decrypt.ok', `wrote ${formatBytes(r.sqlBytes)} to ${output}`, {
      keyId: r.header.keyId,
      bytes: r.sqlBytes,
    });
    return 0;
  }
  const result = await decryptFile(file, output, key, {
    decompress: !options['no-decompress'],
    onBytes: (n) => progress.add(n),
  }).finally(() => progress.done());
  const bytes = result.decompressedBytes ?? result.plaintextBytes;
  log.info('decrypt.ok', `wrote ${formatBytes(bytes)} to ${output}`, { keyId: result.header.keyId, bytes });
  return 0;
}
