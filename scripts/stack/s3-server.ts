// Child-process entry: the local S3-compatible server (@20minutes/s3rver checks SigV4 and
// presigned URLs). We add what S3 does that s3rver does not: unsigned requests to the private
// bucket are refused; multipart completion checks the parts and makes S3's ETag; an upload can
// be aborted (its parts deleted) and its parts listed, where s3rver answers 405; a part is checked
// against its x-amz-checksum-sha256 and Content-MD5 (BadDigest), and an upload started with
// x-amz-checksum-algorithm SHA256 needs every part's checksum and completes with S3's composite
// checksum (all below); S3 Object Lock (s3-object-lock.ts).
// Usage: node s3-server.ts <dir> <port> <bucket>[,<bucket>...] [object-lock]
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { installObjectLock } from './s3-object-lock.ts';

const require = createRequire(import.meta.url);
const S3rver = require('@20minutes/s3rver');

const [dir, port, bucket, lockFlag] = process.argv.slice(2);
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
  configureBuckets: bucket.split(',').map((name) => ({ name, configs: [] })),
});
// The request's headers, for the store functions below (s3rver hands them only the body).
type Headers = Record<string, string | string[] | undefined>;
const requestHeaders = new AsyncLocalStorage<Headers>();
server.middleware.unshift((ctx: any, next: () => Promise<void>) => requestHeaders.run(ctx.headers, next));
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

const noSuchUpload = (uploadId: unknown) =>
  new S3Error(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: String(uploadId) },
  );
/** Turns "file not found" (the upload is gone, or going) into S3's NoSuchUpload. */
const uploadGone = (uploadId: unknown) => (error: any) => {
  throw error?.code === 'ENOENT' ? noSuchUpload(uploadId) : error;
};
/**
 * The directory of an upload. s3rver's upload ids are 32 hex digits; any other id is refused
 * (NoSuchUpload), so no id can name a directory outside the uploads directory.
 */
function uploadDirOf(bucketName: string, uploadId: unknown): string {
  if (typeof uploadId !== 'string' || !/^[0-9a-f]{32}$/.test(uploadId)) throw noSuchUpload(uploadId);
  return join(store.getResourcePath(bucketName, undefined, 'uploads'), uploadId);
}
/** The key of an open upload; NoSuchUpload if it is gone or, as S3 answers, was started for another key. */
async function uploadKey(uploadDir: string, uploadId: string, expected?: string): Promise<string> {
  const key = await readFile(join(uploadDir, 'key'), 'utf8').catch(uploadGone(uploadId));
  if (expected !== undefined && key !== expected) throw noSuchUpload(uploadId);
  return key;
}

store.putObjectMultipart = async (
  bucketName: string,
  uploadId: string,
  parts: Array<{ number: number; etag: string; checksumSha256?: string }>,
) => {
  const uploadDir = uploadDirOf(bucketName, uploadId);
  const [key, metadata] = await Promise.all([
    uploadKey(uploadDir, uploadId),
    readFile(join(uploadDir, 'metadata'), 'utf8').then(JSON.parse, uploadGone(uploadId)),
  ]);
  const sha256Upload = checksumAlgorithm(metadata) === 'SHA256';
  const found: Array<{ path: string; md5: string; size: number; sha256?: string }> = [];
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
    // An upload started with SHA256 completes only with each part's checksum as stored.
    const sha256 = sha256Upload ? await readFile(`${path}.sha256`, 'utf8').catch(() => undefined) : undefined;
    if (sha256Upload && (sha256 === undefined || part.checksumSha256 !== sha256))
      throw new S3Error(
        'InvalidPart',
        "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified checksum may not match the part's checksum.",
      );
    found.push({ path, md5, size: info.size, sha256 });
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
  // S3's checksum of a multipart object: the SHA-256 of the parts' SHA-256s, then "-<count>".
  const checksumSha256 = sha256Upload
    ? `${createHash('sha256')
        .update(Buffer.concat(found.map((p) => Buffer.from(p.sha256!, 'base64'))))
        .digest('base64')}-${found.length}`
    : undefined;
  return { md5: etag, size: found.reduce((n, p) => n + p.size, 0), checksumSha256 };
};

