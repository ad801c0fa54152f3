// What both S3 clients share (storage/s3.ts for uploads and downloads, retention/object-store.ts
// for bulk deletes and listings): the signing client, path- or host-style addresses, XML text.
import { AwsClient } from 'aws4fetch';
import type { Config } from '../env.ts';

export function s3Client(config: Config['s3']): AwsClient {
  return new AwsClient({
    accessKeyId: config.accessKeyId,
    secretAccessKey: config.secretAccessKey,
    service: 's3',
    region: config.region,
  });
}

/** The bucket's address, path-style (`<endpoint>/<bucket>`) or host-style (`<bucket>.<host>`). */
export function bucketUrl(config: Config['s3']): URL {
  const base = new URL(config.endpoint);
  return config.pathStyle
    ? new URL(`${base.origin}/${config.bucket}`)
    : new URL(`${base.protocol}//${config.bucket}.${base.host}/`);
}

/** An object's address; each path segment of the key is percent-encoded. */
export function objectUrl(config: Config['s3'], key: string): URL {
  const encoded = key.split('/').map(encodeURIComponent).join('/');
  return new URL(`${bucketUrl(config).toString().replace(/\/+$/, '')}/${encoded}`);
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function unescapeXml(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&amp;', '&');
}

/** The text of the first `<tag>` (as the server wrote it). */
export function xmlValue(xml: string, tag: string): string | undefined {
  const m = xml.match(new RegExp(`<${tag}>([^<]*)</${tag}>`));
  return m?.[1];
}

/** The unescaped text of every `<tag>`. */
export function allValues(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => unescapeXml(m[1] ?? ''));
}
