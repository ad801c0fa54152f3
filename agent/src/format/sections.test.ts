import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { zstdCompressSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ChunkCorruptError,
  FormatError,
  HeaderCorruptError,
  TocCorruptError,
  TrailingDataError,
  TruncatedError,
  UnsupportedVersionError,
  WrongKeyError,
} from './errors.ts';
import { decryptFile, verifyFile } from './files.ts';
import { headerLayout, readHeader, writeHeaderChecksum } from './header.ts';
import { generateKeyPair, generateSymmetricKey, parseEncryptionKey } from './keys.ts';
import { openArchive, readAllSections, readSection, TRAILER_LENGTH } from './sections.ts';
import { archiveToBuffer, decryptBuffer, type SectionSpec } from './testing.ts';

const dir = mkdtempSync(join(tmpdir(), 'resistro-sections-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const save = (bytes: Buffer) => {
  const path = join(dir, `f${files++}.resistro`);
  writeFileSync(path, bytes);
  return path;
};

const key = parseEncryptionKey(generateSymmetricKey());
const CHUNK = 16;
const sections: SectionSpec[] = [
  { kind: 'pre-data', data: randomBytes(50) },
  { kind: 'data', name: 'public.a', data: randomBytes(130) },
  { kind: 'data', name: 'public.b', data: randomBytes(0) },
  { kind: 'data', name: 'public.c', data: randomBytes(64) },
  { kind: 'post-data', data: randomBytes(33) },
];
// Segments of ~2 records: the sections' segments interleave in the file.
const { file, toc } = await archiveToBuffer(key, sections, {
  chunkSize: CHUNK,
  compression: 'none',
  segmentSize: 40,
  pieceSize: 20,
});

async function readAll(path: string, k = key) {
  const archive = await openArchive(path, k);
  const parts: Buffer[] = [];
  await pipeline(
    readAllSections(archive),
    new Writable({
      write(chunk, _e, cb) {
        parts.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

async function refused(bytes: Buffer, k = key): Promise<FormatError> {
  const error = await readAll(save(bytes), k).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FormatError);
  return error as FormatError;
}

/** The file with the byte ranges of two equally long segments exchanged. */
function swapRanges(bytes: Buffer, a: [number, number], b: [number, number]): Buffer {
  expect(a[1]).toBe(b[1]);
  const copy = Buffer.from(bytes);
  bytes.copy(copy, b[0], a[0], a[0] + a[1]);
  bytes.copy(copy, a[0], b[0], b[0] + b[1]);
  return copy;
}

describe('sectioned files (version 2)', () => {
  it('round-trips every section, interleaved in the file, in TOC order', async () => {
    expect(readHeader(file).version).toBe(2);
    expect(toc.sections.map((s) => [s.kind, s.name])).toEqual(sections.map((s) => [s.kind, s.name ?? '']));
    expect(toc.sections[1]!.segments.length).toBeGreaterThan(1); // really interleaved
    const all = await readAll(save(file));
    expect(all.equals(Buffer.concat(sections.map((s) => s.data)))).toBe(true);
  });

  it('reads one section alone, touching only its bytes', async () => {
    const archive = await openArchive(save(file), key);
    let read = 0;
    const parts: Buffer[] = [];
    for await (const chunk of readSection(archive, 3, { onFileBytes: (n) => (read += n) })) parts.push(chunk);
    expect(Buffer.concat(parts).equals(sections[3]!.data)).toBe(true);
    expect(read).toBe(toc.sections[3]!.segments.reduce((n, [, l]) => n + l, 0));
  });

  it('decrypt and verify handle it like a version 1 file (zstd sections decompress one by one)', async () => {
    const sql = ['BEGIN;\n', 'COPY t FROM stdin;\n1\n\\.\n', 'COMMIT;\n'];
    const { file: zfile } = await archiveToBuffer(
      key,
      sql.map((text, i) => ({
        kind: i === 0 ? 'pre-data' : i === 1 ? 'data' : 'post-data',
        data: zstdCompressSync(Buffer.from(text)),
      })),
      { compression: 'zstd' },
    );
    const path = save(zfile);
    const out = join(dir, 'out.sql');
    const result = await decryptFile(path, out, key);
    expect(readFileSync(out, 'utf8')).toBe(sql.join(''));
    expect(result.sections).toBe(3);
    expect((await verifyFile(path, key)).decompressedBytes).toBe(sql.join('').length);
  });

  it('works in public-key mode (encrypt with the public key, read with the private one)', async () => {
    const pair = generateKeyPair();
    const { file: pfile } = await archiveToBuffer(parseEncryptionKey(pair.publicKey), sections, {
      compression: 'none',
    });
    const all = await readAll(save(pfile), parseEncryptionKey(pair.privateKey));
    expect(all.equals(Buffer.concat(sections.map((s) => s.data)))).toBe(true);
  });

  it('is refused by the streaming (version 1) reader with a clear message, not misread', async () => {
    const outcome = await decryptBuffer(key, file);
    expect(outcome.error).toBeInstanceOf(UnsupportedVersionError);
    expect((outcome.error as Error).message).toMatch(/sectioned \(version 2\)/);
    expect(outcome.plaintext.length).toBe(0);
  });
});

describe('tampered sectioned files', () => {
  const tocOffset = Number(file.readBigUInt64BE(file.length - TRAILER_LENGTH));

  it.each([1, 5, TRAILER_LENGTH, TRAILER_LENGTH + 1, 40, file.length - tocOffset])(
    'refuses a file cut %i bytes before its end',
    async (cut) => {
      expect(await refused(file.subarray(0, file.length - cut))).toBeInstanceOf(TruncatedError);
    },
  );

  it('refuses a file cut inside the header or right after it', async () => {
    expect(await refused(file.subarray(0, 100))).toBeInstanceOf(TruncatedError);
    expect(await refused(file.subarray(0, readHeader(file).length))).toBeInstanceOf(TruncatedError);
  });

  it('refuses appended bytes and a second file concatenated', async () => {
    expect(await refused(Buffer.concat([file, Buffer.from([0])]))).toBeInstanceOf(TruncatedError);
    // A whole valid file appended: its trailer is found, but its TOC offset points into the first file.
    const error = await refused(Buffer.concat([file, file]));
    expect(['chunk_corrupt', 'toc_corrupt', 'trailing_data']).toContain(error.code);
  });

  it('refuses the sections of two tables swapped (same length, so only the keys tell)', async () => {
    const a = toc.sections[1]!.segments[0]!;
    const c = toc.sections[3]!.segments[0]!;
    const error = await refused(swapRanges(file, [a[0], 36], [c[0], 36]));
    expect(error).toBeInstanceOf(ChunkCorruptError);
    expect(error.message).toMatch(/section 1 \(data public\.a\)/);
  });

  it('refuses two segments of one section reordered', async () => {
    const [first, second] = toc.sections[1]!.segments;
    const error = await refused(swapRanges(file, [first![0], 36], [second![0], 36]));
    expect(error).toBeInstanceOf(ChunkCorruptError);
  });

  it('refuses a section dropped (its bytes cut out; the TOC cannot be changed to match)', async () => {
    const [offset, length] = toc.sections[4]!.segments[0]!;
    const dropped = Buffer.concat([file.subarray(0, offset), file.subarray(offset + length)]);
    expect((await refused(dropped)).code).toMatch(/chunk_corrupt|toc_corrupt|truncated/);
    // ... also with the trailer moved along, so that the TOC itself is found and authenticates:
    const fixed = Buffer.from(dropped);
    fixed.writeBigUInt64BE(BigInt(tocOffset - length), fixed.length - TRAILER_LENGTH);
    expect(await refused(fixed)).toBeInstanceOf(TocCorruptError);
  });

  it('refuses any flipped bit in a section, the TOC or the trailer', async () => {
    for (const offset of [
      toc.sections[0]!.segments[0]![0] + 5,
      toc.sections[3]!.segments[0]![0] + 30,
      tocOffset + 2,
      tocOffset + 10,
      file.length - TRAILER_LENGTH + 3,
      file.length - TRAILER_LENGTH + 9,
      file.length - 1,
    ]) {
      const copy = Buffer.from(file);
      copy[offset]! ^= 0x04;
      const error = await refused(copy);
      expect(error.code, `offset ${offset}`).toMatch(/chunk_corrupt|toc_corrupt|truncated|trailing_data/);
    }
  });

  it('refuses a final chunk of a section relabelled (length edited)', async () => {
    const [offset] = toc.sections[2]!.segments[0]!; // the empty section: one empty final chunk
    const copy = Buffer.from(file);
    copy.writeUInt32BE(CHUNK, offset);
    // It now asks for 16 bytes the section does not have (as in version 1, that reads as a cut).
    expect((await refused(copy)).code).toMatch(/truncated/);
    copy.writeUInt32BE(CHUNK + 1, offset);
    expect(await refused(copy)).toBeInstanceOf(ChunkCorruptError);
  });

  it('refuses a header from another file with the same key, and header edits', async () => {
    const { file: other } = await archiveToBuffer(key, sections, { chunkSize: CHUNK, compression: 'none' });
    const H = readHeader(file).length;
    const mixed = Buffer.concat([other.subarray(0, H), file.subarray(H)]);
    expect(await refused(mixed)).toBeInstanceOf(ChunkCorruptError); // the TOC key differs
    const edited = Buffer.from(file);
    edited[14]! ^= 1; // compression byte, checksum recomputed
    writeHeaderChecksum(edited, headerLayout('symmetric'));
    expect(await refused(edited)).toBeInstanceOf(HeaderCorruptError);
    const v1 = Buffer.from(file);
    v1[12] = 1; // claims version 1: then it is read as a stream and fails
    writeHeaderChecksum(v1, headerLayout('symmetric'));
    expect((await decryptBuffer(key, v1)).error).toBeInstanceOf(HeaderCorruptError);
  });

  it('names the wrong key before reading anything', async () => {
    const other = parseEncryptionKey(generateSymmetricKey());
    expect(await refused(file, other)).toBeInstanceOf(WrongKeyError);
  });

  it('leaves no output file when a section is damaged', async () => {
    const copy = Buffer.from(file);
    copy[toc.sections[4]!.segments[0]![0] + 8]! ^= 1;
    const out = join(dir, 'damaged.sql');
    await expect(decryptFile(save(copy), out, key, { decompress: false })).rejects.toBeInstanceOf(
      ChunkCorruptError,
    );
    expect(() => readFileSync(out)).toThrow();
  });

  it('refuses trailing bytes between the TOC and the trailer', async () => {
    const trailer = file.subarray(file.length - TRAILER_LENGTH);
    const padded = Buffer.concat([
      file.subarray(0, file.length - TRAILER_LENGTH),
      Buffer.from([1, 2]),
      trailer,
    ]);
    expect(await refused(padded)).toBeInstanceOf(TrailingDataError);
  });
});
