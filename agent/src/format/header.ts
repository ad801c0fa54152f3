import { crc32 } from 'node:zlib';
import { BadMagicError, HeaderCorruptError, TruncatedError, UnsupportedVersionError } from './errors.ts';

// Byte layout of the version 1 header; FORMAT.md ("Header") is the normative description and gives
// the reason for each field. This file only lays bytes out and reads them back: the cryptography that
// fills and checks the wrapped key, commitment and tag is in envelope.ts.

/** "\x89RESISTRO\r\n\x1a": non-ASCII first byte and CR LF / ^Z catch text-mode transfers (as PNG does). */
export const MAGIC = Buffer.from([0x89, 0x52, 0x45, 0x53, 0x49, 0x53, 0x54, 0x52, 0x4f, 0x0d, 0x0a, 0x1a]);
export const VERSION = 1;
/** Version 2: the same header, then a sectioned payload (FORMAT.md §11). */
export const SECTIONED_VERSION = 2;
export type FormatVersion = typeof VERSION | typeof SECTIONED_VERSION;

export const DEFAULT_CHUNK_SIZE = 64 * 1024;
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;

export const KEY_ID_LENGTH = 16;
// SECURITY: a 256-bit salt makes every per-file KEK fresh (FORMAT.md §2.4); the 7-byte nonce prefix
// is what a 96-bit GCM nonce leaves after the 32-bit chunk index and the last flag (§4).
export const SALT_LENGTH = 32;
export const NONCE_PREFIX_LENGTH = 7;
export const DATA_KEY_LENGTH = 32;
export const WRAPPED_KEY_LENGTH = DATA_KEY_LENGTH + 16;
export const EPHEMERAL_KEY_LENGTH = 32;
const COMMITMENT_LENGTH = 32;
const TAG_LENGTH = 32;
const CHECKSUM_LENGTH = 4;

const OFFSET_VERSION = 12;
const OFFSET_KEY_MODE = 13;
const OFFSET_COMPRESSION = 14;
const OFFSET_FLAGS = 15;
const OFFSET_CHUNK_SIZE = 16;
const OFFSET_KEY_ID = 20;
const OFFSET_SALT = 36;
const OFFSET_NONCE_PREFIX = 68;
/** Where the mode-specific block (ephemeral key and/or wrapped key) starts. */
const OFFSET_KEY_BLOCK = 75;

export type KeyMode = 'symmetric' | 'x25519';
export type Compression = 'none' | 'zstd';

const KEY_MODE_IDS: Record<KeyMode, number> = { symmetric: 1, x25519: 2 };
const COMPRESSION_IDS: Record<Compression, number> = { none: 0, zstd: 1 };

/** What a reader learns from a header, before or without the key. */
export type FileHeader = {
  readonly version: number;
  readonly keyMode: KeyMode;
  readonly compression: Compression;
  readonly chunkSize: number;
  /** Hex id of the key the file was encrypted with (FORMAT.md, "Key id"). */
  readonly keyId: string;
  /** Header size in bytes; the first chunk starts here. */
  readonly length: number;
};

export type HeaderFields = {
  /** default 1 */
  version?: FormatVersion;
  keyMode: KeyMode;
  compression: Compression;
  chunkSize: number;
  keyId: Uint8Array;
  salt: Uint8Array;
  noncePrefix: Uint8Array;
  /** x25519 mode only. */
  ephemeralPublicKey?: Uint8Array;
};

export type HeaderLayout = {
  ephemeralPublicKey: number;
  wrappedKey: number;
  commitment: number;
  tag: number;
  checksum: number;
  length: number;
};

export type ParsedHeader = FileHeader & {
  /** The exact header bytes. */
  bytes: Buffer;
  layout: HeaderLayout;
  keyIdBytes: Buffer;
  salt: Buffer;
  noncePrefix: Buffer;
  ephemeralPublicKey: Buffer | undefined;
  wrappedKey: Buffer;
  commitment: Buffer;
  tag: Buffer;
};

