import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { completionParts, objectChecksum, partDigests } from './checksums.ts';

const digest = (algorithm: 'sha256' | 'md5', s: string) => createHash(algorithm).update(s).digest('base64');

describe('part checksums', () => {
  test('signs the digest each part came with, once per part', () => {
    const a = digest('sha256', 'a');
    expect(
      partDigests('sha256', {
        parts: [
          { partNumber: 2, checksum: a },
          { partNumber: 2, checksum: a },
        ],
      }),
    ).toEqual([{ partNumber: 2, digest: { algorithm: 'sha256', value: a } }]);
  });

  test('refuses a part without its checksum, one of the wrong algorithm, and one part with two', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as { code: string; fields: object }).fields;
      }
    };
    expect(code(() => partDigests('sha256', { partNumbers: [1] }))).toHaveProperty('parts');
    expect(
      code(() => partDigests('sha256', { parts: [{ partNumber: 1, checksum: digest('md5', 'a') }] })),
    ).toHaveProperty('parts');
    expect(
      code(() => partDigests('md5', { parts: [{ partNumber: 1, checksum: digest('sha256', 'a') }] })),
    ).toHaveProperty('parts');
    const twice = {
      parts: [
        { partNumber: 1, checksum: digest('sha256', 'a') },
        { partNumber: 1, checksum: digest('sha256', 'b') },
      ],
    };
    expect(code(() => partDigests('sha256', twice))).toHaveProperty('parts');
    expect(code(() => completionParts('sha256', [{ partNumber: 1, etag: '"e"' }]))).toHaveProperty('parts');
  });

  test('a backup started before part checksums signs none and completes without them', () => {
    expect(partDigests(null, { partNumbers: [1, 1, 2] })).toEqual([
      { partNumber: 1, digest: undefined },
      { partNumber: 2, digest: undefined },
    ]);
    expect(completionParts(null, [{ partNumber: 1, etag: '"e"' }])).toEqual([{ partNumber: 1, etag: '"e"' }]);
  });

  test("computes the object's checksum as S3 does: SHA-256 of the parts' SHA-256s, MD5 of their MD5s as the ETag", async () => {
    const parts = ['first part', 'second'];
    // The digests of the parts, joined, then hashed again (written out by hand: no Buffer here).
    const raw = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const joined = (algorithm: 'sha256' | 'md5') => {
      const all = parts.map((p) => raw(digest(algorithm, p)));
      const out = new Uint8Array(all.reduce((n, d) => n + d.length, 0));
      let at = 0;
      for (const d of all) {
        out.set(d, at);
        at += d.length;
      }
      return out;
    };
    const sha256Of = createHash('sha256').update(joined('sha256')).digest('base64');
    expect(
      await objectChecksum(
        'sha256',
        parts.map((p) => ({ checksum: digest('sha256', p) })),
      ),
    ).toBe(`${sha256Of}-2`);
    const md5Hex = [...raw(createHash('md5').update(joined('md5')).digest('base64'))]
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('');
    expect(
      await objectChecksum(
        'md5',
        parts.map((p) => ({ checksum: digest('md5', p) })),
      ),
    ).toBe(`${md5Hex}-2`);
    expect(await objectChecksum(null, [{ checksum: digest('sha256', 'x') }])).toBeNull();
    expect(
      completionParts('sha256', [{ partNumber: 1, etag: '"e"', checksum: digest('sha256', 'x') }]),
    ).toEqual([{ partNumber: 1, etag: '"e"', checksumSha256: digest('sha256', 'x') }]);
  });
});
