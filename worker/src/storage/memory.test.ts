// The in-memory store keeps the storage contract (the S3 client runs the same suite against the
// local S3 server in worker/test/storage-s3.test.ts).
import { describeObjectStorage } from './contract.ts';
import { createMemoryStorage } from './memory.ts';

const storage = createMemoryStorage();
describeObjectStorage('in memory', () => ({ storage, fetch: (url, init) => storage.fetch(url, init) }));
