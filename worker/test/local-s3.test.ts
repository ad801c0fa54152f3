// The local S3 server answers multipart completion as S3 does (scripts/stack/s3-server.ts): the
// parts must exist with their ETags, in order, all but the last at least 5 MiB; the object's ETag
// is the MD5 of the parts' MD5s with "-<count>"; the object is the parts joined; a finished
// upload cannot be completed again. The control plane's complete and the agent rely on this.
import { createHash, randomBytes } from 'node:crypto';
import { AwsClient } from 'aws4fetch';
import { describe, expect, it } from 'vitest';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import { stackInfo } from '../../scripts/test/api.ts';

const MiB = 1024 * 1024;
const s3 = new AwsClient({
  accessKeyId: S3_ACCESS_KEY_ID,
  secretAccessKey: S3_SECRET_ACCESS_KEY,
  service: 's3',
  region: 'us-east-1',
});
const objectUrl = (key: string) => `${stackInfo().s3Url}/${stackInfo().bucket}/${key}`;

async function upload(parts: Buffer[]) {
  const key = `local-s3-test/${crypto.randomUUID()}`;
  const created = await s3.fetch(`${objectUrl(key)}?uploads`, { method: 'POST' });
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await created.text())![1]!;
  const etags: string[] = [];
  for (const [i, body] of parts.entries()) {
    const r = await s3.fetch(`${objectUrl(key)}?partNumber=${i + 1}&uploadId=${uploadId}`, {
      method: 'PUT',
      body: new Uint8Array(body),
    });
    expect(r.status).toBe(200);
    etags.push(r.headers.get('etag')!);
  }
  const complete = async (list: { n: number; etag: string }[]) => {
    const body = `<CompleteMultipartUpload>${list.map((p) => `<Part><PartNumber>${p.n}</PartNumber><ETag>${p.etag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    const r = await s3.fetch(`${objectUrl(key)}?uploadId=${uploadId}`, { method: 'POST', body });
    const text = await r.text();
    return { status: r.status, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1], text };
  };
  return { key, etags, complete, all: () => etags.map((etag, i) => ({ n: i + 1, etag })) };
}

describe('local S3 server: multipart completion', () => {
  it('joins the parts and gives the object the ETag S3 gives a multipart object', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(123)];
    const u = await upload(parts);
    const done = await u.complete(u.all());
    expect(done.status).toBe(200);
    const md5s = parts.map((p) => createHash('md5').update(p).digest());
    const expected = `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-3"`;
    expect(done.text).toContain(`<ETag>${expected.replaceAll('"', '&quot;')}</ETag>`);
    const got = await s3.fetch(objectUrl(u.key));
    expect(got.headers.get('etag')).toBe(expected);
    expect(Buffer.from(await got.arrayBuffer()).equals(Buffer.concat(parts))).toBe(true);
    // Done once: the upload is gone.
    expect(await u.complete(u.all())).toMatchObject({ status: 404, code: 'NoSuchUpload' });
  });

  it('refuses a wrong ETag, a missing part, parts out of order and a small part before the last', async () => {
    const u = await upload([randomBytes(5 * MiB), randomBytes(5 * MiB)]);
    const [a, b] = u.etags as [string, string];
    expect(
      await u.complete([
        { n: 1, etag: a },
        { n: 2, etag: a },
      ]),
    ).toMatchObject({
      status: 400,
      code: 'InvalidPart',
    });
    expect(
      await u.complete([
        { n: 1, etag: a },
        { n: 3, etag: b },
      ]),
    ).toMatchObject({
      status: 400,
      code: 'InvalidPart',
    });
    expect(
      await u.complete([
        { n: 2, etag: b },
        { n: 1, etag: a },
      ]),
    ).toMatchObject({
      status: 400,
      code: 'InvalidPartOrder',
    });
    // Refusals leave the upload as it was: the right list still completes.
    expect((await u.complete(u.all())).status).toBe(200);

    const small = await upload([randomBytes(MiB), randomBytes(10)]);
    expect(await small.complete(small.all())).toMatchObject({ status: 400, code: 'EntityTooSmall' });
    // One part may be any size.
    const single = await upload([randomBytes(10)]);
    expect((await single.complete(single.all())).status).toBe(200);
  });
});
