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
  const data = inner.subarray(5, 5 + length);
  const plain = flag === 1 ? zstdDecompressSync(data) : Buffer.from(data);
  if (plain.length !== plainLength)
    throw new BlobError(`it holds ${plain.length} bytes, the manifest says ${plainLength}`);
  return plain;
}
