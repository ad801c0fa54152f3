// Object storage through aws4fetch: multipart uploads with presigned part URLs, presigned
// downloads, single and bulk deletes, listings. Works with any S3 API (R2, Hetzner, AWS, MinIO),
// path- or host-style. Requests and the time spent on them are counted for the cron stats.
import { createHash } from 'node:crypto';
import { ApiError } from '../errors.ts';
import {
  allValues,
  bucketUrl,
  escapeXml,
  objectUrl,
  type S3Config,
  s3Client,
  xmlValue,
} from './s3-common.ts';
import {
  type CompleteResult,
  DELETE_OBJECTS_MAX,
  type ObjectLock,
  type ObjectStorage,
  type PartChecksum,
  type PartDigest,
  type UploadedPart,
} from './storage.ts';

/** The request header that carries a part's checksum of this algorithm. */
export function checksumHeader(algorithm: PartChecksum): string {
  return algorithm === 'sha256' ? 'x-amz-checksum-sha256' : 'content-md5';
}

/** The headers that lock an object as it is written (compliance mode). */
export function lockHeaders(lock: ObjectLock): Record<string, string> {
  return {
    'x-amz-object-lock-mode': 'COMPLIANCE',
    'x-amz-object-lock-retain-until-date': lock.retainUntil.toISOString(),
  };
}

/** Storage answered 403: the object is locked (AccessDenied), or our credentials are wrong. */
function refusedAsLocked(text: string): ApiError {
  if (/object lock/i.test(text) || xmlValue(text, 'Code') === 'AccessDenied')
    return new ApiError('conflict', 'The backup is locked; storage refuses to delete it before its date');
  return new ApiError('storage_error', 'Object storage failed to delete (403)');
}

