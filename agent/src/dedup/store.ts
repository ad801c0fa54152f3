// Where a deduplicating backup sends chunks: the account's chunk store, as seen by the agent. One
// interface, two implementations: the control plane plus presigned pack uploads (remote-store.ts)
// and memory (tests, the benchmark).

export type PackEntry = { id: Buffer; offset: number; length: number };

export interface ChunkStore {
  /**
   * For each id, the stored blob's length when the account's store holds that chunk already,
   * else undefined (batches of ≤ 1000).
   */
  have(ids: readonly Buffer[]): Promise<(number | undefined)[]>;
  /** Stores one pack (the blobs back to back) and indexes its chunks. */
  putPack(pack: Buffer, entries: readonly PackEntry[]): Promise<void>;
}

export const HAVE_BATCH = 1000;

/** A chunk store in memory: the same contract, for tests and the benchmark. */
export class MemoryChunkStore implements ChunkStore {
  readonly packs: Buffer[] = [];
  readonly index = new Map<string, { pack: number; offset: number; length: number }>();
  requests = 0;

  async have(ids: readonly Buffer[]): Promise<(number | undefined)[]> {
    this.requests++;
    if (ids.length > HAVE_BATCH) throw new RangeError('too many ids in one batch');
    return ids.map((id) => this.index.get(id.toString('base64url'))?.length);
  }

  async putPack(pack: Buffer, entries: readonly PackEntry[]): Promise<void> {
    this.requests++;
    const n = this.packs.push(Buffer.from(pack)) - 1;
    for (const e of entries) {
      const id = e.id.toString('base64url');
      if (!this.index.has(id)) this.index.set(id, { pack: n, offset: e.offset, length: e.length });
    }
  }

  /** A stored blob by id (what a ranged read returns). */
  blob(id: string): Buffer | undefined {
    const at = this.index.get(id);
    return at && this.packs[at.pack]!.subarray(at.offset, at.offset + at.length);
  }

  get storedBytes(): number {
    return this.packs.reduce((n, p) => n + p.length, 0);
  }
}
