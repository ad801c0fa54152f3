// `npm run agent:publish`: uploads the agent's executables and their SHA-256 sums (agent/dist,
// from `npm run build`) to the bucket under downloads/, where the worker's /downloads/<file>
// hands them out. Run it after each deploy with the same S3 settings the worker has:
//   S3_ENDPOINT=… S3_BUCKET=… S3_ACCESS_KEY_ID=… S3_SECRET_ACCESS_KEY=… [S3_REGION=…] npm run agent:publish
// The local stack (npm start, the tests) calls publishAgentDownloads itself.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { objectUrl, type S3Config, s3Client } from '../worker/src/storage/s3-common.ts';

const DIST = fileURLToPath(new URL('../agent/dist', import.meta.url));
const FILES = ['resistro-linux-x64', 'resistro-linux-arm64'];

/**
 * Uploads each built executable with its .sha256, the checksum last: an installer that finds the
 * checksum always finds the binary it describes. Returns the files published.
 */
export async function publishAgentDownloads(target: S3Config, dist = DIST): Promise<string[]> {
  const client = s3Client(target);
  const published: string[] = [];
  for (const name of FILES) {
    const file = join(dist, name);
    if (!existsSync(file) || !existsSync(`${file}.sha256`)) continue;
    for (const part of [name, `${name}.sha256`]) {
      const body = readFileSync(join(dist, part));
      const res = await client.fetch(objectUrl(target, `downloads/${part}`), {
        method: 'PUT',
        body,
        headers: { 'content-type': 'application/octet-stream' },
      });
      if (!res.ok) throw new Error(`upload of downloads/${part} failed: ${res.status} ${await res.text()}`);
      published.push(part);
    }
  }
  return published;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const need = ['S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'];
  const missing = need.filter((n) => !process.env[n]);
  if (missing.length) {
    console.error(`agent:publish: set ${missing.join(', ')} (the worker's S3 settings)`);
    process.exit(2);
  }
  const published = await publishAgentDownloads({
    endpoint: process.env.S3_ENDPOINT!,
    bucket: process.env.S3_BUCKET!,
    region: process.env.S3_REGION ?? 'auto',
    accessKeyId: process.env.S3_ACCESS_KEY_ID!,
    secretAccessKey: process.env.S3_SECRET_ACCESS_KEY!,
    pathStyle: process.env.S3_FORCE_PATH_STYLE !== 'false',
  });
  if (!published.length) {
    console.error('agent:publish: no executables in agent/dist; run `npm run build` first');
    process.exit(1);
  }
  console.log(`published ${published.map((p) => `downloads/${p}`).join(', ')}`);
}
