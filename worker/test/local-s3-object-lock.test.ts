// The local S3 server keeps S3 Object Lock as S3 does (scripts/stack/s3-object-lock.ts): only on a
// bucket created with it, the lock headers on writes, PutObjectRetention/GetObjectRetention, and
// the refusal (AccessDenied) of deletes, bulk deletes, overwrites and shortened retentions while
// a compliance lock is in force; unsigned requests are refused like any other.
import { AwsClient } from 'aws4fetch';
import { describe, expect, it } from 'vitest';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import { stackInfo } from '../../scripts/test/api.ts';

const aws = new AwsClient({
  accessKeyId: S3_ACCESS_KEY_ID,
  secretAccessKey: S3_SECRET_ACCESS_KEY,
  service: 's3',
  region: 'us-east-1',
});
const code = (text: string) => /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
const lock = (until: Date, mode = 'COMPLIANCE') => ({
  'x-amz-object-lock-mode': mode,
  'x-amz-object-lock-retain-until-date': until.toISOString(),
});
const retentionXml = (until: Date, mode = 'COMPLIANCE') =>
  `<Retention><Mode>${mode}</Mode><RetainUntilDate>${until.toISOString()}</RetainUntilDate></Retention>`;

async function send(url: string, init: RequestInit = {}) {
  const res = await aws.fetch(url, init);
  const text = await res.text();
  return { status: res.status, code: code(text), text, headers: res.headers };
}

describe('local S3 server: object lock', () => {
  const base = () => stackInfo().s3Url;
  const key = (what: string) => `lock-test/${what}-${crypto.randomUUID()}`;

  it('takes lock headers only on a bucket created with object lock', async () => {
    const plain = `plain-${crypto.randomUUID().slice(0, 8)}`;
    expect((await send(`${base()}/${plain}`, { method: 'PUT' })).status).toBe(200);
    const refused = await send(`${base()}/${plain}/${key('x')}`, {
      method: 'PUT',
      body: 'x',
      headers: lock(new Date(Date.now() + 60_000)),
    });
    expect([refused.status, refused.code]).toEqual([400, 'InvalidRequest']);
    expect(await send(`${base()}/${plain}?object-lock`)).toMatchObject({
      status: 404,
      code: 'ObjectLockConfigurationNotFoundError',
    });
    const locked = `locked-${crypto.randomUUID().slice(0, 8)}`;
    await send(`${base()}/${locked}`, {
      method: 'PUT',
      headers: { 'x-amz-bucket-object-lock-enabled': 'true' },
    });
    const config = await send(`${base()}/${locked}?object-lock`);
    expect(config.status).toBe(200);
    expect(config.text).toContain('<ObjectLockEnabled>Enabled</ObjectLockEnabled>');
    // the stack's bucket is created with object lock
    expect((await send(`${base()}/${stackInfo().bucket}?object-lock`)).status).toBe(200);
  });

  it('refuses delete, bulk delete, overwrite and a shorter or weaker retention of a locked object', async () => {
    const url = `${base()}/${stackInfo().bucket}/${key('locked')}`;
    const until = new Date(Date.now() + 3600_000);
    expect((await send(url, { method: 'PUT', body: 'v1', headers: lock(until) })).status).toBe(200);
    const head = await aws.fetch(url, { method: 'HEAD' });
    expect(head.headers.get('x-amz-object-lock-mode')).toBe('COMPLIANCE');
    expect(head.headers.get('x-amz-object-lock-retain-until-date')).toBe(until.toISOString());
    expect(await send(url, { method: 'DELETE' })).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(await send(url, { method: 'PUT', body: 'v2' })).toMatchObject({
      status: 403,
      code: 'AccessDenied',
    });
    const objectKey = new URL(url).pathname.split('/').slice(2).join('/');
    const bulk = await send(`${base()}/${stackInfo().bucket}?delete`, {
      method: 'POST',
      body: `<Delete><Object><Key>${objectKey}</Key></Object></Delete>`,
    });
    expect(bulk.status).toBe(200);
    expect(bulk.text).toMatch(new RegExp(`<Error><Key>${objectKey}</Key><Code>AccessDenied</Code>`));
    const shorter = await send(`${url}?retention`, {
      method: 'PUT',
      body: retentionXml(new Date(until.getTime() - 60_000)),
    });
    expect([shorter.status, shorter.code]).toEqual([403, 'AccessDenied']);
    const weaker = await send(`${url}?retention`, { method: 'PUT', body: retentionXml(until, 'GOVERNANCE') });
    expect([weaker.status, weaker.code]).toEqual([403, 'AccessDenied']);
    const past = await send(`${url}?retention`, {
      method: 'PUT',
      body: retentionXml(new Date(Date.now() - 1000)),
    });
    expect([past.status, past.code]).toEqual([400, 'InvalidArgument']);
    const unsigned = await fetch(`${url}?retention`, { method: 'PUT', body: retentionXml(new Date(0)) });
    expect(unsigned.status).toBe(403);
    await unsigned.arrayBuffer();
    const later = new Date(until.getTime() + 86400_000);
    expect((await send(`${url}?retention`, { method: 'PUT', body: retentionXml(later) })).status).toBe(200);
    const read = await send(`${url}?retention`);
    expect(read.text).toContain('<Mode>COMPLIANCE</Mode>');
    expect(read.text).toContain(`<RetainUntilDate>${later.toISOString()}</RetainUntilDate>`);
    expect((await aws.fetch(url)).status).toBe(200);
  });

  it('locks a multipart upload when it completes, and lets the object go once its date has passed', async () => {
    const url = `${base()}/${stackInfo().bucket}/${key('multipart')}`;
    const until = new Date(Date.now() + 2000);
    const created = await send(`${url}?uploads`, { method: 'POST', headers: lock(until) });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text)![1]!;
    const part = await aws.fetch(`${url}?partNumber=1&uploadId=${uploadId}`, { method: 'PUT', body: 'abc' });
    const etag = part.headers.get('etag')!;
    await part.arrayBuffer();
    const done = await send(`${url}?uploadId=${uploadId}`, {
      method: 'POST',
      body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${etag}</ETag></Part></CompleteMultipartUpload>`,
    });
    expect(done.status).toBe(200);
    expect((await send(`${url}?retention`)).text).toContain(until.toISOString());
    expect((await send(url, { method: 'DELETE' })).code).toBe('AccessDenied');
    // Waits for the server's clock to pass the date (about 2 s), asking until the delete goes through.
    let status = 403;
    for (let i = 0; i < 100 && status === 403; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await send(url, { method: 'DELETE' })).status;
    }
    expect(status).toBe(204);
    expect((await aws.fetch(url, { method: 'HEAD' })).status).toBe(404);
  });
});
