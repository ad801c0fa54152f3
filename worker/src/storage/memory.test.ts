// The in-memory store keeps the storage contract (the S3 client runs the same suite against the
// local S3 server in worker/test/storage-s3.test.ts).
import { describeObjectStorage } from './contract.ts';
import { createMemoryStorage } from './memory.ts';

const storage = createMemoryStorage(Date.now, 'contract-primary');
const peer = createMemoryStorage(Date.now, 'contract-peer');
describeObjectStorage('in memory', () => ({ storage, peer, fetch: (url, init) => storage.fetch(url, init) }));
