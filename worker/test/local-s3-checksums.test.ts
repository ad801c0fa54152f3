// The local S3 server checks part checksums as S3 does (scripts/stack/s3-server.ts): a part whose
// bytes do not match its x-amz-checksum-sha256 or Content-MD5 is refused with 400 BadDigest and
// not stored; a checksum signed into a presigned URL cannot be swapped (403); an upload started
// with x-amz-checksum-algorithm SHA256 takes only parts with their checksum and completes with the
// composite checksum. The agent's retry of a corrupted part and the recorded checksum rely on it.
import { createHash, randomBytes } from 'node:crypto';
import { AwsClient } from 'aws4fetch';
import { describe, expect, it } from 'vitest';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import { stackInfo } from '../../scripts/test/api.ts';

const s3 = new AwsClient({
  accessKeyId: S3_ACCESS_KEY_ID,
  secretAccessKey: S3_SECRET_ACCESS_KEY,
  service: 's3',
  region: 'us-east-1',
});
const objectUrl = (key: string) => `${stackInfo().s3Url}/${stackInfo().bucket}/${key}`;
const errorCode = (text: string) => /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('base64');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');

async function startUpload(algorithm?: string) {
  const key = `checksum-test/${crypto.randomUUID()}`;
  const created = await s3.fetch(`${objectUrl(key)}?uploads`, {
    method: 'POST',
    headers: algorithm ? { 'x-amz-checksum-algorithm': algorithm } : {},
  });
  expect(created.status).toBe(200);
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await created.text())![1]!;
  const partUrl = (n: number) => `${objectUrl(key)}?partNumber=${n}&uploadId=${uploadId}`;
  /** a presigned part URL with these headers signed into it, as the control plane makes them */
  const presign = async (n: number, headers: Record<string, string>) =>
    (await s3.sign(partUrl(n), { method: 'PUT', headers, aws: { signQuery: true } })).url;
  const put = async (url: string, body: Buffer, headers: Record<string, string> = {}) => {
    const r = await fetch(url, { method: 'PUT', body: new Uint8Array(body), headers });
    const text = await r.text();
    return { status: r.status, etag: r.headers.get('etag'), code: errorCode(text) };
  };
  const complete = async (parts: { n: number; etag: string; sha256?: string }[]) => {
    const body = `<CompleteMultipartUpload>${parts
      .map(
        (p) =>
          `<Part><PartNumber>${p.n}</PartNumber><ETag>${p.etag}</ETag>${p.sha256 ? `<ChecksumSHA256>${p.sha256}</ChecksumSHA256>` : ''}</Part>`,
      )
      .join('')}</CompleteMultipartUpload>`;
    const r = await s3.fetch(`${objectUrl(key)}?uploadId=${uploadId}`, { method: 'POST', body });
    const text = await r.text();
    return { status: r.status, code: errorCode(text), text };
  };
  const listed = async () => {
    const text = await (await s3.fetch(`${objectUrl(key)}?uploadId=${uploadId}`)).text();
    return [...text.matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => Number(m[1]));
  };
  return { key, presign, put, complete, listed };
}

