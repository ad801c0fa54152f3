import { createDecipheriv, type DecipherGCM, type KeyObject } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { GCM_TAG_SIZE, LENGTH_FIELD_SIZE, MAX_CHUNK_INDEX, nonceWithPrefix, setChunkNonce } from './chunk.ts';
import { openHeader, recipientCannotDecrypt } from './envelope.ts';
import { ChunkCorruptError, TrailingDataError, TruncatedError, UnsupportedVersionError } from './errors.ts';
import {
  type FileHeader,
  headerLengthOf,
  MAX_HEADER_LENGTH,
  parseHeader,
  publicHeader,
  SECTIONED_VERSION,
} from './header.ts';
import type { EncryptionKey } from './keys.ts';

type State = 'header' | 'length' | 'body' | 'tag' | 'done';

/**
 * .resistro file bytes in, plaintext out. Emits 'header' (a FileHeader) once the header is
 * authenticated, before any data. A chunk's plaintext is released only after its tag verified, and
 * the final chunk only at the end of input, once it is known that nothing follows it.
 */
export class DecryptStream extends Transform {
  readonly #key: EncryptionKey;
  #header: FileHeader | undefined;
  #plaintextBytes = 0;
  #chunks = 0;
  #state: State = 'header';
  #headerParts: Buffer[] = [];
  #headerBytes = 0;
  #chunkSize = 0;
  #payloadKey: KeyObject | undefined;
  #nonce: Buffer | undefined;
  readonly #lengthField = Buffer.alloc(LENGTH_FIELD_SIZE);
  readonly #tag = Buffer.alloc(GCM_TAG_SIZE);
  #filled = 0;
  #decipher: DecipherGCM | undefined;
  #bodyRemaining = 0;
  #last = false;
  #plaintext: Buffer[] = [];
  #finalPlaintext: Buffer[] = [];

  /** The label that prefixes error messages, e.g. "section 3 (data public.orders)". */
  readonly #label: string | undefined;

  /**
   * `section`: read one section of a version 2 file (FORMAT.md §11): no header, the chunks start at
   * once under the section's key; the caller has already authenticated the header and the TOC.
   */
  constructor(
    key: EncryptionKey,
    section?: { payloadKey: KeyObject; noncePrefix: Buffer; chunkSize: number; label: string },
  ) {
    super();
    if (key.kind === 'recipient') throw recipientCannotDecrypt();
    this.#key = key;
    this.#label = section?.label;
    if (section) {
      this.#payloadKey = section.payloadKey;
      this.#nonce = nonceWithPrefix(section.noncePrefix);
      this.#chunkSize = section.chunkSize;
      this.#state = 'length';
    }
  }

  #labelled<E extends Error>(error: E): E {
    if (this.#label && error instanceof Error) error.message = `${this.#label}: ${error.message}`;
    return error;
  }

  /** Set once the header is authenticated. */
  get header(): FileHeader | undefined {
    return this.#header;
  }

  /** Authenticated plaintext bytes so far (all of them once the stream ended without error). */
  get plaintextBytes(): number {
    return this.#plaintextBytes;
  }

