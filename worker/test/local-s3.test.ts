// The local S3 server answers multipart completion as S3 does (scripts/stack/s3-server.ts): the
// parts must exist with their ETags, in order, all but the last at least 5 MiB; the object's ETag
// is the MD5 of the parts' MD5s with "-<count>"; the object is the parts joined; a finished
// upload cannot be completed again. The control plane's complete and the agent rely on this.
// It also aborts uploads (their parts are deleted; s3rver alone answers 405 and keeps them on disk
// forever) and lists their parts, for signed requests only. The control plane aborts the uploads
// of failed and abandoned backups.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
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
/** Where the S3 server keeps an open upload's parts (scripts/stack/stack.ts: <dataDir>/s3). */
const uploadDir = (uploadId: string) =>
  join(stackInfo().dataDir, 's3', stackInfo().bucket, '._S3rver_uploads', uploadId);
const errorCode = (text: string) => /<Code>([^<]+)<\/Code>/.exec(text)?.[1];

async function upload(parts: Buffer[]) {
  const key = `local-s3-test/${crypto.randomUUID()}`;
  const created = await s3.fetch(`${objectUrl(key)}?uploads`, { method: 'POST' });
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await created.text())![1]!;
  const uploadUrl = `${objectUrl(key)}?uploadId=${uploadId}`;
  const putPart = async (n: number, body: Buffer) => {
    const r = await s3.fetch(`${objectUrl(key)}?partNumber=${n}&uploadId=${uploadId}`, {
      method: 'PUT',
      body: new Uint8Array(body),
    });
    const text = await r.text();
    return { status: r.status, etag: r.headers.get('etag'), code: errorCode(text) };
  };
  const etags: string[] = [];
  for (const [i, body] of parts.entries()) {
    const r = await putPart(i + 1, body);
    expect(r.status).toBe(200);
    etags.push(r.etag!);
  }
  const complete = async (list: { n: number; etag: string }[]) => {
    const body = `<CompleteMultipartUpload>${list.map((p) => `<Part><PartNumber>${p.n}</PartNumber><ETag>${p.etag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    const r = await s3.fetch(uploadUrl, { method: 'POST', body });
    const text = await r.text();
    return { status: r.status, code: errorCode(text), text };
  };
  const abort = async (client = s3) => {
    const r = await client.fetch(uploadUrl, { method: 'DELETE' });
    const text = await r.text();
    return { status: r.status, code: errorCode(text), text };
  };
  const listParts = async (query = '') => {
    const r = await s3.fetch(`${uploadUrl}${query}`);
    const text = await r.text();
    return { status: r.status, code: errorCode(text), text };
  };
  return {
    key,
    uploadId,
    uploadUrl,
    etags,
    putPart,
    complete,
    abort,
    listParts,
    all: () => etags.map((etag, i) => ({ n: i + 1, etag })),
  };
}

/** The <Part> elements of a ListPartsResult, in document order. */
function listedParts(xml: string) {
  return [...xml.matchAll(/<Part>(.*?)<\/Part>/gs)].map(([, part]) => {
    const value = (tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(part!)?.[1];
    return {
      number: Number(value('PartNumber')),
      // Quotes come escaped, as in S3's own XML and s3rver's other answers.
      etag: value('ETag')?.replaceAll('&quot;', '"'),
      size: Number(value('Size')),
      lastModified: value('LastModified'),
    };
  });
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

  it('refuses ETags and part numbers that look like numbers, or are no text, as S3 does, without crashing', async () => {
    const u = await upload([randomBytes(10)]);
    const [etag] = u.etags as [string];
    // Numeric-looking ETags: the XML parser made numbers of these, and the server crashed (500).
    for (const odd of ['12', '"12"', '1e5', '0x1f', '-0', 'NaN', 'Infinity', ''])
      expect(await u.complete([{ n: 1, etag: odd }]), odd).toMatchObject({
        status: 400,
        code: 'InvalidPart',
      });
    const raw = async (parts: string) => {
      const r = await s3.fetch(u.uploadUrl, {
        method: 'POST',
        body: `<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`,
      });
      return { status: r.status, code: errorCode(await r.text()) };
    };
    for (const parts of [
      '',
      `<Part><ETag>${etag}</ETag></Part>`,
      '<Part><PartNumber>1</PartNumber></Part>',
      `<Part><PartNumber>one</PartNumber><ETag>${etag}</ETag></Part>`,
      `<Part><PartNumber>1.5</PartNumber><ETag>${etag}</ETag></Part>`,
      '<Part><PartNumber>1</PartNumber><ETag><X>1</X></ETag></Part>',
      'text',
    ])
      expect(await raw(parts), parts).toMatchObject({ status: 400, code: 'MalformedXML' });
    // Refusals leave the upload as it was; the quoted ETag S3 handed out completes it.
    expect((await u.complete([{ n: 1, etag }])).status).toBe(200);
  });
});

