// Keyed content-defined chunking: FastCDC (Xia et al., USENIX ATC 2016) with normalized chunking
// (level 2) over a gear table derived from the dedup secret (FORMAT.md §13.3). Boundaries follow
// the content, so an insertion shifts only the chunks around it; the secret table makes the
// boundaries (and so the chunk lengths) unpredictable without the secret.

export type ChunkerParams = { min: number; avg: number; max: number };

/** 32 KiB average (docs/dedup.md: measured between 16 and 64 KiB), 8 KiB min, 128 KiB max. */
export const DEFAULT_CHUNKING: ChunkerParams = { min: 8 * 1024, avg: 32 * 1024, max: 128 * 1024 };

/** The top `bits` bits of a u32: the gear hash's high bits depend on the last 32 bytes. */
function topMask(bits: number): number {
  return bits <= 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

export function validChunking(p: ChunkerParams): boolean {
  const pow2 = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
  return pow2(p.avg) && p.avg >= 256 && p.min >= 64 && p.min < p.avg && p.max > p.avg && p.max <= 16 << 20;
}

/** Feeds bytes in, gets whole chunks out (copies; the internal buffer is reused). */
export class Chunker {
  readonly #gear: Uint32Array;
  readonly #min: number;
  readonly #avg: number;
  readonly #max: number;
  readonly #maskS: number;
  readonly #maskL: number;
  readonly #buf: Buffer;
  #len = 0;
  /** next position to hash in #buf */
  #pos = 0;
  #hash = 0;

  constructor(gear: Uint32Array, params: ChunkerParams = DEFAULT_CHUNKING) {
    if (!validChunking(params)) throw new RangeError('invalid chunking parameters');
    this.#gear = gear;
    this.#min = params.min;
    this.#avg = params.avg;
    this.#max = params.max;
    const bits = Math.log2(params.avg);
    // Normalized chunking, level 2: harder to cut before the average, easier after it.
    this.#maskS = topMask(bits + 2);
    this.#maskL = topMask(bits - 2);
    this.#buf = Buffer.allocUnsafe(params.max);
  }

  /** Appends data; returns the chunks it completed. */
  push(data: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    let offset = 0;
    while (offset < data.length) {
      const n = Math.min(this.#max - this.#len, data.length - offset);
      this.#buf.set(data.subarray(offset, offset + n), this.#len);
      this.#len += n;
      offset += n;
      for (;;) {
        const cut = this.#scan();
        if (cut < 0) break;
        out.push(Buffer.from(this.#buf.subarray(0, cut)));
        this.#buf.copyWithin(0, cut, this.#len);
        this.#len -= cut;
        this.#pos = 0;
        this.#hash = 0;
      }
    }
    return out;
  }

  /** The last chunk (undefined when nothing is pending). */
  end(): Buffer | undefined {
    if (this.#len === 0) return undefined;
    const last = Buffer.from(this.#buf.subarray(0, this.#len));
    this.#len = 0;
    this.#pos = 0;
    this.#hash = 0;
    return last;
  }

  /** Scans pending bytes; returns the cut length, or -1 when more input is needed. */
  #scan(): number {
    const buf = this.#buf;
    const gear = this.#gear;
    const len = this.#len;
    let i = Math.max(this.#pos, this.#min);
    if (len <= this.#min) {
      this.#pos = len;
      return -1;
    }
    let h = this.#hash;
    const normal = Math.min(this.#avg, len);
    const maskS = this.#maskS;
    for (; i < normal; i++) {
      h = ((h << 1) + gear[buf[i]!]!) | 0;
      if ((h & maskS) === 0) return i + 1;
    }
    const maskL = this.#maskL;
    for (; i < len; i++) {
      h = ((h << 1) + gear[buf[i]!]!) | 0;
      if ((h & maskL) === 0) return i + 1;
    }
    if (len >= this.#max) return this.#max;
    this.#pos = len;
    this.#hash = h;
    return -1;
  }
}
