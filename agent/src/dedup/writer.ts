// The writing side of a deduplicated backup (docs/dedup.md): every section's plaintext is cut into
// keyed content-defined chunks; the store is asked, in batches, which it holds; only the new
// chunks are compressed, encrypted and packed into pack objects of PACK_BYTES; the manifest lists
// every section's chunks in order.
//
// Memory: per running section one batch of plaintext awaiting the store's answer (≤ BATCH_BYTES),
// plus the pack being filled and at most UPLOADS_IN_FLIGHT packs uploading.
import type { Readable } from 'node:stream';
import type { SectionKind } from '../format/index.ts';
import { sealChunk } from './blob.ts';
import { Chunker, type ChunkerParams, DEFAULT_CHUNKING } from './chunker.ts';
import { chunkIdentity, type DedupKeys } from './keys.ts';
import { type ChunkRef, MANIFEST_FORMAT, type Manifest, type ManifestSection } from './manifest.ts';
import { type ChunkStore, HAVE_BATCH, type PackEntry } from './store.ts';

export const PACK_BYTES = 8 * 1024 * 1024;
const BATCH_BYTES = 8 * 1024 * 1024;
const UPLOADS_IN_FLIGHT = 2;

export type DedupStats = {
  /** plaintext bytes of all sections */
  logicalBytes: number;
  chunks: number;
  newChunks: number;
  /** bytes of new blobs uploaded in packs */
  uploadedBytes: number;
  packs: number;
  haveRequests: number;
};

type Pending = { plain: Buffer; id: Buffer; key: Buffer };

export class DedupWriter {
  readonly #keys: DedupKeys;
  readonly #store: ChunkStore;
  readonly #level: number;
  readonly #params: ChunkerParams;
  readonly #sections: ManifestSection[] = [];
  /** blob lengths of the chunks packed during this backup (the store knows them once stored) */
  readonly #blobLengths = new Map<string, number>();
  #pack: Buffer[] = [];
  #packLength = 0;
  #entries: PackEntry[] = [];
  readonly #uploads = new Set<Promise<void>>();
  #uploadError: unknown;
  readonly stats: DedupStats = {
    logicalBytes: 0,
    chunks: 0,
    newChunks: 0,
    uploadedBytes: 0,
    packs: 0,
    haveRequests: 0,
  };

  constructor(keys: DedupKeys, store: ChunkStore, opts: { level: number; chunking?: ChunkerParams }) {
    this.#keys = keys;
    this.#store = store;
    this.#level = opts.level;
    this.#params = opts.chunking ?? DEFAULT_CHUNKING;
  }

  /** Fixes the section's index (restore order) before its data arrives. */
  section(kind: SectionKind, name: string, meta?: Record<string, string | number>): number {
    return this.#sections.push({ kind, name, ...(meta && { meta }), plaintextBytes: 0, chunks: [] }) - 1;
  }

  /** Consumes one section's plaintext to its end. */
  async write(index: number, input: Readable | AsyncIterable<Buffer>): Promise<void> {
    const section = this.open(index);
    for await (const data of input) await section.push(data as Buffer);
    await section.end();
  }

  /**
   * One section's plaintext handed over in pieces, for a stream that is split into sections as it
   * passes (a MySQL/MariaDB dump: sql-sections.ts). Each section has a chunker of its own, so a
   * section's first chunk starts where the section does.
   */
  open(index: number): { push(data: Buffer): Promise<void>; end(): Promise<void> } {
    const section = this.#sections[index]!;
    const chunker = new Chunker(this.#keys.gear, this.#params);
    let batch: Pending[] = [];
    let batchBytes = 0;
    const add = async (plain: Buffer) => {
      const { id, key } = chunkIdentity(this.#keys, plain);
      section.chunks.push([id.toString('base64url'), key.toString('base64url'), plain.length, 0]);
      section.plaintextBytes += plain.length;
      batch.push({ plain, id, key });
      batchBytes += plain.length;
      if (batch.length >= HAVE_BATCH || batchBytes >= BATCH_BYTES) {
        const full = batch;
        batch = [];
        batchBytes = 0;
        await this.#storeBatch(section, full);
      }
    };
    return {
      push: async (data) => {
        for (const c of chunker.push(data)) await add(c);
      },
      end: async () => {
        const last = chunker.end();
        if (last) await add(last);
        if (batch.length > 0) await this.#storeBatch(section, batch);
        batch = [];
      },
    };
  }

  /** Asks the store, seals and packs what it lacks, fills in each chunk's blob length. */
  async #storeBatch(section: ManifestSection, batch: Pending[]): Promise<void> {
    this.#throwIfFailed();
    const held = await this.#store.have(batch.map((p) => p.id));
    this.stats.haveRequests++;
    // Chunk refs of this batch are the last batch.length entries of the section.
    const first = section.chunks.length - batch.length;
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      const ref = section.chunks[first + i] as ChunkRef;
      this.stats.chunks++;
      this.stats.logicalBytes += p.plain.length;
      const idText = ref[0];
      // Packed earlier in this backup, or stored by an earlier one: only the reference is new.
      const known = this.#blobLengths.get(idText) ?? held[i];
      if (known !== undefined) {
        ref[3] = known;
        continue;
      }
      const blob = sealChunk(p.plain, p.id, p.key, this.#level);
      ref[3] = blob.length;
      this.#blobLengths.set(idText, blob.length);
      this.stats.newChunks++;
      this.stats.uploadedBytes += blob.length;
      this.#entries.push({ id: p.id, offset: this.#packLength, length: blob.length });
      this.#pack.push(blob);
      this.#packLength += blob.length;
      if (this.#packLength >= PACK_BYTES) await this.#flushPack();
    }
  }

  async #flushPack(): Promise<void> {
    if (this.#entries.length === 0) return;
    const pack = Buffer.concat(this.#pack);
    const entries = this.#entries;
    this.#pack = [];
    this.#entries = [];
    this.#packLength = 0;
    this.stats.packs++;
    while (this.#uploads.size >= UPLOADS_IN_FLIGHT) await Promise.race(this.#uploads);
    this.#throwIfFailed();
    const upload = this.#store.putPack(pack, entries).then(
      () => {
        this.#uploads.delete(upload);
      },
      (error: unknown) => {
        this.#uploads.delete(upload);
        this.#uploadError ??= error;
      },
    );
    this.#uploads.add(upload);
  }

  #throwIfFailed(): void {
    if (this.#uploadError !== undefined) throw this.#uploadError;
  }

  /** Uploads the last pack, waits for every upload, returns the manifest. */
  async finish(meta?: Record<string, string | number>): Promise<Manifest> {
    await this.#flushPack();
    await Promise.all(this.#uploads);
    this.#throwIfFailed();
    return {
      format: MANIFEST_FORMAT,
      chunking: { algorithm: 'fastcdc-keyed-1', ...this.#params },
      sections: this.#sections,
      ...(meta && { meta }),
    };
  }
}
