// The bulk operations retention needs and storage/s3.ts does not offer: DeleteObjects (up to
// 1,000 keys per request instead of one request per key) and ListObjects by prefix. Any S3 API
// (R2, Hetzner, AWS, MinIO) through aws4fetch; requests and time spent are counted for the stats.

import { createHash } from 'node:crypto';
import type { Config } from '../env.ts';
import { ApiError } from '../errors.ts';
import { allValues, bucketUrl as bucketUrlOf, escapeXml, objectUrl, s3Client } from '../storage/s3-common.ts';

export const DELETE_OBJECTS_MAX = 1000;

export type ObjectStore = ReturnType<typeof createObjectStore>;

export function createObjectStore(config: Config['s3']) {
  const aws = s3Client(config);
  let requests = 0;
  let elapsedMs = 0;
  const bucketUrl = (): URL => bucketUrlOf(config);

  async function send(url: URL, init: RequestInit, what: string, okStatuses: number[] = []): Promise<string> {
    requests++;
    const t0 = performance.now();
    try {
      const res = await aws.fetch(url.toString(), init);
      const text = await res.text();
      if (!res.ok && !okStatuses.includes(res.status))
        throw new ApiError('storage_error', `Object storage failed to ${what} (${res.status})`);
      return text;
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw new ApiError('storage_error', `Object storage unreachable during ${what}`, undefined, {
        cause: e,
      });
    } finally {
      elapsedMs += performance.now() - t0;
    }
  }

  return {
    get requestCount() {
      return requests;
    },
    get elapsedMs() {
      return elapsedMs;
    },
    /**
     * Deletes up to 1,000 keys per request. Returns the keys that are gone (a missing key counts
     * as gone); keys the server reports as errors are left for a later run.
     */
    async deleteObjects(keys: string[]): Promise<Set<string>> {
      const gone = new Set<string>();
      for (let i = 0; i < keys.length; i += DELETE_OBJECTS_MAX) {
        const chunk = keys.slice(i, i + DELETE_OBJECTS_MAX);
        const body = `<Delete><Quiet>true</Quiet>${chunk.map((k) => `<Object><Key>${escapeXml(k)}</Key></Object>`).join('')}</Delete>`;
        const url = bucketUrl();
        url.search = 'delete';
        // S3 requires Content-MD5 on DeleteObjects (an integrity check, not a security one).
        const md5 = createHash('md5').update(body).digest('base64');
        const text = await send(
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
    /** Idempotent: an upload that is already gone (404) or a server without abort (405) is fine. */
    async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
      const url = objectUrl(config, key);
      url.searchParams.set('uploadId', uploadId);
      await send(url, { method: 'DELETE' }, 'abort an upload', [404, 405]);
    },
    /**
     * Up to `max` keys under the prefix, after `marker` (one ListObjects request). Version 1 of
     * the call: every S3 API has it, and its paging needs no server-side token (the local S3
     * server cannot make ListObjectsV2 continuation tokens under Node 24).
     */
    async listKeys(
      prefix: string,
      max = DELETE_OBJECTS_MAX,
      marker = '',
    ): Promise<{ keys: string[]; truncated: boolean }> {
      const url = bucketUrl();
      url.searchParams.set('prefix', prefix);
      if (marker) url.searchParams.set('marker', marker);
      url.searchParams.set('max-keys', String(max));
      const text = await send(url, { method: 'GET' }, 'list objects');
      return { keys: allValues(text, 'Key'), truncated: /<IsTruncated>true<\/IsTruncated>/.test(text) };
    },
  };
}