describe('local S3 server: aborting an upload and listing its parts', () => {
  it('aborts an upload: its parts are deleted, and it takes no more parts and cannot be completed', async () => {
    const u = await upload([randomBytes(5 * MiB), randomBytes(1000)]);
    expect(existsSync(join(uploadDir(u.uploadId), '1'))).toBe(true);
    expect(await u.abort()).toMatchObject({ status: 204, text: '' });
    expect(existsSync(uploadDir(u.uploadId))).toBe(false);
    expect(await u.listParts()).toMatchObject({ status: 404, code: 'NoSuchUpload' });
    expect(await u.putPart(3, randomBytes(10))).toMatchObject({ status: 404, code: 'NoSuchUpload' });
    // The refused part did not bring the upload back on disk.
    expect(existsSync(uploadDir(u.uploadId))).toBe(false);
    expect(await u.complete(u.all())).toMatchObject({ status: 404, code: 'NoSuchUpload' });
    expect(await u.abort()).toMatchObject({ status: 404, code: 'NoSuchUpload' });
    // Nor was there ever an object.
    expect((await s3.fetch(objectUrl(u.key), { method: 'HEAD' })).status).toBe(404);
  });

  it('answers NoSuchUpload for an unknown upload, one of another key, or a completed one', async () => {
    const u = await upload([randomBytes(10)]);
    const unknown = await s3.fetch(`${objectUrl(u.key)}?uploadId=${'0'.repeat(32)}`, { method: 'DELETE' });
    expect(unknown.status).toBe(404);
    const body = await unknown.text();
    expect(body).toMatch(/^<\?xml /);
    expect(errorCode(body)).toBe('NoSuchUpload');
    // Not an id s3rver gives: refused before it could name any directory.
    const odd = await s3.fetch(`${objectUrl(u.key)}?uploadId=..`, { method: 'DELETE' });
    expect([odd.status, errorCode(await odd.text())]).toEqual([404, 'NoSuchUpload']);
    const otherKey = await s3.fetch(`${objectUrl(`${u.key}-other`)}?uploadId=${u.uploadId}`, {
      method: 'DELETE',
    });
    expect([otherKey.status, errorCode(await otherKey.text())]).toEqual([404, 'NoSuchUpload']);
    expect(existsSync(uploadDir(u.uploadId))).toBe(true);
    expect((await u.complete(u.all())).status).toBe(200);
    expect(await u.abort()).toMatchObject({ status: 404, code: 'NoSuchUpload' });
    // Aborting an upload is not deleting its object.
    expect((await s3.fetch(objectUrl(u.key), { method: 'HEAD' })).status).toBe(200);
  });

  it('aborts only for a valid signature, in the header or a presigned URL', async () => {
    const u = await upload([randomBytes(10)]);
    const unsigned = await fetch(u.uploadUrl, { method: 'DELETE' });
    expect(unsigned.status).toBe(403);
    await unsigned.body?.cancel();
    const impostor = new AwsClient({
      accessKeyId: S3_ACCESS_KEY_ID,
      secretAccessKey: `${S3_SECRET_ACCESS_KEY}-wrong`,
      service: 's3',
      region: 'us-east-1',
    });
    expect(await u.abort(impostor)).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    const presign = async (client: AwsClient) =>
      (await client.sign(u.uploadUrl, { method: 'DELETE', aws: { signQuery: true } })).url;
    const badUrl = await fetch(await presign(impostor), { method: 'DELETE' });
    expect([badUrl.status, errorCode(await badUrl.text())]).toEqual([403, 'SignatureDoesNotMatch']);
    // A signature for another request (a GET) does not sign the DELETE.
    const forGet = (await s3.sign(u.uploadUrl, { method: 'GET', aws: { signQuery: true } })).url;
    const swapped = await fetch(forGet, { method: 'DELETE' });
    expect([swapped.status, errorCode(await swapped.text())]).toEqual([403, 'SignatureDoesNotMatch']);
    // None of them touched the upload.
    expect(existsSync(join(uploadDir(u.uploadId), '1'))).toBe(true);
    expect((await u.listParts()).status).toBe(200);

    const presigned = await fetch(await presign(s3), { method: 'DELETE' });
    expect(presigned.status).toBe(204);
    expect(existsSync(uploadDir(u.uploadId))).toBe(false);
  });

  it('lists the uploaded parts in part-number order with their ETags and sizes', async () => {
    const u = await upload([]);
    const bodies = new Map([
      [3, randomBytes(300)],
      [1, randomBytes(100)],
      [2, randomBytes(200)],
    ]);
    for (const [n, body] of bodies) expect((await u.putPart(n, body)).status).toBe(200);
    const before = Date.now();
    const listed = await u.listParts();
    expect(listed.status).toBe(200);
    expect(listed.text).toContain('<ListPartsResult');
    expect(listed.text).toContain(`<Bucket>${stackInfo().bucket}</Bucket>`);
    expect(listed.text).toContain(`<Key>${u.key}</Key>`);
    expect(listed.text).toContain(`<UploadId>${u.uploadId}</UploadId>`);
    expect(listed.text).toContain('<IsTruncated>false</IsTruncated>');
    const parts = listedParts(listed.text);
    expect(parts.map((p) => p.number)).toEqual([1, 2, 3]);
    for (const p of parts) {
      const body = bodies.get(p.number)!;
      expect(p.etag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
      expect(p.size).toBe(body.length);
      expect(Math.abs(Date.parse(p.lastModified!) - before)).toBeLessThan(60_000);
    }
    // A part uploaded again replaces the one listed.
    const again = randomBytes(50);
    expect((await u.putPart(2, again)).status).toBe(200);
    expect(listedParts((await u.listParts()).text)[1]).toMatchObject({
      number: 2,
      size: 50,
      etag: `"${createHash('md5').update(again).digest('hex')}"`,
    });
    // Pages, as S3 gives them.
    const first = await u.listParts('&max-parts=2');
    expect(listedParts(first.text).map((p) => p.number)).toEqual([1, 2]);
    expect(first.text).toContain('<IsTruncated>true</IsTruncated>');
    expect(first.text).toContain('<NextPartNumberMarker>2</NextPartNumberMarker>');
    const rest = await u.listParts('&part-number-marker=2');
    expect(listedParts(rest.text).map((p) => p.number)).toEqual([3]);
    expect(rest.text).toContain('<IsTruncated>false</IsTruncated>');

    expect(listedParts((await (await upload([])).listParts()).text)).toEqual([]);
    const unknown = await s3.fetch(`${objectUrl(u.key)}?uploadId=${'f'.repeat(32)}`);
    expect([unknown.status, errorCode(await unknown.text())]).toEqual([404, 'NoSuchUpload']);
    const unsigned = await fetch(u.uploadUrl);
    expect(unsigned.status).toBe(403);
    await unsigned.body?.cancel();
  });
});
