// Child-process entry: the local S3-compatible server (@20minutes/s3rver checks SigV4 and
// presigned URLs). We add what a private bucket does that s3rver does not: unsigned requests
// are refused. Usage: node s3-server.ts <dir> <port> <bucket>
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const S3rver = require('@20minutes/s3rver');

const [dir, port, bucket] = process.argv.slice(2);
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
  configureBuckets: [{ name: bucket, configs: [] }],
});
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
const address = await server.run();
process.send?.({ ready: true, port: address.port });
console.log(`s3 listening on ${address.port}`);
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.on(sig, () => server.close().then(() => process.exit(0)));
