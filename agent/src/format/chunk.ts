// The chunk record and its nonce (FORMAT.md, "Chunks"): the STREAM construction of Hoang,
// Reyhanitabar, Rogaway and Vizár (CRYPTO 2015), laid out as in Tink's AES-GCM-HKDF streaming AEAD.
//
//   record = u32be(plaintext length) || AES-256-GCM ciphertext || 16-byte tag
//   nonce  = 7-byte nonce prefix || u32be(chunk index) || last flag (0x00 or 0x01)
//
// Every chunk but the last holds exactly chunkSize plaintext bytes; the last holds fewer (possibly
// zero), so the length field alone says which chunk is the last one.

export const LENGTH_FIELD_SIZE = 4;
export const GCM_TAG_SIZE = 16;
export const MAX_CHUNK_INDEX = 0xffff_ffff;

/**
 * Writes the nonce of chunk `index` into `nonce` (12 bytes, prefix already in bytes 0..6).
 * SECURITY: the index makes every nonce of a file distinct (so no GCM nonce repeats under the payload
 * key) and authenticates the chunk's position: a chunk moved, repeated or dropped fails its tag. The
 * last flag makes "end of data" authenticated, so a cut at a chunk boundary cannot pass as complete.
 */
export function setChunkNonce(nonce: Buffer, index: number, last: boolean): Buffer {
  if (!Number.isInteger(index) || index < 0 || index > MAX_CHUNK_INDEX) {
    throw new RangeError(`chunk index ${index} is beyond the 2^32 chunks a file can hold`);
  }
  nonce.writeUInt32BE(index, 7);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

export function nonceWithPrefix(noncePrefix: Buffer): Buffer {
  const nonce = Buffer.alloc(12);
  noncePrefix.copy(nonce, 0, 0, 7);
  return nonce;
}
