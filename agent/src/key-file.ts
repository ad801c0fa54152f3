// The encryption key for decrypt/verify/restore: --key-file, else RESISTRO_ENCRYPTION_KEY.
// A key file holds the key on a line of its own (what `resistro keygen --output` writes; # comment
// lines are skipped) or a RESISTRO_ENCRYPTION_KEY=… line, so the agent's env file works too.
import { readFileSync } from 'node:fs';
import type { Config } from './config.ts';
import { parseEnvFile } from './env-file.ts';
import { UsageError } from './errors.ts';
import { type EncryptionKey, FormatError, parseEncryptionKey } from './format/index.ts';

export function readKeyFile(path: string): EncryptionKey {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `the key file ${path} does not exist`
        : `cannot read the key file ${path} (${code ?? (error as Error).message})`,
      'Check the path given to --key-file (and that this user may read it).',
    );
  }
  const fromEnv = parseEnvFile(text).values.get('RESISTRO_ENCRYPTION_KEY');
  const line =
    fromEnv?.value ??
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l !== '' && !l.startsWith('#'));
  if (line === undefined)
    throw new UsageError(
      `the key file ${path} holds no key`,
      'Write the key made by `resistro keygen` into it.',
    );
  try {
    return parseEncryptionKey(line);
  } catch (error) {
    if (error instanceof FormatError)
      throw new UsageError(`the key in ${path}: ${error.message}`, error.hint);
    throw error;
  }
}

/** The key that opens backups: --key-file or the configured one. */
export function decryptionKey(config: Config, keyFile: string | undefined): EncryptionKey {
  const key = keyFile !== undefined ? readKeyFile(keyFile) : config.encryptionKey;
  if (!key)
    throw new UsageError('no encryption key given', 'Set RESISTRO_ENCRYPTION_KEY or pass --key-file <file>.');
  if (key.kind === 'recipient') {
    throw new UsageError(
      'the key is a public key (resistro-pub-1:…), which can only encrypt',
      'Restoring a public-key-mode backup needs the private key (resistro-sec-1:…) made with it by `resistro keygen --public-key-mode`.',
    );
  }
  return key;
}
