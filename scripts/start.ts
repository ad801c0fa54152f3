// `npm start`: the whole service on embedded defaults, no Docker, no cloud account. Data lives in
// .data/ (git-ignored) and survives restarts; Ctrl-C stops everything this started.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAll } from './build.ts';
import { publishAgentDownloads } from './publish-agent.ts';
import { startStack } from './stack/stack.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dataDir = join(ROOT, '.data');
mkdirSync(dataDir, { recursive: true });
const port = Number(process.env.PORT ?? 8787);

console.log('Building the dashboard and the agent…');
buildAll();
console.log('Starting PostgreSQL, the S3 server and the worker…');
const stack = await startStack({
  dataDir,
  ports: {
    worker: port,
    pg: port + 1,
    s3: port + 2,
    wsProxy: port + 3,
    sink: port + 4,
    paddle: port + 5,
    oidc: port + 6,
  },
}).catch((e: Error) => {
  console.error(`Could not start the local service: ${e.message}`);
  console.error(`hint: is something else using ports ${port}–${port + 5}? Set PORT=… to move them.`);
  process.exit(1);
});

// The agent's executables, for install-agent.sh: in the bucket, as `npm run agent:publish` puts them.
await publishAgentDownloads({
  endpoint: stack.s3.url,
  bucket: stack.s3.bucket,
  region: stack.vars.S3_REGION ?? 'us-east-1',
  accessKeyId: stack.vars.S3_ACCESS_KEY_ID ?? '',
  secretAccessKey: stack.vars.S3_SECRET_ACCESS_KEY ?? '',
  pathStyle: true,
});

// wrangler dev does not fire cron triggers by itself: tick once a minute, on the minute.
let ticking = true;
async function tick() {
  if (!ticking) return;
  await stack.runCron(new Date()).catch((e: Error) => console.error(`cron run failed: ${e.message}`));
  setTimeout(tick, 60_000 - (Date.now() % 60_000)).unref();
}
setTimeout(tick, 60_000 - (Date.now() % 60_000)).unref();

const url = `http://localhost:${port}`;
console.log(`
Resistro is running.

  Dashboard:   ${url}
  API:         ${url}/api/v1   (OpenAPI: ${url}/api/v1/openapi.json)
  S3 storage:  ${stack.s3.url} (bucket ${stack.s3.bucket})
  Mail/hooks:  ${stack.sink.url}/messages   (alert e-mails and webhooks land here locally)
  Paddle:      ${stack.paddle.url}   (local stand-in: checkout without payment, signed webhooks; docs/billing.md)
  SSO (OIDC):  issuer ${stack.oidc.issuer}, client id ${stack.oidc.clientId}, client secret ${stack.oidc.clientSecret}
               (an Enterprise account sets these in PATCH /api/v1/account/sso; see /docs/en/account-security)
  Data:        ${dataDir}

Install the agent on a database server (no Node.js needed there):

  curl -fsSL ${url}/install-agent.sh | sudo sh

Or run it from this checkout (after signing up and creating an API key under Settings → API keys):

  export RESISTRO_API_KEY=rsk_…
  export RESISTRO_ENDPOINT=${url}/api
  export RESISTRO_ENCRYPTION_KEY=$(npx resistro keygen)   # keep this key safe: it alone decrypts your backups
  export RESISTRO_STATE_DIR=${join(dataDir, 'agent')}
  npx resistro agent

Press Ctrl-C to stop.`);

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, async () => {
    if (stopping) return;
    stopping = true;
    ticking = false;
    console.log('\nStopping…');
    await stack.stop();
    process.exit(0);
  });
}
