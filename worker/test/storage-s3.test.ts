// The S3 client (worker/src/storage/s3.ts) keeps the storage contract against the local
// signature-checking S3 server, the same suite the in-memory store runs as a unit test.
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import { stackInfo } from '../../scripts/test/api.ts';
import { describeObjectStorage } from '../src/storage/contract.ts';
import { createS3Storage } from '../src/storage/s3.ts';

describeObjectStorage('S3 (local signature-checking server)', () => ({
  storage: createS3Storage({
    endpoint: stackInfo().s3Url,
    region: 'us-east-1',
    bucket: stackInfo().bucket,
    accessKeyId: S3_ACCESS_KEY_ID,
    secretAccessKey: S3_SECRET_ACCESS_KEY,
    pathStyle: true,
  }),
  // a second bucket on the same server: server-side copies
  peer: createS3Storage({
    endpoint: stackInfo().s3Url,
    region: 'us-east-1',
    bucket: stackInfo().peerBucket,
    accessKeyId: S3_ACCESS_KEY_ID,
    secretAccessKey: S3_SECRET_ACCESS_KEY,
    pathStyle: true,
  }),
  fetch: (url, init) => fetch(url, init),
}));
