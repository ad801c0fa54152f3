// A chunk as a zstd frame (blob.ts openChunkFrame), the way a parallel restore hands a deduplicated
// backup's sections to the zstd program: each frame must decompress (node:zlib) to its chunk's
// plaintext, and frames back to back must decompress with the zstd program to all of them; compressed chunks and chunks
// stored raw (incompressible, beyond one 128 KiB block too) alike. A damaged blob or a length that
// is not the manifest's is refused before anything goes on.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BlobError, frameContentSize, openChunkFrame, rawFrame, sealChunk } from './blob.ts';
import { tableText } from './testing.ts';

/** Incompressible bytes, reproducible: SHA-256 of a counter, back to back. */
function noise(n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i * 32 < n; i++)
    createHash('sha256')
      .update(`noise ${i}`)
      .digest()
      .copy(out, i * 32);
  return out;
}

const id = randomBytes(32);
const key = randomBytes(32);
const chunks = [
  tableText(300, 1), // compressible: its own zstd frame
  noise(5000), // stored raw: wrapped into a frame
  Buffer.alloc(0),
  noise(131072 + 777), // raw, more than one 128 KiB block
  tableText(2000, 2),
];

describe('chunks as zstd frames', () => {
  const frames = chunks.map((c) => openChunkFrame(sealChunk(c, id, key, 3), id, key, c.length));
  const all = Buffer.concat(chunks);

  it('decompress to the plaintext: each with node:zlib, back to back with the zstd program', () => {
    frames.forEach((f, i) => {
      expect(zstdDecompressSync(f).equals(chunks[i]!), `frame ${i}`).toBe(true);
    });
    const zstd = spawnSync('zstd', ['-d', '-c', '-q'], { input: Buffer.concat(frames), maxBuffer: 1 << 24 });
    expect(zstd.status, zstd.stderr?.toString()).toBe(0);
    expect(zstd.stdout.equals(all)).toBe(true);
  });

  it('carry the plaintext length in their header', () => {
    frames.forEach((f, i) => {
      expect(frameContentSize(f)).toBe(chunks[i]!.length);
    });
    expect(frameContentSize(zstdCompressSync(Buffer.from('x'.repeat(300))))).toBe(300);
    expect(frameContentSize(rawFrame(Buffer.alloc(70_000)))).toBe(70_000);
  });

  it('refuse a flipped bit and a length that is not the manifest one', () => {
    for (const c of [chunks[0]!, chunks[1]!]) {
      const blob = sealChunk(c, id, key, 3);
      const flipped = Buffer.from(blob);
      flipped[10]! ^= 1;
      expect(() => openChunkFrame(flipped, id, key, c.length)).toThrow(/does not authenticate/);
      expect(() => openChunkFrame(blob, id, key, c.length + 1)).toThrow(BlobError);
      expect(() => openChunkFrame(blob, id, key, c.length + 1)).toThrow(
        `it holds ${c.length} bytes, the manifest says ${c.length + 1}`,
      );
    }
  });
});