describe('local S3 server: part checksums', () => {
  it('refuses a part whose bytes do not match the signed SHA-256, keeps nothing of it, and takes it sent again', async () => {
    const u = await startUpload('SHA256');
    const part = randomBytes(64 * 1024);
    const checksum = sha256(part);
    const url = await u.presign(1, { 'x-amz-checksum-sha256': checksum });

    const corrupted = Buffer.from(part);
    corrupted[1000]! ^= 0x01;
    const refused = await u.put(url, corrupted, { 'x-amz-checksum-sha256': checksum });
    expect(refused).toMatchObject({ status: 400, code: 'BadDigest' });
    expect(await u.listed()).toEqual([]);

    // the checksum is signed into the URL: matching it to the corrupted bytes is refused too
    const swapped = await u.put(url, corrupted, { 'x-amz-checksum-sha256': sha256(corrupted) });
    expect(swapped.status).toBe(403);
    expect(swapped.code).toBe('SignatureDoesNotMatch');

    const sent = await u.put(url, part, { 'x-amz-checksum-sha256': checksum });
    expect(sent.status).toBe(200);
    expect(await u.listed()).toEqual([1]);

    const done = await u.complete([{ n: 1, etag: sent.etag!, sha256: checksum }]);
    expect(done.status).toBe(200);
    const expected = `${createHash('sha256').update(Buffer.from(checksum, 'base64')).digest('base64')}-1`;
    expect(done.text).toContain(`<ChecksumSHA256>${expected}</ChecksumSHA256>`);
  });

  it('completes with the SHA-256 of the parts’ SHA-256s, and only with each part’s own checksum', async () => {
    const u = await startUpload('SHA256');
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1234)];
    const sent = [];
    for (const [i, body] of parts.entries()) {
      const url = await u.presign(i + 1, { 'x-amz-checksum-sha256': sha256(body) });
      const r = await u.put(url, body, { 'x-amz-checksum-sha256': sha256(body) });
      expect(r.status).toBe(200);
      sent.push({ n: i + 1, etag: r.etag!, sha256: sha256(body) });
    }
    const wrong = await u.complete([sent[0]!, { ...sent[1]!, sha256: sha256(parts[0]!) }]);
    expect(wrong).toMatchObject({ status: 400, code: 'InvalidPart' });
    const missing = await u.complete(sent.map(({ n, etag }) => ({ n, etag })));
    expect(missing).toMatchObject({ status: 400, code: 'InvalidPart' });
    const done = await u.complete(sent);
    expect(done.status).toBe(200);
    const composite = createHash('sha256')
      .update(Buffer.concat(parts.map((p) => createHash('sha256').update(p).digest())))
      .digest('base64');
    expect(done.text).toContain(`<ChecksumSHA256>${composite}-2</ChecksumSHA256>`);
  });

  it('takes no part without its checksum on a SHA256 upload, and none with one on an upload without', async () => {
    const withAlgorithm = await startUpload('SHA256');
    const body = randomBytes(1000);
    const bare = await withAlgorithm.put(await withAlgorithm.presign(1, {}), body);
    expect(bare).toMatchObject({ status: 400, code: 'InvalidRequest' });

    const without = await startUpload();
    const headers = { 'x-amz-checksum-sha256': sha256(body) };
    const extra = await without.put(await without.presign(1, headers), body, headers);
    expect(extra).toMatchObject({ status: 400, code: 'InvalidRequest' });
    const malformed = { 'x-amz-checksum-sha256': 'not base64!' };
    const bad = await withAlgorithm.put(await withAlgorithm.presign(1, malformed), body, malformed);
    expect(bad).toMatchObject({ status: 400, code: 'InvalidRequest' });
  });

  it('checks Content-MD5 where a provider has no SHA-256 (the documented fallback)', async () => {
    const u = await startUpload();
    const part = randomBytes(4096);
    const headers = { 'content-md5': md5(part) };
    const url = await u.presign(1, headers);
    const corrupted = Buffer.from(part);
    corrupted[0]! ^= 0xff;
    expect(await u.put(url, corrupted, headers)).toMatchObject({ status: 400, code: 'BadDigest' });
    expect(await u.listed()).toEqual([]);
    expect((await u.put(url, part, headers)).status).toBe(200);
    const invalid = { 'content-md5': 'abc' };
    expect(await u.put(await u.presign(2, invalid), part, invalid)).toMatchObject({
      status: 400,
      code: 'InvalidDigest',
    });
  });

  it('a checked whole-object PUT is all there once answered: HEAD and GET right after see every byte', async () => {
    // s3rver answered a Buffer body before its file was written; a pack merge's read back saw 10 of 12 MiB.
    for (const mib of [12, 16]) {
      const body = randomBytes(mib * 1024 * 1024);
      const key = `checksum-test/${crypto.randomUUID()}`;
      const put = await s3.fetch(objectUrl(key), {
        method: 'PUT',
        body: new Uint8Array(body),
        headers: { 'x-amz-checksum-sha256': sha256(body) },
      });
      expect(put.status).toBe(200);
      const head = await s3.fetch(objectUrl(key), { method: 'HEAD' });
      expect(Number(head.headers.get('content-length'))).toBe(body.length);
      const got = Buffer.from(await (await s3.fetch(objectUrl(key))).arrayBuffer());
      expect(sha256(got)).toBe(sha256(body));
    }
  });
});
