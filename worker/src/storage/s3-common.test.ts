// Addresses the S3 client uses: path-style for local servers and MinIO, host-style for AWS/R2.
import { describe, expect, test } from 'vitest';
import { allValues, bucketUrl, objectUrl, type S3Config } from './s3-common.ts';

const config = (pathStyle: boolean) =>
  ({ endpoint: 'https://s3.example.test', bucket: 'backups', pathStyle }) as S3Config;

describe('S3 addresses', () => {
  test('path-style and host-style bucket and object URLs, each key segment encoded', () => {
    expect(bucketUrl(config(true)).toString()).toBe('https://s3.example.test/backups');
    expect(bucketUrl(config(false)).toString()).toBe('https://backups.s3.example.test/');
    expect(objectUrl(config(true), 'accounts/a b/x?.resistro').toString()).toBe(
      'https://s3.example.test/backups/accounts/a%20b/x%3F.resistro',
    );
    expect(objectUrl(config(false), 'accounts/a b/x?.resistro').toString()).toBe(
      'https://backups.s3.example.test/accounts/a%20b/x%3F.resistro',
    );
  });

  test('XML values come back unescaped', () => {
    expect(allValues('<Key>a&amp;b</Key><Key>&#60;c&#62;</Key>', 'Key')).toEqual(['a&b', '<c>']);
  });
});