  /** Authenticated chunks so far, the final one included. */
  get chunks(): number {
    return this.#chunks;
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      let offset = 0;
      while (offset < data.length) offset = this.#consume(data, offset);
      callback();
    } catch (error) {
      callback(this.#labelled(error as Error));
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.#state !== 'done') {
      callback(this.#labelled(this.#truncation()));
      return;
    }
    for (const part of this.#finalPlaintext) this.push(part);
    this.#finalPlaintext = [];
    callback();
  }

  /** Consumes bytes of `data` from `offset` for the current state; returns the new offset. */
  #consume(data: Buffer, offset: number): number {
    switch (this.#state) {
      case 'header':
        return this.#consumeHeader(data, offset);
      case 'length': {
        const end = this.#fill(this.#lengthField, data, offset);
        if (this.#filled === LENGTH_FIELD_SIZE) this.#startChunk();
        return end;
      }
      case 'body': {
        const take = Math.min(this.#bodyRemaining, data.length - offset);
        this.#plaintext.push(this.#decipher!.update(data.subarray(offset, offset + take)));
        this.#bodyRemaining -= take;
        if (this.#bodyRemaining === 0) this.#state = 'tag';
        return offset + take;
      }
      case 'tag': {
        const end = this.#fill(this.#tag, data, offset);
        if (this.#filled === GCM_TAG_SIZE) this.#finishChunk();
        return end;
      }
      case 'done':
        throw new TrailingDataError(
          `${data.length - offset} or more bytes follow the final chunk (chunk ${this.#chunks - 1})`,
        );
    }
  }

  #consumeHeader(data: Buffer, offset: number): number {
    const wanted = MAX_HEADER_LENGTH - this.#headerBytes;
    const seen = Buffer.concat([...this.#headerParts, data.subarray(offset, offset + wanted)]);
    const length = headerLengthOf(seen); // throws BadMagicError / UnsupportedVersionError at once
    if (seen[12] === SECTIONED_VERSION) {
      // A sectioned file is read by position (its table of contents is at the end): sections.ts.
      throw new UnsupportedVersionError(
        SECTIONED_VERSION,
        'this is a sectioned (version 2) file, which is read from a file, not as a stream',
        'Save it to a file first and run resistro decrypt, verify or restore on that file.',
      );
    }
    if (length === undefined || seen.length < length) {
      this.#headerParts = [seen];
      this.#headerBytes = seen.length;
      return Math.min(data.length, offset + wanted);
    }
    const header = parseHeader(Buffer.from(seen.subarray(0, length)));
    const keys = openHeader(header, this.#key);
    this.#payloadKey = keys.payloadKey;
    this.#nonce = nonceWithPrefix(keys.noncePrefix);
    this.#chunkSize = header.chunkSize;
    this.#headerParts = [];
    this.#header = publicHeader(header);
    this.#state = 'length';
    this.#filled = 0;
    this.emit('header', this.#header);
    return offset + (length - this.#headerBytes);
  }

  #fill(target: Buffer, data: Buffer, offset: number): number {
    const copied = data.copy(target, this.#filled, offset, offset + target.length - this.#filled);
    this.#filled += copied;
    return offset + copied;
  }

  #startChunk(): void {
    const index = this.#chunks;
    const length = this.#lengthField.readUInt32BE(0);
    if (length > this.#chunkSize) {
      throw new ChunkCorruptError(
        `chunk ${index} declares ${length} bytes, more than the chunk size ${this.#chunkSize}`,
        index,
      );
    }
    if (index > MAX_CHUNK_INDEX)
      throw new ChunkCorruptError(`chunk ${index} is beyond the 2^32 chunk limit`, index);
    // A short chunk is the final one (the writer never ends on a full chunk): its nonce carries the
    // last flag, so a non-final chunk dressed up as final by editing its length fails authentication.
    this.#last = length < this.#chunkSize;
    // SECURITY: the nonce is rebuilt from the chunk's position, never read from the file, so a chunk
    // moved, repeated or dropped is decrypted under the wrong nonce and fails its tag.
    this.#decipher = createDecipheriv(
      'aes-256-gcm',
      this.#payloadKey!,
      setChunkNonce(this.#nonce!, index, this.#last),
    );
    this.#bodyRemaining = length;
    this.#plaintext = [];
    this.#filled = 0;
    this.#state = length === 0 ? 'tag' : 'body';
  }

  #finishChunk(): void {
    const index = this.#chunks;
    const decipher = this.#decipher!;
    try {
      decipher.setAuthTag(this.#tag);
      decipher.final();
    } catch {
      // SECURITY: the unauthenticated plaintext of this chunk is dropped, never pushed.
      this.#plaintext = [];
      throw new ChunkCorruptError(
        `chunk ${index} failed authentication (altered, moved, repeated, or a chunk before it is missing)`,
        index,
      );
    }
    this.#decipher = undefined;
    this.#chunks++;
    this.#filled = 0;
    for (const part of this.#plaintext) this.#plaintextBytes += part.length;
    if (this.#last) {
      // Held back until the end of input proves there is no trailing data.
      this.#finalPlaintext = this.#plaintext;
      this.#state = 'done';
    } else {
      for (const part of this.#plaintext) this.push(part);
      this.#state = 'length';
    }
    this.#plaintext = [];
  }

  #truncation(): TruncatedError {
    switch (this.#state) {
      case 'header':
        return new TruncatedError(
          this.#headerBytes === 0
            ? 'the file is empty'
            : `the file ends inside the header, after ${this.#headerBytes} bytes`,
        );
      case 'length':
        if (this.#filled === 0) {
          return new TruncatedError(
            `the file ends at a chunk boundary after ${this.#chunks} chunks, but the final chunk is missing`,
          );
        }
        return new TruncatedError(`the file ends inside the length field of chunk ${this.#chunks}`);
      default:
        return new TruncatedError(`the file ends inside chunk ${this.#chunks}`);
    }
  }
}

export function createDecryptStream(key: EncryptionKey): DecryptStream {
  return new DecryptStream(key);
}
