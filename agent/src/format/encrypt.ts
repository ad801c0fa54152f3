import { createCipheriv, type KeyObject } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { LENGTH_FIELD_SIZE, nonceWithPrefix, setChunkNonce } from './chunk.ts';
import { type FileRandomness, freshRandomness, sealHeader } from './envelope.ts';
import { type Compression, DEFAULT_CHUNK_SIZE, isValidChunkSize, MAX_CHUNK_SIZE } from './header.ts';
import type { EncryptionKey } from './keys.ts';

export type EncryptOptions = {
  /** How the bytes written in were compressed; recorded so the decryptor knows. Default 'zstd'. */
  compression?: Compression;
  /** Plaintext bytes per chunk. Tests only: the agent always uses the default 64 KiB. */
  chunkSize?: number;
};

/**
 * Plaintext in, .resistro file bytes out. Memory is one chunk of pending plaintext plus the chunk
 * being sealed; back-pressure is the usual Transform one.
 */
export function createEncryptStream(key: EncryptionKey, options: EncryptOptions = {}): Transform {
  const randomness = freshRandomness(key);
  try {
    return createEncryptStreamWithRandomness(key, options, randomness);
  } finally {
    // SECURITY: the data key and ephemeral scalar now live only inside KeyObjects; wipe the raw copies.
    randomness.dataKey.fill(0);
    randomness.ephemeralPrivateKey?.fill(0);
  }
}

/**
 * Test hook for golden vectors: the same stream with the per-file randomness given.
 * SECURITY: never call this outside tests; reusing randomness across files reuses GCM nonces.
 */
export function createEncryptStreamWithRandomness(
  key: EncryptionKey,
  options: EncryptOptions,
  randomness: FileRandomness,
): Transform {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!isValidChunkSize(chunkSize))
    throw new RangeError(`chunkSize must be an integer in 1..${MAX_CHUNK_SIZE}`);
  const sealed = sealHeader(key, { compression: options.compression ?? 'zstd', chunkSize }, randomness);
  return new EncryptStream(sealed.header, sealed.payloadKey, sealed.noncePrefix, chunkSize);
}

class EncryptStream extends Transform {
  readonly #payloadKey: KeyObject;
  readonly #nonce: Buffer;
  readonly #chunkSize: number;
  /** Plaintext that does not fill a chunk yet; a full chunk is sealed at once. */
  readonly #pending: Buffer;
  #pendingLength = 0;
  #index = 0;

  constructor(header: Buffer, payloadKey: KeyObject, noncePrefix: Buffer, chunkSize: number) {
    super();
    this.#payloadKey = payloadKey;
    this.#nonce = nonceWithPrefix(noncePrefix);
    this.#chunkSize = chunkSize;
    this.#pending = Buffer.allocUnsafe(chunkSize);
    this.push(header);
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      const size = this.#chunkSize;
      let offset = 0;
      if (this.#pendingLength > 0) {
        offset = data.copy(this.#pending, this.#pendingLength, 0, size - this.#pendingLength);
        this.#pendingLength += offset;
        if (this.#pendingLength < size) {
          callback();
          return;
        }
        this.#seal(this.#pending, false);
        this.#pendingLength = 0;
      }
      // Whole chunks are sealed straight from the input, without copying them first.
      while (data.length - offset >= size) {
        this.#seal(data.subarray(offset, offset + size), false);
        offset += size;
      }
      this.#pendingLength = data.copy(this.#pending, 0, offset);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      // A final chunk is always shorter than chunkSize, so when the data ends on a chunk boundary the
      // final chunk is empty: that is what lets a reader tell the end from a cut at a boundary.
      this.#seal(this.#pending.subarray(0, this.#pendingLength), true);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  #seal(plaintext: Buffer, last: boolean): void {
    // SECURITY: a fresh nonce per chunk (prefix, index, last flag); the index can never wrap because
    // setChunkNonce refuses indexes past 2^32 - 1.
    const cipher = createCipheriv(
      'aes-256-gcm',
      this.#payloadKey,
      setChunkNonce(this.#nonce, this.#index, last),
    );
    // Pushed as three buffers: copying the ciphertext into one record buffer measured ~35% slower.
    const lengthField = Buffer.allocUnsafe(LENGTH_FIELD_SIZE);
    lengthField.writeUInt32BE(plaintext.length, 0);
    this.push(lengthField);
    if (plaintext.length > 0) this.push(cipher.update(plaintext));
    cipher.final();
    this.push(cipher.getAuthTag());
    this.#index++;
  }
}
