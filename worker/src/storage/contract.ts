// The contract every ObjectStorage implementation keeps, run against the in-memory store
// (memory.test.ts, unit) and the local signature-checking S3 server (worker/test/storage-s3.test.ts).
// What the control plane relies on: parts join in order into the object, a completed or aborted
// upload is gone (and completing it again says so instead of failing), S3's part rules are
// enforced, deletes and aborts are idempotent, listings page by marker, and a presigned URL
// works for exactly what it was signed for.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MIN_PART_BYTES, type ObjectStorage } from './storage.ts';

export type StorageHarness = {
  storage: ObjectStorage;
  /** Sends a request to a presigned URL, as the agent or a browser does. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** A second bucket of the same service with the same credentials (server-side copies). */
  peer: ObjectStorage;
};

function bytes(n: number, seed: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** A digest to compare megabytes by (a deep equality of large arrays is slow and prints badly). */
async function digest(b: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', b));
  return `${b.length}:${[...d].map((x) => x.toString(16).padStart(2, '0')).join('')}`;
}

async function sha256Base64(b: Uint8Array<ArrayBuffer>): Promise<string> {
  return btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest('SHA-256', b))));
}

function md5Base64(b: Uint8Array): string {
  return createHash('md5').update(b).digest('base64');
}

const errorCode = (text: string) => /<Code>([^<]+)<\/Code>/.exec(text)?.[1];