export function headerLayout(keyMode: KeyMode): HeaderLayout {
  const ephemeralPublicKey = OFFSET_KEY_BLOCK;
  const wrappedKey = keyMode === 'x25519' ? ephemeralPublicKey + EPHEMERAL_KEY_LENGTH : OFFSET_KEY_BLOCK;
  const commitment = wrappedKey + WRAPPED_KEY_LENGTH;
  const tag = commitment + COMMITMENT_LENGTH;
  const checksum = tag + TAG_LENGTH;
  return { ephemeralPublicKey, wrappedKey, commitment, tag, checksum, length: checksum + CHECKSUM_LENGTH };
}

export const MAX_HEADER_LENGTH = headerLayout('x25519').length;

export function isValidChunkSize(size: number): boolean {
  return Number.isInteger(size) && size >= 1 && size <= MAX_CHUNK_SIZE;
}

/**
 * Lays out a header with the wrapped key, commitment, tag and checksum still zero; envelope.ts fills
 * them in order (each covers the bytes before it) and then calls writeHeaderChecksum.
 */
export function encodeHeader(fields: HeaderFields): Buffer {
  const layout = headerLayout(fields.keyMode);
  const bytes = Buffer.alloc(layout.length);
  MAGIC.copy(bytes, 0);
  bytes[OFFSET_VERSION] = fields.version ?? VERSION;
  bytes[OFFSET_KEY_MODE] = KEY_MODE_IDS[fields.keyMode];
  bytes[OFFSET_COMPRESSION] = COMPRESSION_IDS[fields.compression];
  bytes[OFFSET_FLAGS] = 0;
  bytes.writeUInt32BE(fields.chunkSize, OFFSET_CHUNK_SIZE);
  copyExact(fields.keyId, bytes, OFFSET_KEY_ID, KEY_ID_LENGTH, 'key id');
  copyExact(fields.salt, bytes, OFFSET_SALT, SALT_LENGTH, 'salt');
  copyExact(fields.noncePrefix, bytes, OFFSET_NONCE_PREFIX, NONCE_PREFIX_LENGTH, 'nonce prefix');
  if (fields.keyMode === 'x25519') {
    if (!fields.ephemeralPublicKey) throw new Error('x25519 header needs an ephemeral public key');
    copyExact(
      fields.ephemeralPublicKey,
      bytes,
      layout.ephemeralPublicKey,
      EPHEMERAL_KEY_LENGTH,
      'ephemeral key',
    );
  }
  return bytes;
}

export function writeHeaderChecksum(bytes: Buffer, layout: HeaderLayout): void {
  bytes.writeUInt32BE(crc32(bytes.subarray(0, layout.checksum)), layout.checksum);
}

/**
 * How long the header starting with `prefix` is, or undefined if more bytes are needed to tell.
 * Fails as early as the bytes allow: a wrong magic byte is reported as soon as it arrives.
 */
export function headerLengthOf(prefix: Uint8Array): number | undefined {
  const magicBytes = Math.min(prefix.length, MAGIC.length);
  for (let i = 0; i < magicBytes; i++) {
    if (prefix[i] !== MAGIC[i]) {
      throw new BadMagicError(
        `not a .resistro file: byte ${i} is 0x${hex2(prefix[i])}, expected 0x${hex2(MAGIC[i])}`,
      );
    }
  }
  const version = prefix[OFFSET_VERSION];
  if (version === undefined) return undefined;
  if (version !== VERSION && version !== SECTIONED_VERSION) throw new UnsupportedVersionError(version);
  const modeId = prefix[OFFSET_KEY_MODE];
  if (modeId === undefined) return undefined;
  return headerLayout(keyModeOf(modeId)).length;
}

