// One chunk as stored (FORMAT.md §13.4): compressed when that helps, padded, encrypted with the
// chunk's own key, authenticated together with its id.
//
//   inner = flag (00 raw, 01 zstd) || u32be(data length) || data || zero padding to a multiple of 64
//   blob  = AES-256-GCM(key = chunk key, nonce = 12 zero bytes, aad = "resistro v3 chunk" || id, inner)
//
// SECURITY: each chunk key is HMAC(chunkKeyKey, t) of one plaintext, so it encrypts exactly one
// message (the same plaintext always gives the same blob): the fixed nonce never repeats under a key.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { constants as zlib, zstdCompressSync, zstdDecompressSync } from 'node:zlib';

const AAD_LABEL = Buffer.from('resistro v3 chunk');
const NONCE = Buffer.alloc(12);
const TAG = 16;
const PAD = 64;
export const BLOB_OVERHEAD = 5 + TAG;

function aad(id: Uint8Array): Buffer {
  return Buffer.concat([AAD_LABEL, id]);
}

export function sealChunk(plaintext: Buffer, id: Buffer, key: Buffer, level: number): Buffer {
  const packed = zstdCompressSync(plaintext, { params: { [zlib.ZSTD_c_compressionLevel]: level } });
  const compressed = packed.length < plaintext.length;
  const data = compressed ? packed : plaintext;
  const innerLength = Math.ceil((5 + data.length) / PAD) * PAD;
  const inner = Buffer.alloc(innerLength);
  inner[0] = compressed ? 1 : 0;
  inner.writeUInt32BE(data.length, 1);
  data.copy(inner, 5);
  const cipher = createCipheriv('aes-256-gcm', key, NONCE);
  cipher.setAAD(aad(id));
  const body = cipher.update(inner);
  cipher.final();
  return Buffer.concat([body, cipher.getAuthTag()]);
}

/** Why a blob did not open; the caller names the chunk. */
export class BlobError extends Error {}

/** The chunk's plaintext; throws BlobError when it does not authenticate or is malformed. */
export function openChunk(blob: Uint8Array, id: Uint8Array, key: Uint8Array, plainLength: number): Buffer {
  const { compressed, data } = unsealChunk(blob, id, key);
  const plain = compressed ? zstdDecompressSync(data) : Buffer.from(data);
  if (plain.length !== plainLength)
    throw new BlobError(`it holds ${plain.length} bytes, the manifest says ${plainLength}`);
  return plain;
}

/**
 * The chunk as one zstd frame, authenticated but not decompressed, for the zstd program in front of
 * psql (frames back to back are one zstd stream): a compressed chunk's own frame, whose content
 * size (in its header, as zstd writes it) must be the manifest's, and which zstd holds the output
 * to; a chunk stored raw wrapped in a frame of raw blocks. A frame without a content size is
 * decompressed here instead (and re-wrapped), so the length is always checked before it goes on.
 */
export function openChunkFrame(
  blob: Uint8Array,
  id: Uint8Array,
  key: Uint8Array,
  plainLength: number,
): Buffer {
  const { compressed, data } = unsealChunk(blob, id, key);
  if (!compressed) {
    if (data.length !== plainLength)
      throw new BlobError(`it holds ${data.length} bytes, the manifest says ${plainLength}`);
    return rawFrame(data);
  }
  const size = frameContentSize(data);
  if (size === undefined) return rawFrame(openChunk(blob, id, key, plainLength));
  if (size !== plainLength) throw new BlobError(`it holds ${size} bytes, the manifest says ${plainLength}`);
  return Buffer.from(data);
}

/** Decrypts and authenticates a blob: its inner flag and data (still compressed when flagged). */
function unsealChunk(
  blob: Uint8Array,
  id: Uint8Array,
  key: Uint8Array,
): { compressed: boolean; data: Buffer } {
  if (blob.length < PAD + TAG || (blob.length - TAG) % PAD !== 0)
    throw new BlobError(`its stored length ${blob.length} is not a sealed chunk's`);
  const decipher = createDecipheriv('aes-256-gcm', key, NONCE);
  decipher.setAAD(aad(id));
  decipher.setAuthTag(blob.subarray(blob.length - TAG));
  let inner: Buffer;
  try {
    inner = Buffer.concat([decipher.update(blob.subarray(0, blob.length - TAG)), decipher.final()]);
  } catch {
    throw new BlobError('it does not authenticate (altered, swapped or not this chunk)');
  }
  const flag = inner[0];
  const length = inner.readUInt32BE(1);
  if ((flag !== 0 && flag !== 1) || 5 + length > inner.length)
    throw new BlobError('its authenticated content is malformed');
  return { compressed: flag === 1, data: inner.subarray(5, 5 + length) };
}

const ZSTD_MAGIC = 0xfd2fb528;
const MAX_BLOCK = 128 * 1024;

/** The Frame_Content_Size of a zstd frame's header (RFC 8878 §3.1.1.1), if it has one. */
export function frameContentSize(frame: Buffer): number | undefined {
  if (frame.length < 6 || frame.readUInt32LE(0) !== ZSTD_MAGIC) return undefined;
  const descriptor = frame[4]!;
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const dictIdFlag = descriptor & 3;
  const at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][dictIdFlag]!;
  const fcsSize = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
  if (fcsSize === 0 || frame.length < at + fcsSize) return undefined;
  if (fcsSize === 1) return frame[at];
  if (fcsSize === 2) return frame.readUInt16LE(at) + 256;
  if (fcsSize === 4) return frame.readUInt32LE(at);
  const big = frame.readBigUInt64LE(at);
  return big > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(big);
}

/** `data` as a zstd frame of raw (stored) blocks, its content size in the header (RFC 8878). */
export function rawFrame(data: Uint8Array): Buffer {
  const blocks = Math.max(1, Math.ceil(data.length / MAX_BLOCK));
  const out = Buffer.alloc(4 + 1 + 4 + blocks * 3 + data.length);
  out.writeUInt32LE(ZSTD_MAGIC, 0);
  out[4] = 0xa0; // content size in 4 bytes, single segment (the window is the content), no checksum
  out.writeUInt32LE(data.length, 5);
  let at = 9;
  for (let b = 0; b < blocks; b++) {
    const part = data.subarray(b * MAX_BLOCK, (b + 1) * MAX_BLOCK);
    const last = b === blocks - 1 ? 1 : 0;
    out.writeUIntLE(last | (0 << 1) | (part.length << 3), at, 3); // raw block
    at += 3;
    out.set(part, at);
    at += part.length;
  }
  return out;
}
