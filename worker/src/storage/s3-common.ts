// The S3 client's parts (storage/s3.ts): the signing client, path- or host-style addresses,
// XML text.
import { AwsClient } from 'aws4fetch';

/** Where the bucket is and how to sign for it (env.ts parses it from the S3_* variables). */
export type S3Config = {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `<endpoint>/<bucket>` (local servers, MinIO) instead of `<bucket>.<host>` */
  pathStyle: boolean;
};

export function s3Client(config: S3Config): AwsClient {
  return new AwsClient({
    accessKeyId: config.accessKeyId,
    secretAccessKey: config.secretAccessKey,
    service: 's3',
    region: config.region,
  });
}

/** The bucket's address, path-style (`<endpoint>/<bucket>`) or host-style (`<bucket>.<host>`). */
export function bucketUrl(config: S3Config): URL {
  const base = new URL(config.endpoint);
  return config.pathStyle
    ? new URL(`${base.origin}/${config.bucket}`)
    : new URL(`${base.protocol}//${config.bucket}.${base.host}/`);
}

/** An object's address; each path segment of the key is percent-encoded. */
export function objectUrl(config: S3Config, key: string): URL {
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