// CompleteMultipartUpload reads its part list with every value kept as text. s3rver's XML parser
// turns an ETag that looks like a number ("12", "1e5") into a number, and its handler then crashed
// on etag.replace (a 500, which the control plane passed on as 502). A list that is not
// <Part><PartNumber>n</PartNumber><ETag>text</ETag></Part>... is MalformedXML, as S3 answers.
// (s3rver's S3 event for the new object is not emitted: nothing here subscribes to events.)
const s3rverRequire = createRequire(require.resolve('@20minutes/s3rver/lib/utils'));
const { XMLParser, XMLValidator } = s3rverRequire('fast-xml-parser');
const objectController = require('@20minutes/s3rver/lib/controllers/object');
const malformedXml = () =>
  new S3Error(
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema.',
  );
objectController.completeMultipartUpload = async (ctx: any) => {
  const xml = await new Promise<string>((resolve, reject) => {
    let text = '';
    ctx.req.setEncoding('utf8');
    ctx.req.on('data', (chunk: string) => {
      text += chunk;
    });
    ctx.req.on('end', () => resolve(text));
    ctx.req.on('error', reject);
  });
  if (XMLValidator.validate(xml) !== true) throw malformedXml();
  const listed = new XMLParser({ parseTagValue: false }).parse(xml)?.CompleteMultipartUpload?.Part;
  if (!listed) throw malformedXml();
  const parts = [listed].flat().map((part: any) => {
    const number = part?.PartNumber;
    const etag = part?.ETag;
    const checksum = part?.ChecksumSHA256;
    if (typeof number !== 'string' || !/^\d{1,5}$/.test(number) || typeof etag !== 'string')
      throw malformedXml();
    if (checksum !== undefined && typeof checksum !== 'string') throw malformedXml();
    // S3 removes all double quotes when comparing ETags
    return { number: Number(number), etag: etag.replace(/"/g, ''), checksumSha256: checksum };
  });
  const { md5, checksumSha256 } = await store.putObjectMultipart(
    ctx.params.bucket,
    ctx.query.uploadId,
    parts,
  );
  ctx.body = {
    CompleteMultipartUploadResult: {
      Location: ctx.href.split('?')[0],
      Bucket: ctx.params.bucket,
      Key: ctx.params.key,
      ETag: JSON.stringify(md5),
      ...(checksumSha256 && { ChecksumSHA256: checksumSha256, ChecksumType: 'COMPOSITE' }),
    },
  };
};

// Upload parts only into an open upload: s3rver creates the upload's directory for any part, so
// a part sent after an abort would bring the upload back as a directory nothing ever deletes.
// A part still being written when its upload is aborted fails with NoSuchUpload (its file is
// deleted with the others), as S3 allows.
store.putPart = async (bucketName: string, uploadId: string, partNumber: string, content: any) => {
  const uploadDir = uploadDirOf(bucketName, uploadId);
  const metadata = await readFile(join(uploadDir, 'metadata'), 'utf8').then(JSON.parse, uploadGone(uploadId));
  const expected = partChecksums(requestHeaders.getStore() ?? {}, checksumAlgorithm(metadata));
  const path = join(uploadDir, String(partNumber));
  // Written beside the part and renamed into place only when the checksums match: a refused part
  // leaves nothing behind (and an earlier good copy of it stays), as on S3.
  const incoming = `${path}.incoming-${randomUUID()}`;
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  let size = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sha256.update(chunk);
      md5.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  await (Buffer.isBuffer(content)
    ? pipeline([content], hashing, createWriteStream(incoming))
    : pipeline(content, hashing, createWriteStream(incoming))
  ).catch(uploadGone(uploadId));
  const got = { sha256: sha256.digest('base64'), md5: md5.digest() };
  if (expected.sha256 !== undefined && expected.sha256 !== got.sha256) {
    await rm(incoming, { force: true });
    throw new S3Error('BadDigest', 'The SHA256 you specified did not match the calculated checksum.');
  }
  if (expected.md5 !== undefined && expected.md5 !== got.md5.toString('base64')) {
    await rm(incoming, { force: true });
    throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.');
  }
  await rename(incoming, path).catch(uploadGone(uploadId));
  if (expected.sha256 !== undefined)
    await writeFile(`${path}.sha256`, got.sha256).catch(uploadGone(uploadId));
  // The .md5 is written last: a part counts as uploaded once it exists.
  await writeFile(`${path}.md5`, got.md5.toString('hex')).catch(uploadGone(uploadId));
  return { size, md5: got.md5.toString('hex') };
};

// A whole-object PUT is checked against its x-amz-checksum-sha256 too (log segments of point-in-
// time recovery arrive this way, with the checksum signed into their presigned URL): a body that
// is not the one hashed is refused with BadDigest and nothing is written, as on S3. (s3rver
// checks Content-MD5 on a PUT itself.)
const putWholeObject = store.putObject.bind(store);
store.putObject = async (object: { content: any }) => {
  const headers = requestHeaders.getStore() ?? {};
  const claimed = headers['x-amz-checksum-sha256'];
  if (typeof claimed !== 'string') return putWholeObject(object);
  if (Buffer.from(claimed, 'base64').length !== 32)
    throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-sha256 header is invalid.');
  const chunks: Buffer[] = [];
  if (Buffer.isBuffer(object.content)) chunks.push(object.content);
  else for await (const chunk of object.content) chunks.push(Buffer.from(chunk));
  const body = Buffer.concat(chunks);
  if (createHash('sha256').update(body).digest('base64') !== claimed)
    throw new S3Error('BadDigest', 'The SHA256 you specified did not match the calculated checksum.');
  // As a stream, not the Buffer: s3rver answers for a Buffer before its file is written, so a HEAD
  // or GET right after the PUT saw a shorter object (a 12 MiB PUT read back as 10 MiB).
  return putWholeObject({ ...object, content: Readable.from([body]) });
};

/** The checksum algorithm an upload was started with (x-amz-checksum-algorithm), upper-case. */
function checksumAlgorithm(metadata: Headers): string | undefined {
  const value = metadata['x-amz-checksum-algorithm'];
  return typeof value === 'string' ? value.toUpperCase() : undefined;
}

/**
 * The checksums a part request claims, checked for shape as S3 does: Content-MD5 must be the
 * base64 of 16 bytes (InvalidDigest), x-amz-checksum-sha256 the base64 of 32 bytes and allowed
 * only on an upload started with SHA256; such an upload takes no part without it (InvalidRequest).
 */
function partChecksums(headers: Headers, algorithm: string | undefined): { sha256?: string; md5?: string } {
  const one = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value.join(',') : value;
  };
  const sha256 = one('x-amz-checksum-sha256');
  const md5 = one('content-md5');
  if (md5 !== undefined && Buffer.from(md5, 'base64').length !== 16)
    throw new S3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.');
  if (sha256 !== undefined && Buffer.from(sha256, 'base64').toString('base64') !== sha256)
    throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-sha256 header is invalid.');
  if (sha256 !== undefined && Buffer.from(sha256, 'base64').length !== 32)
    throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-sha256 header is invalid.');
  if (sha256 !== undefined && algorithm !== 'SHA256')
    throw new S3Error(
      'InvalidRequest',
      `Checksum Type mismatch occurred, expected checksum Type: ${algorithm?.toLowerCase() ?? 'null'}, actual checksum Type: sha256`,
    );
  if (sha256 === undefined && algorithm === 'SHA256')
    throw new S3Error(
      'InvalidRequest',
      'The upload was created using a sha256 checksum. The part must carry its x-amz-checksum-sha256.',
    );
  return { sha256, md5 };
}

// AbortMultipartUpload and ListParts. s3rver's router answers "DELETE|GET /<bucket>/<key>?uploadId"
// with 405 MethodNotAllowed; we give its two object handlers the uploadId case. They run where
// s3rver's own handlers run: after its authentication middleware has checked the signature (header
// or presigned query; a bad one is refused with 403 before this point) and after bucketExists.
async function abortUpload(ctx: any) {
  const uploadId = ctx.query.uploadId;
  const uploadDir = uploadDirOf(ctx.params.bucket, uploadId);
  await uploadKey(uploadDir, uploadId, ctx.params.key);
  // Renamed first, so that the upload is gone at once for parts and completes that come meanwhile
  // (a part being written lands in the renamed directory and is deleted with it).
  const doomed = `${uploadDir}.aborting-${randomUUID()}`;
  await rename(uploadDir, doomed).catch(uploadGone(uploadId));
  await rm(doomed, { recursive: true, force: true });
  ctx.status = 204;
}

async function listParts(ctx: any) {
  const uploadId = ctx.query.uploadId;
  const uploadDir = uploadDirOf(ctx.params.bucket, uploadId);
  await uploadKey(uploadDir, uploadId, ctx.params.key);
  const count = (name: string, fallback: number, max = Number.MAX_SAFE_INTEGER) => {
    const value = ctx.query[name] ?? String(fallback);
    if (typeof value !== 'string' || !/^\d+$/.test(value))
      throw new S3Error('InvalidArgument', `${name} must be a non-negative integer`, {
        ArgumentName: name,
        ArgumentValue: String(value),
      });
    return Math.min(Number(value), max);
  };
  const marker = count('part-number-marker', 0);
  const maxParts = count('max-parts', 1000, 1000);
  const names = await readdir(uploadDir).catch(uploadGone(uploadId));
  const parts = (
    await Promise.all(
      names
        .filter((name) => /^\d+$/.test(name) && Number(name) > marker)
        .map(async (name) => {
          const path = join(uploadDir, name);
          // A part is listed once its upload has finished (its .md5 is written last).
          const [md5, info] = await Promise.all([
            readFile(`${path}.md5`, 'utf8').catch(() => undefined),
            stat(path).catch(() => undefined),
          ]);
          return md5 && info ? { number: Number(name), md5, size: info.size, mtime: info.mtime } : undefined;
        }),
    )
  )
    .filter((p) => p !== undefined)
    .sort((a, b) => a.number - b.number);
  const listed = parts.slice(0, maxParts);
  ctx.body = {
    ListPartsResult: {
      '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
      Bucket: ctx.params.bucket,
      Key: ctx.params.key,
      UploadId: uploadId,
      StorageClass: 'STANDARD',
      PartNumberMarker: marker,
      NextPartNumberMarker: listed.at(-1)?.number ?? marker,
      MaxParts: maxParts,
      IsTruncated: parts.length > listed.length,
      Part: listed.map((p) => ({
        PartNumber: p.number,
        LastModified: p.mtime.toISOString(),
        ETag: JSON.stringify(p.md5),
        Size: p.size,
      })),
    },
  };
}

const router = require('@20minutes/s3rver/lib/routes');
for (const [method, handler] of [
  ['DELETE', abortUpload],
  ['GET', listParts],
] as const) {
  const layer = router.stack.find((l: any) => l.path === '/:bucket/*key' && l.methods.includes(method));
  if (!layer) throw new Error(`s3rver's router has no ${method} object route to extend`);
  const original = layer.stack.at(-1);
  layer.stack[layer.stack.length - 1] = (ctx: any, next: () => Promise<void>) => {
    if (ctx.params.queryMethod !== 'uploadId') return original(ctx, next);
    // Our middleware above lets no unsigned request this far; s3rver sets the account only for a
    // signature that matches. Checked here too, so that these handlers never run unauthenticated.
    if (!ctx.state.account) throw new S3Error('AccessDenied', 'Access Denied');
    return handler(ctx);
  };
}

installObjectLock({
  server,
  root: dir,
  S3Error,
  objectController,
  bucketController: require('@20minutes/s3rver/lib/controllers/bucket'),
  router,
  XMLParser,
  lockedBuckets: lockFlag === 'object-lock' ? bucket.split(',') : [],
});

const address = await server.run();
process.send?.({ ready: true, port: address.port });
console.log(`s3 listening on ${address.port}`);
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.on(sig, () => server.close().then(() => process.exit(0)));