/** Reads and checks the layout of a header (not its authenticity, which needs the key). */
export function parseHeader(data: Uint8Array): ParsedHeader {
  const length = headerLengthOf(data);
  if (length === undefined || data.length < length) {
    throw new TruncatedError(
      `the file ends inside the header (${data.length} bytes, the header has ${length ?? 'more'})`,
    );
  }
  const bytes = Buffer.from(data.buffer, data.byteOffset, length);
  const keyMode = keyModeOf(bytes[OFFSET_KEY_MODE]!);
  const layout = headerLayout(keyMode);
  // The checksum is checked before any field is interpreted, so that accidental damage (a flipped
  // bit in the key id, say) is reported as a damaged header and never as a wrong key.
  const stored = bytes.readUInt32BE(layout.checksum);
  const computed = crc32(bytes.subarray(0, layout.checksum));
  if (stored !== computed) {
    throw new HeaderCorruptError(
      `header checksum mismatch (stored ${stored.toString(16).padStart(8, '0')}, computed ${computed.toString(16).padStart(8, '0')})`,
    );
  }
  const compression = compressionOf(bytes[OFFSET_COMPRESSION]!);
  const flags = bytes[OFFSET_FLAGS]!;
  if (flags !== 0)
    throw new HeaderCorruptError(`header flags byte is 0x${hex2(flags)}, versions 1 and 2 require 0`);
  const chunkSize = bytes.readUInt32BE(OFFSET_CHUNK_SIZE);
  if (!isValidChunkSize(chunkSize)) {
    throw new HeaderCorruptError(`header chunk size ${chunkSize} is outside 1..${MAX_CHUNK_SIZE}`);
  }
  const keyIdBytes = bytes.subarray(OFFSET_KEY_ID, OFFSET_KEY_ID + KEY_ID_LENGTH);
  return {
    version: bytes[OFFSET_VERSION]!,
    keyMode,
    compression,
    chunkSize,
    keyId: keyIdBytes.toString('hex'),
    length,
    bytes,
    layout,
    keyIdBytes,
    salt: bytes.subarray(OFFSET_SALT, OFFSET_SALT + SALT_LENGTH),
    noncePrefix: bytes.subarray(OFFSET_NONCE_PREFIX, OFFSET_NONCE_PREFIX + NONCE_PREFIX_LENGTH),
    ephemeralPublicKey:
      keyMode === 'x25519' ? bytes.subarray(layout.ephemeralPublicKey, layout.wrappedKey) : undefined,
    wrappedKey: bytes.subarray(layout.wrappedKey, layout.commitment),
    commitment: bytes.subarray(layout.commitment, layout.tag),
    tag: bytes.subarray(layout.tag, layout.checksum),
  };
}

/** The public fields of a header, checked for layout and checksum but not authenticated. */
export function readHeader(data: Uint8Array): FileHeader {
  return publicHeader(parseHeader(data));
}

export function publicHeader(parsed: ParsedHeader): FileHeader {
  const { version, keyMode, compression, chunkSize, keyId, length } = parsed;
  return { version, keyMode, compression, chunkSize, keyId, length };
}

function keyModeOf(id: number): KeyMode {
  if (id === KEY_MODE_IDS.symmetric) return 'symmetric';
  if (id === KEY_MODE_IDS.x25519) return 'x25519';
  throw new HeaderCorruptError(`header key mode ${id} is unknown (1 = symmetric, 2 = x25519)`);
}

function compressionOf(id: number): Compression {
  if (id === COMPRESSION_IDS.none) return 'none';
  if (id === COMPRESSION_IDS.zstd) return 'zstd';
  throw new HeaderCorruptError(`header payload compression ${id} is unknown (0 = none, 1 = zstd)`);
}

function copyExact(source: Uint8Array, target: Buffer, offset: number, length: number, what: string): void {
  if (source.length !== length) throw new Error(`${what} must be ${length} bytes, got ${source.length}`);
  target.set(source, offset);
}

function hex2(byte: number | undefined): string {
  return (byte ?? 0).toString(16).padStart(2, '0');
}
