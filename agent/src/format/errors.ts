// Every way a .resistro file or an encryption key can be rejected has its own class and a stable
// `code`, so the CLI can print the message plus the hint, and scripts can branch on the code.
// None of these messages ever contains key material.
import { UserError } from '../errors.ts';

export type FormatErrorCode =
  | 'bad_magic'
  | 'unsupported_version'
  | 'header_corrupt'
  | 'wrong_key'
  | 'truncated'
  | 'chunk_corrupt'
  | 'trailing_data'
  | 'toc_corrupt'
  | 'payload_corrupt'
  | 'invalid_key'
  | 'key_usage';

export class FormatError extends UserError {
  declare readonly code: FormatErrorCode;

  constructor(code: FormatErrorCode, message: string, hint: string, options?: ErrorOptions) {
    super(message, hint, { ...options, code });
    this.name = 'FormatError';
  }
}

const DAMAGED_HINT =
  'The file was damaged or altered after it was written; download it again or restore an older backup.';

/** The first bytes are not the Resistro magic: not a .resistro file at all, or mangled in transfer. */
export class BadMagicError extends FormatError {
  constructor(message: string) {
    super(
      'bad_magic',
      message,
      'This is not a .resistro backup file, or it was transferred in text mode (line endings converted).',
    );
    this.name = 'BadMagicError';
  }
}

export class UnsupportedVersionError extends FormatError {
  readonly version: number;
  constructor(version: number, message?: string, hint?: string) {
    super(
      'unsupported_version',
      message ?? `format version ${version} is not supported by this resistro (it reads versions 1 and 2)`,
      hint ?? 'Upgrade resistro to a version that reads this file.',
    );
    this.name = 'UnsupportedVersionError';
    this.version = version;
  }
}

export class HeaderCorruptError extends FormatError {
  constructor(message: string, options?: ErrorOptions) {
    super('header_corrupt', message, DAMAGED_HINT, options);
    this.name = 'HeaderCorruptError';
  }
}

export class WrongKeyError extends FormatError {
  /** Key id recorded in the file (hex). */
  readonly fileKeyId: string;
  /** Key id of the key that was given (hex). */
  readonly givenKeyId: string;
  constructor(message: string, fileKeyId: string, givenKeyId: string) {
    super(
      'wrong_key',
      message,
      `Use the key with key id ${fileKeyId}: the one that was in RESISTRO_ENCRYPTION_KEY when this backup was made.`,
    );
    this.name = 'WrongKeyError';
    this.fileKeyId = fileKeyId;
    this.givenKeyId = givenKeyId;
  }
}

export class TruncatedError extends FormatError {
  constructor(message: string) {
    super(
      'truncated',
      message,
      'The file is incomplete (an interrupted upload or download); download it again or restore an older backup.',
    );
    this.name = 'TruncatedError';
  }
}

/** A chunk failed authentication: a flipped bit, or chunks swapped, repeated or removed mid-file. */
export class ChunkCorruptError extends FormatError {
  readonly chunkIndex: number;
  constructor(message: string, chunkIndex: number) {
    super('chunk_corrupt', message, DAMAGED_HINT);
    this.name = 'ChunkCorruptError';
    this.chunkIndex = chunkIndex;
  }
}

/**
 * A version 2 file's table of contents authenticated but does not describe the file (sections that
 * overlap, leave gaps, or point outside it), or the trailer that locates it is not there.
 */
export class TocCorruptError extends FormatError {
  constructor(message: string) {
    super('toc_corrupt', message, DAMAGED_HINT);
    this.name = 'TocCorruptError';
  }
}

export class TrailingDataError extends FormatError {
  constructor(message: string) {
    super(
      'trailing_data',
      message,
      'Bytes were appended after the end of the backup; the file was altered or two files were joined.',
    );
    this.name = 'TrailingDataError';
  }
}

/**
 * The file authenticated completely, but its payload does not decompress: the backup was made from a
 * broken compressor output. Encryption was fine; the content never was.
 */
export class PayloadCorruptError extends FormatError {
  constructor(message: string, options?: ErrorOptions) {
    super(
      'payload_corrupt',
      message,
      'The backup is authentic but its compressed content is invalid; restore an older backup and check the agent logs of the day it ran.',
      options,
    );
    this.name = 'PayloadCorruptError';
  }
}

/** The key text could not be parsed. The message says what is wrong without repeating the key. */
export class InvalidKeyError extends FormatError {
  // A key is configuration: exit 2, as for any other bad setting.
  override readonly kind = 'usage';
  constructor(message: string, hint = 'Generate a key with `resistro keygen`.') {
    super('invalid_key', message, hint);
    this.name = 'InvalidKeyError';
  }
}

/** A key was used for something it cannot do: a public (recipient) key cannot decrypt. */
export class KeyUsageError extends FormatError {
  constructor(message: string, hint: string) {
    super('key_usage', message, hint);
    this.name = 'KeyUsageError';
  }
}
