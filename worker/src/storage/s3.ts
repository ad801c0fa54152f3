// Object storage through aws4fetch only: multipart uploads with presigned part URLs, presigned
// downloads, deletes. Works with any S3 API (R2, Hetzner, AWS, MinIO), path- or host-style.
import type { Config } from '../env.ts';
import { ApiError } from '../errors.ts';
import { escapeXml, objectUrl as objectUrlOf, s3Client, xmlValue } from './s3-common.ts';

export type ObjectStorage = ReturnType<typeof createStorage>;

export function createStorage(config: Config['s3']) {
  const aws = s3Client(config);
  let requests = 0;
  const objectUrl = (key: string): URL => objectUrlOf(config, key);

  async function send(url: URL, init: RequestInit, what: string): Promise<Response> {
    requests++;
    let res: Response;
    try {
      res = await aws.fetch(url.toString(), init);
    } catch (e) {
      throw new ApiError('storage_error', `Object storage unreachable during ${what}`, undefined, {
        cause: e,
      });
    }
    return res;
  }

  async function presign(url: URL, method: string, ttlSeconds: number): Promise<string> {
    url.searchParams.set('X-Amz-Expires', String(ttlSeconds));
    const signed = await aws.sign(url.toString(), { method, aws: { signQuery: true } });
    return signed.url;
  }

  return {
    get requestCount() {
      return requests;
    },
    async createMultipartUpload(key: string): Promise<string> {
      const url = objectUrl(key);
      url.search = 'uploads';
      const res = await send(
        url,
        { method: 'POST', headers: { 'content-type': 'application/octet-stream' } },
        'create upload',
      );
      const text = await res.text();
      const uploadId = xmlValue(text, 'UploadId');
      if (!res.ok || !uploadId)
        throw new ApiError('storage_error', `Object storage refused the upload (${res.status})`);
      return uploadId;
    },
    presignPart(key: string, uploadId: string, partNumber: number, ttlSeconds: number): Promise<string> {
      const url = objectUrl(key);
      url.searchParams.set('partNumber', String(partNumber));
      url.searchParams.set('uploadId', uploadId);
      return presign(url, 'PUT', ttlSeconds);
    },
    async completeMultipartUpload(
      key: string,
      uploadId: string,
      parts: { partNumber: number; etag: string }[],
    ): Promise<void> {
      const url = objectUrl(key);
      url.searchParams.set('uploadId', uploadId);
      const body = `<CompleteMultipartUpload>${parts
        .map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${escapeXml(p.etag)}</ETag></Part>`)
        .join('')}</CompleteMultipartUpload>`;
      const res = await send(
        url,
        { method: 'POST', body, headers: { 'content-type': 'application/xml' } },
        'complete upload',
      );
      const text = await res.text();
      // S3 may answer 200 with an <Error> body for a complete that failed late.
      if (!res.ok || text.includes('<Error>')) {
        const code = xmlValue(text, 'Code') ?? String(res.status);
        if (res.status >= 500)
          throw new ApiError('storage_error', `Object storage failed to complete the upload (${code})`);
        throw new ApiError('conflict', `Object storage refused the parts (${code}); upload them again`);
      }
    },
    async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
      const url = objectUrl(key);
      url.searchParams.set('uploadId', uploadId);
      const res = await send(url, { method: 'DELETE' }, 'abort upload');
      // 404: already gone (aborted, or completed). 405: a server without AbortMultipartUpload (plain
      // s3rver; the local stack's server has it): nothing more to do here, its parts are left to
      // the bucket's lifecycle rule that aborts incomplete uploads.
      if (!res.ok && res.status !== 404 && res.status !== 405) {
        throw new ApiError('storage_error', `Object storage failed to abort the upload (${res.status})`);
      }
      await res.body?.cancel();
    },
    async headObject(key: string): Promise<{ size: number } | undefined> {
      const res = await send(objectUrl(key), { method: 'HEAD' }, 'check object');
      if (res.status === 404) return undefined;
      if (!res.ok)
        throw new ApiError('storage_error', `Object storage failed to report the object (${res.status})`);
      return { size: Number(res.headers.get('content-length') ?? -1) };
    },
    async deleteObject(key: string): Promise<void> {
      const res = await send(objectUrl(key), { method: 'DELETE' }, 'delete object');
      await res.body?.cancel();
      if (!res.ok && res.status !== 404)
        throw new ApiError('storage_error', `Object storage failed to delete (${res.status})`);
    },
    presignDownload(key: string, fileName: string, ttlSeconds: number): Promise<string> {
      const url = objectUrl(key);
      url.searchParams.set('response-content-disposition', `attachment; filename="${fileName}"`);
      url.searchParams.set('response-content-type', 'application/octet-stream');
      return presign(url, 'GET', ttlSeconds);
    },
  };
}
