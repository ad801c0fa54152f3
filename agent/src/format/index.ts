// The .resistro encrypted file format. FORMAT.md in this folder is the normative specification.
export { createDecryptStream, DecryptStream } from './decrypt.ts';
export { createEncryptStream, type EncryptOptions } from './encrypt.ts';
export {
  BadMagicError,
  ChunkCorruptError,
  FormatError,
  type FormatErrorCode,
  HeaderCorruptError,
  InvalidKeyError,
  KeyUsageError,
  PayloadCorruptError,
  TocCorruptError,
  TrailingDataError,
  TruncatedError,
  UnsupportedVersionError,
  WrongKeyError,
} from './errors.ts';
export { type DecryptionResult, decryptFile, type FileOptions, readFileHeader, verifyFile } from './files.ts';
export {
  type Compression,
  DEFAULT_CHUNK_SIZE,
  type FileHeader,
  type KeyMode,
  MAGIC,
  MAX_HEADER_LENGTH,
  readHeader,
  SECTIONED_VERSION,
} from './header.ts';
export {
  type EncryptionKey,
  generateKeyPair,
  generateSymmetricKey,
  PRIVATE_KEY_PREFIX,
  PUBLIC_KEY_PREFIX,
  parseEncryptionKey,
  publicKeyOf,
  SYMMETRIC_KEY_PREFIX,
} from './keys.ts';
export {
  type Archive,
  ArchiveWriter,
  fileVersion,
  openArchive,
  readAllSections,
  readSection,
  type SectionEntry,
  type SectionKind,
  sectionLabel,
  type Toc,
} from './sections.ts';
export {
  type AnyTableEntry,
  encodeStatsLine,
  entryDigest,
  MAX_STATS_LINE,
  parseTableStats,
  STATS_KEY_LENGTH,
  STATS_LINE_PREFIX,
  StatsLineCatcher,
  statsDigest,
  TABLE_STATS_FORMAT,
  TABLE_STATS_FORMAT_2,
  type TableDigest,
  type TableMacEntry,
  type TableStatEntry,
  type TableStats,
  TableStatsError,
  tableStatsObject,
} from './table-stats.ts';