export function createS3Storage(config: S3Config): ObjectStorage {
  const aws = s3Client(config);
  let requests = 0;
  let elapsedMs = 0;

  async function send(url: URL, init: RequestInit, what: string): Promise<Response> {
    requests++;
    const t0 = performance.now();
    try {
      return await aws.fetch(url.toString(), init);
    } catch (e) {
      throw new ApiError('storage_error', `Object storage unreachable during ${what}`, undefined, {
        cause: e,
      });
    } finally {
      elapsedMs += performance.now() - t0;
    }
  }

  /** Sends and reads the answer; any status but 2xx and `okStatuses` is a storage_error. */
  async function sendText(url: URL, init: RequestInit, what: string, okStatuses: number[] = []) {
    const res = await send(url, init, what);
    const text = await res.text();
    if (!res.ok && !okStatuses.includes(res.status))
      throw new ApiError('storage_error', `Object storage failed to ${what} (${res.status})`);
    return { status: res.status, text };
  }

  async function presign(
    url: URL,
    method: string,
    ttlSeconds: number,
    headers: Record<string, string> = {},
  ): Promise<string> {
    url.searchParams.set('X-Amz-Expires', String(ttlSeconds));
    // Headers given here become signed headers: the request must carry them with these values.
    const signed = await aws.sign(url.toString(), { method, headers, aws: { signQuery: true } });
    return signed.url;
  }

  return {
    get requestCount() {
      return requests;
    },
    get elapsedMs() {
      return elapsedMs;
    },
    async createMultipartUpload(key: string, checksum?: PartChecksum, lock?: ObjectLock): Promise<string> {
      const url = objectUrl(config, key);
      url.search = 'uploads';
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
      // S3 takes part checksums only on an upload started for them (and then requires them).
      if (checksum === 'sha256') headers['x-amz-checksum-algorithm'] = 'SHA256';
      if (lock) Object.assign(headers, lockHeaders(lock));
      const res = await send(url, { method: 'POST', headers }, 'create upload');
      const text = await res.text();
      const uploadId = xmlValue(text, 'UploadId');
      if (!res.ok || !uploadId)
        throw new ApiError('storage_error', `Object storage refused the upload (${res.status})`);
      return uploadId;
    },
    presignPart(
      key: string,
      uploadId: string,
      partNumber: number,
      ttlSeconds: number,
      digest?: PartDigest,
    ): Promise<string> {
      const url = objectUrl(config, key);
      url.searchParams.set('partNumber', String(partNumber));
      url.searchParams.set('uploadId', uploadId);
      return presign(
        url,
        'PUT',
        ttlSeconds,
        digest ? { [checksumHeader(digest.algorithm)]: digest.value } : {},
      );
    },
    presignPut(key: string, ttlSeconds: number, digest?: PartDigest): Promise<string> {
      return presign(
        objectUrl(config, key),
        'PUT',
        ttlSeconds,
        digest ? { [checksumHeader(digest.algorithm)]: digest.value } : {},
      );
    },
    async putObject(key: string, body: Uint8Array, sha256: string): Promise<void> {
      // SECURITY (integrity): the payload hash is signed, and S3 checks the body against both it
      // and x-amz-checksum-sha256, so storage keeps exactly the bytes hashed here or nothing.
      const res = await send(
        objectUrl(config, key),
        {
          method: 'PUT',
          body: body as Uint8Array<ArrayBuffer>,
          headers: {
            'content-type': 'application/octet-stream',
            'x-amz-checksum-sha256': sha256,
            'x-amz-content-sha256': Buffer.from(sha256, 'base64').toString('hex'),
          },
        },
        'write the object',
      );
      const text = await res.text();
      if (res.ok) return;
      const code = xmlValue(text, 'Code') ?? String(res.status);
      if (res.status >= 500)
        throw new ApiError('storage_error', `Object storage failed to write the object (${code})`);
      throw new ApiError('conflict', `Object storage refused the object (${code})`);
    },
    async completeMultipartUpload(
      key: string,
      uploadId: string,
      parts: UploadedPart[],
    ): Promise<CompleteResult> {
      const url = objectUrl(config, key);
      url.searchParams.set('uploadId', uploadId);
      const body = `<CompleteMultipartUpload>${parts
        .map(
          (p) =>
            `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${escapeXml(p.etag)}</ETag>${
              p.checksumSha256 ? `<ChecksumSHA256>${escapeXml(p.checksumSha256)}</ChecksumSHA256>` : ''
            }</Part>`,
        )
        .join('')}</CompleteMultipartUpload>`;
      const res = await send(
        url,
        { method: 'POST', body, headers: { 'content-type': 'application/xml' } },
        'complete upload',
      );
      const text = await res.text();
      // S3 may answer 200 with an <Error> body for a complete that failed late.
      if (res.ok && !text.includes('<Error>')) return 'completed';
      const code = xmlValue(text, 'Code') ?? String(res.status);
      if (code === 'NoSuchUpload') return 'upload_not_found';
      if (res.status >= 500)
        throw new ApiError('storage_error', `Object storage failed to complete the upload (${code})`);
      throw new ApiError('conflict', `Object storage refused the parts (${code}); upload them again`);
    },
    async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
      const url = objectUrl(config, key);
      url.searchParams.set('uploadId', uploadId);
      // 404: already gone (aborted, or completed). 405: a server without AbortMultipartUpload (plain
      // s3rver; the local stack's server has it): nothing more to do here, its parts are left to
      // the bucket's lifecycle rule that aborts incomplete uploads.
      await sendText(url, { method: 'DELETE' }, 'abort the upload', [404, 405]);
    },
    async getObject(key: string, range?: { start: number; end: number }) {
      if (range && (range.start < 0 || range.end <= range.start))
        throw new RangeError(`invalid range ${range.start}-${range.end}`);
      const headers: Record<string, string> = range ? { range: `bytes=${range.start}-${range.end - 1}` } : {};
      const res = await send(objectUrl(config, key), { method: 'GET', headers }, 'read object');
      if (res.status === 404) {
        await res.body?.cancel();
        return undefined;
      }
      if (res.status !== (range ? 206 : 200) || !res.body) {
        await res.body?.cancel();
        throw new ApiError('storage_error', `Object storage failed to read the object (${res.status})`);
      }
      return res.body;
    },
    async headObject(key: string): Promise<{ size: number } | undefined> {
      const res = await send(objectUrl(config, key), { method: 'HEAD' }, 'check object');
      await res.body?.cancel();
      if (res.status === 404) return undefined;
      if (!res.ok)
        throw new ApiError('storage_error', `Object storage failed to report the object (${res.status})`);
      return { size: Number(res.headers.get('content-length') ?? -1) };
    },
    async deleteObject(key: string): Promise<void> {
      const { status, text } = await sendText(
        objectUrl(config, key),
        { method: 'DELETE' },
        'delete',
        [403, 404],
      );
      if (status === 403) throw refusedAsLocked(text);
    },
    async putObjectLock(key: string, lock: ObjectLock): Promise<void> {
      const url = objectUrl(config, key);
      url.search = 'retention';
      const body = `<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>COMPLIANCE</Mode><RetainUntilDate>${lock.retainUntil.toISOString()}</RetainUntilDate></Retention>`;
      // S3 requires Content-MD5 (or a checksum) on PutObjectRetention.
      const md5 = createHash('md5').update(body).digest('base64');
      const { status, text } = await sendText(
        url,
        { method: 'PUT', body, headers: { 'content-type': 'application/xml', 'content-md5': md5 } },
        'lock the object',
        [403],
      );
      if (status === 403) throw refusedAsLocked(text);
    },
    async getObjectLock(key: string): Promise<ObjectLock | undefined> {
      const url = objectUrl(config, key);
      url.search = 'retention';
      const { status, text } = await sendText(url, { method: 'GET' }, 'read the object lock', [404]);
      const until = xmlValue(text, 'RetainUntilDate');
      if (status === 404 || !until) return undefined;
      return { retainUntil: new Date(until) };
    },
    async deleteObjects(keys: string[]): Promise<Set<string>> {
      const gone = new Set<string>();
      for (let i = 0; i < keys.length; i += DELETE_OBJECTS_MAX) {
        const chunk = keys.slice(i, i + DELETE_OBJECTS_MAX);
        const body = `<Delete><Quiet>true</Quiet>${chunk.map((k) => `<Object><Key>${escapeXml(k)}</Key></Object>`).join('')}</Delete>`;
        const url = bucketUrl(config);
        url.search = 'delete';
        // S3 requires Content-MD5 on DeleteObjects (an integrity check, not a security one).
        const md5 = createHash('md5').update(body).digest('base64');
        const { text } = await sendText(
          url,
          { method: 'POST', body, headers: { 'content-type': 'application/xml', 'content-md5': md5 } },
          'delete objects',
        );
        const failed = new Set<string>();
        for (const m of text.matchAll(/<Error>([\s\S]*?)<\/Error>/g)) {
          const block = m[1] ?? '';
          const key = allValues(block, 'Key')[0];
          const code = allValues(block, 'Code')[0];
          if (key !== undefined && code !== 'NoSuchKey') failed.add(key);
        }
        for (const k of chunk) if (!failed.has(k)) gone.add(k);
      }
      return gone;
    },
    /**
     * One ListObjects request. Version 1 of the call: every S3 API has it, and its paging needs no
     * server-side token (the local S3 server cannot make ListObjectsV2 continuation tokens under Node 24).
     */
    async listKeys(prefix: string, max = DELETE_OBJECTS_MAX, marker = '') {
      const url = bucketUrl(config);
      url.searchParams.set('prefix', prefix);
      if (marker) url.searchParams.set('marker', marker);
      url.searchParams.set('max-keys', String(max));
      const { text } = await sendText(url, { method: 'GET' }, 'list objects');
      return { keys: allValues(text, 'Key'), truncated: /<IsTruncated>true<\/IsTruncated>/.test(text) };
    },
    bucket: config.bucket,
    async readChecksum(key: string) {
      const res = await send(objectUrl(config, key), { method: 'GET' }, 'read the object');
      if (res.status === 404) {
        await res.body?.cancel();
        return undefined;
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        throw new ApiError('storage_error', `Object storage failed to read the object (${res.status})`);
      }
      // Streamed: the object is never held in memory as a whole.
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        size += chunk.length;
      }
      return { size, sha256: hash.digest('hex') };
    },
    async copyPart(key, uploadId, partNumber, source, range) {
      const url = objectUrl(config, key);
      url.searchParams.set('partNumber', String(partNumber));
      url.searchParams.set('uploadId', uploadId);
      const copySource = `/${source.bucket}/${source.key.split('/').map(encodeURIComponent).join('/')}`;
      const res = await send(
        url,
        {
          method: 'PUT',
          headers: {
            'x-amz-copy-source': copySource,
            'x-amz-copy-source-range': `bytes=${range.first}-${range.last}`,
          },
        },
        'copy a part',
      );
      const text = await res.text();
      const etag = xmlValue(text, 'ETag');
      if (res.ok && etag && !text.includes('<Error>')) return etag.replace(/&quot;|&#34;/g, '"');
      const code = xmlValue(text, 'Code') ?? String(res.status);
      if (res.status >= 500) throw new ApiError('storage_error', `Object storage failed to copy (${code})`);
      throw new ApiError('conflict', `Object storage refused the server-side copy (${code})`);
    },
    presignDownload(key: string, fileName: string, ttlSeconds: number): Promise<string> {
      const url = objectUrl(config, key);
      url.searchParams.set('response-content-disposition', `attachment; filename="${fileName}"`);
      url.searchParams.set('response-content-type', 'application/octet-stream');
      return presign(url, 'GET', ttlSeconds);
    },
  };
}