function joined(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function describeObjectStorage(name: string, harness: () => StorageHarness): void {
  const prefix = `contract/${crypto.randomUUID()}`;
  const keyOf = (what: string) => `${prefix}/${what}-${crypto.randomUUID()}.resistro`;

  async function putPart(
    h: StorageHarness,
    key: string,
    uploadId: string,
    n: number,
    body: Uint8Array<ArrayBuffer>,
  ) {
    const url = await h.storage.presignPart(key, uploadId, n, 600);
    const res = await h.fetch(url, { method: 'PUT', body });
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    const etag = res.headers.get('etag');
    expect(etag).toBeTruthy();
    return { partNumber: n, etag: etag! };
  }

  async function download(h: StorageHarness, key: string, fileName = 'backup.resistro') {
    const res = await h.fetch(await h.storage.presignDownload(key, fileName, 600));
    return { res, body: new Uint8Array(await res.arrayBuffer()) };
  }

  describe(`object storage contract: ${name}`, () => {
    it('joins presigned parts in order into one object that downloads as the file name given', async () => {
      const h = harness();
      const key = keyOf('joined');
      const uploadId = await h.storage.createMultipartUpload(key);
      const a = bytes(MIN_PART_BYTES, 1);
      const b = bytes(12345, 2);
      const parts = [await putPart(h, key, uploadId, 1, a), await putPart(h, key, uploadId, 2, b)];
      expect(await h.storage.headObject(key)).toBeUndefined();
      expect(await h.storage.completeMultipartUpload(key, uploadId, parts)).toBe('completed');
      expect(await h.storage.headObject(key)).toEqual({ size: a.length + b.length });
      const { res, body } = await download(h, key, 'backup-shop-2026-12-02.resistro');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toContain('backup-shop-2026-12-02.resistro');
      expect(await digest(body)).toBe(await digest(joined(a, b)));
    });

    it('reads an object whole or a byte range of it, and nothing for a missing key', async () => {
      const h = harness();
      const key = keyOf('ranged');
      const uploadId = await h.storage.createMultipartUpload(key);
      const data = bytes(5000, 7);
      const parts = [await putPart(h, key, uploadId, 1, data)];
      expect(await h.storage.completeMultipartUpload(key, uploadId, parts)).toBe('completed');
      const read = async (range?: { start: number; end: number }) =>
        new Uint8Array(await new Response(await h.storage.getObject(key, range)).arrayBuffer());
      expect(await digest(await read())).toBe(await digest(data));
      expect(await digest(await read({ start: 100, end: 1100 }))).toBe(await digest(data.slice(100, 1100)));
      expect(await digest(await read({ start: 4999, end: 5000 }))).toBe(await digest(data.slice(4999)));
      expect(await h.storage.getObject(keyOf('missing'), { start: 0, end: 10 })).toBeUndefined();
    });

    it('says an upload completed once is not found when completed again, and keeps the object', async () => {
      const h = harness();
      const key = keyOf('twice');
      const uploadId = await h.storage.createMultipartUpload(key);
      const parts = [await putPart(h, key, uploadId, 1, bytes(1000, 3))];
      expect(await h.storage.completeMultipartUpload(key, uploadId, parts)).toBe('completed');
      expect(await h.storage.completeMultipartUpload(key, uploadId, parts)).toBe('upload_not_found');
      expect(await h.storage.headObject(key)).toEqual({ size: 1000 });
    });

    it('refuses a wrong ETag and a small part before the last, and completes once the parts are right', async () => {
      const h = harness();
      const key = keyOf('refused');
      const uploadId = await h.storage.createMultipartUpload(key);
      const p1 = await putPart(h, key, uploadId, 1, bytes(1000, 4));
      const p2 = await putPart(h, key, uploadId, 2, bytes(1000, 5));
      await expect(
        h.storage.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: p2.etag }]),
      ).rejects.toMatchObject({ code: 'conflict' });
      await expect(h.storage.completeMultipartUpload(key, uploadId, [p1, p2])).rejects.toMatchObject({
        code: 'conflict',
      });
      expect(await h.storage.headObject(key)).toBeUndefined();
      const big = await putPart(h, key, uploadId, 1, bytes(MIN_PART_BYTES, 6));
      expect(await h.storage.completeMultipartUpload(key, uploadId, [big, p2])).toBe('completed');
      expect(await h.storage.headObject(key)).toEqual({ size: MIN_PART_BYTES + 1000 });
    });

    it('aborts an upload idempotently: it takes no more parts and cannot be completed', async () => {
      const h = harness();
      const key = keyOf('aborted');
      const uploadId = await h.storage.createMultipartUpload(key);
      const part = await putPart(h, key, uploadId, 1, bytes(100, 7));
      await h.storage.abortMultipartUpload(key, uploadId);
      await h.storage.abortMultipartUpload(key, uploadId);
      expect(await h.storage.completeMultipartUpload(key, uploadId, [part])).toBe('upload_not_found');
      const late = await h.fetch(await h.storage.presignPart(key, uploadId, 2, 600), {
        method: 'PUT',
        body: bytes(100, 8),
      });
      await late.arrayBuffer();
      expect(late.ok).toBe(false);
      expect(await h.storage.headObject(key)).toBeUndefined();
    });

    it('stores a whole object PUT to its presigned URL, and only with the body whose checksum was signed', async () => {
      const h = harness();
      const key = keyOf('put');
      const body = bytes(3000, 11);
      const value = await sha256Base64(body);
      const url = await h.storage.presignPut(key, 600, { algorithm: 'sha256', value });
      const other = bytes(3000, 12);
      const wrong = await h.fetch(url, {
        method: 'PUT',
        body: other,
        headers: { 'x-amz-checksum-sha256': await sha256Base64(other) },
      });
      await wrong.arrayBuffer();
      expect(wrong.ok).toBe(false);
      const res = await h.fetch(url, { method: 'PUT', body, headers: { 'x-amz-checksum-sha256': value } });
      await res.arrayBuffer();
      expect(res.status).toBe(200);
      expect(await h.storage.headObject(key)).toEqual({ size: 3000 });
      const { body: got } = await download(h, key);
      expect(await digest(got)).toBe(await digest(body));
    });

    it('writes a whole object from the control plane only with the SHA-256 of its body, leaving nothing when it is wrong', async () => {
      const h = harness();
      const key = keyOf('merged');
      const body = bytes(MIN_PART_BYTES + 12_345, 13);
      const other = bytes(body.length, 14);
      // a checksum of other bytes: refused as a conflict, and no object appears
      await expect(h.storage.putObject(key, body, await sha256Base64(other))).rejects.toMatchObject({
        code: 'conflict',
      });
      expect(await h.storage.headObject(key)).toBeUndefined();
      await h.storage.putObject(key, body, await sha256Base64(body));
      expect(await h.storage.readChecksum(key)).toEqual({
        size: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
      });
      // a ranged read of it, as a merged pack's chunks are read
      const part = await h.storage.getObject(key, { start: 1000, end: 3000 });
      expect(await digest(new Uint8Array(await new Response(part).arrayBuffer()))).toBe(
        await digest(body.slice(1000, 3000)),
      );
      // an existing object is not replaced by a body that does not match its checksum
      await expect(h.storage.putObject(key, other, await sha256Base64(body))).rejects.toMatchObject({
        code: 'conflict',
      });
      expect((await h.storage.readChecksum(key))?.sha256).toBe(
        createHash('sha256').update(body).digest('hex'),
      );
    });

    it('refuses a presigned URL changed to name another object', async () => {
      const h = harness();
      const key = keyOf('signed');
      const uploadId = await h.storage.createMultipartUpload(key);
      await h.storage.completeMultipartUpload(key, uploadId, [
        await putPart(h, key, uploadId, 1, bytes(10, 9)),
      ]);
      const url = await h.storage.presignDownload(key, 'x.resistro', 600);
      const other = url.replace(encodeURIComponent(key.split('/').at(-1)!), 'other.resistro');
      expect(other).not.toBe(url);
      const res = await h.fetch(other);
      await res.arrayBuffer();
      expect(res.status).toBe(403);
    });

    it('deletes one object or many idempotently, a missing key counting as gone', async () => {
      const h = harness();
      const keys: string[] = [];
      for (let i = 0; i < 3; i++) {
        const key = keyOf(`delete-${i}`);
        const uploadId = await h.storage.createMultipartUpload(key);
        await h.storage.completeMultipartUpload(key, uploadId, [
          await putPart(h, key, uploadId, 1, bytes(10, i)),
        ]);
        keys.push(key);
      }
      await h.storage.deleteObject(keys[0]!);
      await h.storage.deleteObject(keys[0]!);
      expect(await h.storage.headObject(keys[0]!)).toBeUndefined();
      const missing = keyOf('never-written');
      expect(await h.storage.deleteObjects([...keys, missing])).toEqual(new Set([...keys, missing]));
      for (const k of keys) expect(await h.storage.headObject(k)).toBeUndefined();
    });

    it('lists the keys under a prefix in key order, page by page after a marker', async () => {
      const h = harness();
      const dir = `${prefix}/list-${crypto.randomUUID()}/`;
      const keys = ['a', 'b', 'c', 'd', 'e'].map((n) => `${dir}${n}.resistro`);
      for (const key of keys) {
        const uploadId = await h.storage.createMultipartUpload(key);
        await h.storage.completeMultipartUpload(key, uploadId, [
          await putPart(h, key, uploadId, 1, bytes(5, 1)),
        ]);
      }
      const first = await h.storage.listKeys(dir, 2);
      expect(first).toEqual({ keys: keys.slice(0, 2), truncated: true });
      const rest = await h.storage.listKeys(dir, 10, first.keys.at(-1));
      expect(rest).toEqual({ keys: keys.slice(2), truncated: false });
      expect(await h.storage.listKeys(`${dir}zz`)).toEqual({ keys: [], truncated: false });
    });

    it('refuses a part whose bytes differ from the SHA-256 signed into its URL, and completes with each part’s own', async () => {
      const h = harness();
      const key = keyOf('sha256');
      const uploadId = await h.storage.createMultipartUpload(key, 'sha256');
      const part = bytes(MIN_PART_BYTES, 7);
      const value = await sha256Base64(part);
      const url = await h.storage.presignPart(key, uploadId, 1, 600, { algorithm: 'sha256', value });
      const header = { 'x-amz-checksum-sha256': value };
      const corrupted = part.slice();
      corrupted[4096]! ^= 1;
      const refused = await h.fetch(url, { method: 'PUT', body: corrupted, headers: header });
      expect([refused.status, errorCode(await refused.text())]).toEqual([400, 'BadDigest']);
      // the checksum is part of the signature: a header matching the corrupted bytes is refused too
      const swapped = await h.fetch(url, {
        method: 'PUT',
        body: corrupted,
        headers: { 'x-amz-checksum-sha256': await sha256Base64(corrupted) },
      });
      expect(swapped.status).toBe(403);
      await swapped.arrayBuffer();
      const sent = await h.fetch(url, { method: 'PUT', body: part, headers: header });
      await sent.arrayBuffer();
      expect(sent.status).toBe(200);
      const etag = sent.headers.get('etag')!;
      await expect(
        h.storage.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag }]),
      ).rejects.toThrow(/InvalidPart/);
      expect(
        await h.storage.completeMultipartUpload(key, uploadId, [
          { partNumber: 1, etag, checksumSha256: value },
        ]),
      ).toBe('completed');
      expect(await digest((await download(h, key)).body)).toBe(await digest(part));
    });

    it('refuses a part whose bytes differ from the MD5 signed into its URL (providers without SHA-256)', async () => {
      const h = harness();
      const key = keyOf('md5');
      const uploadId = await h.storage.createMultipartUpload(key, 'md5');
      const part = bytes(1000, 9);
      const value = md5Base64(part);
      const url = await h.storage.presignPart(key, uploadId, 1, 600, { algorithm: 'md5', value });
      const corrupted = part.slice();
      corrupted[0]! ^= 0xff;
      const refused = await h.fetch(url, {
        method: 'PUT',
        body: corrupted,
        headers: { 'content-md5': value },
      });
      expect([refused.status, errorCode(await refused.text())]).toEqual([400, 'BadDigest']);
      const sent = await h.fetch(url, { method: 'PUT', body: part, headers: { 'content-md5': value } });
      await sent.arrayBuffer();
      expect(sent.status).toBe(200);
      const parts = [{ partNumber: 1, etag: sent.headers.get('etag')! }];
      expect(await h.storage.completeMultipartUpload(key, uploadId, parts)).toBe('completed');
    });

    it('locks an object as its upload completes: no delete, bulk delete or overwrite until the date, which can move later but not earlier', async () => {
      const h = harness();
      const key = keyOf('locked');
      const until = new Date(Date.now() + 3600_000);
      const uploadId = await h.storage.createMultipartUpload(key, undefined, { retainUntil: until });
      expect(
        await h.storage.completeMultipartUpload(key, uploadId, [
          await putPart(h, key, uploadId, 1, bytes(10, 1)),
        ]),
      ).toBe('completed');
      expect((await h.storage.getObjectLock(key))?.retainUntil.getTime()).toBe(until.getTime());
      await expect(h.storage.deleteObject(key)).rejects.toMatchObject({ code: 'conflict' });
      const other = keyOf('unlocked');
      const otherUpload = await h.storage.createMultipartUpload(other);
      await h.storage.completeMultipartUpload(other, otherUpload, [
        await putPart(h, other, otherUpload, 1, bytes(10, 2)),
      ]);
      expect(await h.storage.getObjectLock(other)).toBeUndefined();
      expect(await h.storage.deleteObjects([key, other])).toEqual(new Set([other]));
      // an upload over the locked key is refused when it would replace it
      const over = await h.storage.createMultipartUpload(key);
      await expect(
        h.storage.completeMultipartUpload(key, over, [await putPart(h, key, over, 1, bytes(10, 3))]),
      ).rejects.toMatchObject({ code: 'conflict' });
      await expect(
        h.storage.putObjectLock(key, { retainUntil: new Date(until.getTime() - 60_000) }),
      ).rejects.toMatchObject({
        code: 'conflict',
      });
      const later = new Date(until.getTime() + 86400_000);
      await h.storage.putObjectLock(key, { retainUntil: later });
      expect((await h.storage.getObjectLock(key))?.retainUntil.getTime()).toBe(later.getTime());
      expect(await h.storage.headObject(key)).toEqual({ size: 10 });
    });

    it('reads an object back with its size and SHA-256, and says when there is none', async () => {
      const h = harness();
      const key = keyOf('read');
      const body = joined(bytes(MIN_PART_BYTES, 7), bytes(1000, 8));
      const uploadId = await h.storage.createMultipartUpload(key);
      await h.storage.completeMultipartUpload(key, uploadId, [
        await putPart(h, key, uploadId, 1, body.slice(0, MIN_PART_BYTES)),
        await putPart(h, key, uploadId, 2, body.slice(MIN_PART_BYTES)),
      ]);
      expect(await h.storage.readChecksum(key)).toEqual({
        size: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
      });
      expect(await h.storage.readChecksum(keyOf('none'))).toBeUndefined();
    });

    it('copies an object of another bucket part by part on the server (UploadPartCopy), byte for byte', async () => {
      const h = harness();
      const key = keyOf('source');
      const body = joined(bytes(MIN_PART_BYTES, 3), bytes(4321, 4));
      const uploadId = await h.storage.createMultipartUpload(key);
      await h.storage.completeMultipartUpload(key, uploadId, [
        await putPart(h, key, uploadId, 1, body.slice(0, MIN_PART_BYTES)),
        await putPart(h, key, uploadId, 2, body.slice(MIN_PART_BYTES)),
      ]);
      const copyKey = keyOf('copy');
      const copyUpload = await h.peer.createMultipartUpload(copyKey);
      const source = { bucket: h.storage.bucket, key };
      const parts = [
        {
          partNumber: 1,
          etag: await h.peer.copyPart(copyKey, copyUpload, 1, source, { first: 0, last: MIN_PART_BYTES - 1 }),
        },
        {
          partNumber: 2,
          etag: await h.peer.copyPart(copyKey, copyUpload, 2, source, {
            first: MIN_PART_BYTES,
            last: body.length - 1,
          }),
        },
      ];
      expect(await h.peer.completeMultipartUpload(copyKey, copyUpload, parts)).toBe('completed');
      expect((await h.peer.readChecksum(copyKey))?.sha256).toBe(
        createHash('sha256').update(body).digest('hex'),
      );
      // a source that does not exist is refused, not copied as nothing
      const nothing = keyOf('nothing');
      const other = await h.peer.createMultipartUpload(nothing);
      await expect(
        h.peer.copyPart(
          nothing,
          other,
          1,
          { bucket: h.storage.bucket, key: keyOf('missing') },
          {
            first: 0,
            last: 9,
          },
        ),
      ).rejects.toMatchObject({ code: 'conflict' });
    });

    it('copies byte ranges of an object in the same bucket into a new one, leaving out what lies between (a pack rewrite)', async () => {
      const h = harness();
      const key = keyOf('pack');
      const head = bytes(100, 5);
      const kept = bytes(MIN_PART_BYTES, 6);
      const gap = bytes(1000, 7);
      const tail = bytes(777, 8);
      const body = joined(head, kept, gap, tail);
      const uploadId = await h.storage.createMultipartUpload(key);
      await h.storage.completeMultipartUpload(key, uploadId, [await putPart(h, key, uploadId, 1, body)]);
      const newKey = keyOf('rewritten');
      const upload = await h.storage.createMultipartUpload(newKey);
      const source = { bucket: h.storage.bucket, key };
      const first = head.length;
      const parts = [
        {
          partNumber: 1,
          etag: await h.storage.copyPart(newKey, upload, 1, source, { first, last: first + kept.length - 1 }),
        },
        {
          partNumber: 2,
          etag: await h.storage.copyPart(newKey, upload, 2, source, {
            first: first + kept.length + gap.length,
            last: body.length - 1,
          }),
        },
      ];
      expect(await h.storage.completeMultipartUpload(newKey, upload, parts)).toBe('completed');
      expect((await h.storage.readChecksum(newKey))?.sha256).toBe(
        createHash('sha256').update(joined(kept, tail)).digest('hex'),
      );
      // a range past the source's end is refused, not cut short
      const other = await h.storage.createMultipartUpload(keyOf('past-end'));
      await expect(
        h.storage.copyPart(keyOf('past-end'), other, 1, source, { first: 0, last: body.length }),
      ).rejects.toMatchObject({ code: 'conflict' });
    });

    it('counts the requests it sends', async () => {
      const h = harness();
      const before = h.storage.requestCount;
      await h.storage.headObject(keyOf('counted'));
      expect(h.storage.requestCount).toBe(before + 1);
    });
  });
}
