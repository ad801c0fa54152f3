// Child-process entry: the local S3-compatible server (@20minutes/s3rver checks SigV4 and
// presigned URLs). We add what S3 does that s3rver does not: unsigned requests to the private
// bucket are refused, and multipart completion checks the parts and makes S3's ETag (below).
// Usage: node s3-server.ts <dir> <port> <bucket>
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const require = createRequire(import.meta.url);
const S3rver = require('@20minutes/s3rver');

const [dir, port, bucket] = process.argv.slice(2);
if (!dir || !port || !bucket) {
  console.error('usage: s3-server.ts <dir> <port> <bucket>');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory: dir,
  silent: true,
  vhostBuckets: false,
  configureBuckets: [{ name: bucket, configs: [] }],
});
// SECURITY: a real bucket is private; make the local one answer unsigned requests like S3 does.
server.middleware.unshift(async (ctx: any, next: () => Promise<void>) => {
  const signed = 'authorization' in ctx.headers || 'X-Amz-Algorithm' in ctx.query || 'Signature' in ctx.query;
  if (!signed && ctx.method !== 'OPTIONS') {
    ctx.status = 403;
    ctx.type = 'application/xml';
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';
    return;
  }
  await next();
});
// Complete multipart uploads the way S3 does, where s3rver does not:
// - every listed part must exist with the ETag its upload returned (InvalidPart), in ascending
//   order (InvalidPartOrder), and all but the last must be at least 5 MiB (EntityTooSmall);
// - the object's ETag is the MD5 of the parts' MD5s plus "-<count>", not an MD5 of the content;
// - the parts are joined without a second pass of hashing over the whole object (s3rver hashes
//   and copies every byte again in 64 KiB steps, which on a small machine competes with the
//   uploader it is serving).
const S3Error = require('@20minutes/s3rver/lib/models/error');
const MIN_PART = 5 * 1024 * 1024;
const store = server.store;
store.putObjectMultipart = async (
  bucketName: string,
  uploadId: string,
  parts: Array<{ number: number; etag: string }>,
) => {
  const uploadDir = join(store.getResourcePath(bucketName, undefined, 'uploads'), uploadId);
  const [key, metadata] = await Promise.all([
    readFile(join(uploadDir, 'key'), 'utf8'),
    readFile(join(uploadDir, 'metadata'), 'utf8').then(JSON.parse),
  ]).catch((error) => {
    if (error?.code !== 'ENOENT') throw error;
    throw new S3Error(
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    );
  });
  const found: Array<{ path: string; md5: string; size: number }> = [];
  for (const [i, part] of parts.entries()) {
    if (i > 0 && part.number <= parts[i - 1]!.number)
      throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order.');
    const path = join(uploadDir, String(part.number));
    const [md5, info] = await Promise.all([
      readFile(`${path}.md5`, 'utf8').catch(() => undefined),
      stat(path).catch(() => undefined),
    ]);
    // s3rver's XML parser leaves entities as they are: "&#34;<md5>&#34;" is a quoted ETag too.
    if (md5 === undefined || !info || md5 !== part.etag.replace(/&quot;|&#34;|&#x22;/gi, ''))
      throw new S3Error(
        'InvalidPart',
        "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
      );
    found.push({ path, md5, size: info.size });
  }
  for (const part of found.slice(0, -1))
    if (part.size < MIN_PART)
      throw new S3Error(
        'EntityTooSmall',
        'Your proposed upload is smaller than the minimum allowed object size.',
      );
  const etag = `${createHash('md5')
    .update(Buffer.concat(found.map((p) => Buffer.from(p.md5, 'hex'))))
    .digest('hex')}-${found.length}`;
  const objectPath = store.getResourcePath(bucketName, key, 'object');
  await mkdir(dirname(objectPath), { recursive: true });
  const assembling = `${objectPath}.${uploadId}.assembling`;
  // The first part becomes the object file; the others are appended in 1 MiB reads.
  await rename(found[0]!.path, assembling);
  for (const part of found.slice(1))
    await pipeline(
      createReadStream(part.path, { highWaterMark: 1024 * 1024 }),
      createWriteStream(assembling, { flags: 'a' }),
    );
  await rename(assembling, objectPath);
  await store.putMetadata(bucketName, key, metadata, etag);
  await rm(uploadDir, { recursive: true });
  return { md5: etag, size: found.reduce((n, p) => n + p.size, 0) };
};

const address = await server.run();
process.send?.({ ready: true, port: address.port });
console.log(`s3 listening on ${address.port}`);
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.on(sig, () => server.close().then(() => process.exit(0)));
