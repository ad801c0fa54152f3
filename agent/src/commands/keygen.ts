// `resistro keygen`: a new symmetric key, or with --public-key-mode an X25519 key pair.
// SECURITY: keys go to stdout or to a new file with mode 0600 that must not exist yet (an existing
// key file is never overwritten: losing a key loses every backup made with it).
import { writeFileSync } from 'node:fs';
import type { CommandInput } from '../command.ts';
import { UserError } from '../errors.ts';
import { generateKeyPair, generateSymmetricKey, parseEncryptionKey } from '../format/index.ts';

function writeNew(path: string, text: string, mode: number): void {
  try {
    writeFileSync(path, text, { mode, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UserError(
        `${path} already exists; refusing to overwrite a key file`,
        'Choose another --output path, or move the old file away first (keep it while backups made with it exist).',
      );
    }
    throw error;
  }
}

export async function run({ options, out, log }: CommandInput): Promise<number> {
  const output = options.output as string | undefined;
  const now = new Date().toISOString();
  if (options['public-key-mode']) {
    const pair = generateKeyPair();
    const keyId = parseEncryptionKey(pair.publicKey).keyId;
    if (output) {
      writeNew(
        output,
        `# resistro private key (key id ${keyId}), made ${now}. Needed to restore; keep it off the database server.\n${pair.privateKey}\n`,
        0o600,
      );
      writeNew(
        `${output}.pub`,
        `# resistro public key (key id ${keyId}): RESISTRO_ENCRYPTION_KEY on the database server.\n${pair.publicKey}\n`,
        0o644,
      );
      log.info(
        'keygen.written',
        `wrote the private key to ${output} (mode 0600) and the public key to ${output}.pub`,
        { keyId },
      );
      out(`${pair.publicKey}\n`);
      return 0;
    }
    out(
      `# public key: set RESISTRO_ENCRYPTION_KEY to this on the database server (key id ${keyId})\n${pair.publicKey}\n` +
        `# private key: needed to restore; store it safely, NOT on the database server\n${pair.privateKey}\n`,
    );
    return 0;
  }
  const key = generateSymmetricKey();
  const keyId = parseEncryptionKey(key).keyId;
  if (output) {
    writeNew(
      output,
      `# resistro encryption key (key id ${keyId}), made ${now}. Without it no backup made with it can be restored.\n${key}\n`,
      0o600,
    );
    log.info('keygen.written', `wrote a new key to ${output} (mode 0600); keep a copy off this server`, {
      keyId,
    });
    return 0;
  }
  out(`${key}\n`);
  return 0;
}
