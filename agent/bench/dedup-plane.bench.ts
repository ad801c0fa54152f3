// `npm run bench:dedup-plane [-- --days 30] [--scale 0.5] [--seed 42] [--no-browser] [--no-whole]`
//
// Issue 17's 30 days as a new user goes through them: the whole local service (`npm start`'s
// stack: the control plane in workerd, its PostgreSQL, the signature-checking S3 server, the Paddle
// stand-in), an account signed up and paid for (Business, through the stand-in), an agent
// registered with its API key, the seeded shop database of `npm run bench:dedup`
// (dedup-workload.ts) added with deduplication on, and one real `resistro backup` a simulated day
// (a child process, through the control plane and presigned uploads). The same database is added
// a second time with deduplication off, and backed up on the same state each day: the whole files
// a user stores without deduplication, side by side.
//
// Then, as the user would see and do it:
//   - the savings: GET /dedup/usage (what the database page shows: "Backups <logical>, stored
//     <stored>"), next to the sum of the whole files; the page itself in Chromium, its figure read
//     off the screen; the account's usage against the storage's own object listing;
//   - `restore --backup` of the first day into an empty database, compared with that day's dump;
//   - deleting the backups of the first third of the days, at most 10 (DELETE /backups/{id}, then the
//     collection POST /dedup/collect, as the cron runs it): the account's stored bytes must fall by
//     exactly the packs no remaining backup uses plus the deleted manifests (less any pack the
//     collection rewrote), and agree with the object listing before and after;
//   - `restore --backup` of the middle and the last day after that, and `restore --file` of the
//     last day's download, each compared with that day's dump;
//   - a pack deleted and a byte flipped in another, in the S3 store: `resistro check --read-data`
//     finds both, `restore --backup` refuses with the chunk named, and all passes again once the
//     packs are put back;
//   - every backup but the last deleted the same way, the last restored and checked alone; after
//     each deletion the bytes still stored that no backup uses (dead chunks in packs that hold
//     live ones too) are printed, with the packs the collection rewrote or merged and its storage
//     requests; then the grace period of retired packs is let pass (their retired_at moved back 8
//     days) and the collection runs again: what is stored then is what the user keeps paying for.
// Exits 1 on any mismatch. A benchmark, not a test: it prints a table (per day: SQL, whole file,
// deduplicated upload, stored so far by the API; wall time and CPU of each backup, agent process
// and its pg_dump children; storage requests per backup).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Backup, DedupUsage } from '@resistro/contract';
import { formatBytes } from '@resistro/contract/format';
import { AwsClient } from 'aws4fetch';
import pg from 'pg';
import { buildAll } from '../../scripts/build.ts';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import { startStack } from '../../scripts/stack/stack.ts';
import { createKey, Session } from '../../scripts/test/api.ts';
import { CHROMIUM, launchBrowser, logIn, openPage } from '../../web/test/browser.ts';
import {
  addDatabase,
  cleanupAgents,
  downloadBackup,
  type LogEvent,
  listBackups,
  makeAgentSetup,
  registerAgent,
  restoreArgs,
  runCli,
  startCustomerPostgres,
  type Tenant,
  testDir,
} from '../test/helpers.ts';
import { dumpFingerprint, firstFingerprintDifference, mutateDay, seedSql } from './dedup-workload.ts';

const { values: args } = parseArgs({
  options: {
    days: { type: 'string', default: '30' },
    scale: { type: 'string', default: '0.5' },
    seed: { type: 'string', default: '42' },
    browser: { type: 'boolean', default: true },
    whole: { type: 'boolean', default: true },
    help: { type: 'boolean', short: 'h' },
  },
  allowNegative: true,
});
if (args.help) {
  process.stdout.write(
    'npm run bench:dedup-plane [-- --days <n ≥ 3>] [--scale <x, 1 ≈ 32 MB of SQL>] [--seed <n>] [--no-browser] [--no-whole]\n',
  );
  process.exit(0);
}
const days = Number(args.days);
const scale = Number(args.scale);
if (!Number.isInteger(days) || days < 3 || !(scale > 0)) {
  process.stderr.write('--days must be a whole number of at least 3, --scale a positive number\n');
  process.exit(2);
}
const workload = { scale, seed: Number(args.seed) };
const MB = 1e6;
const log = (s: string) => process.stderr.write(`${s}\n`);
const problems: string[] = [];
const expectThat = (ok: boolean, what: string) => {
  log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) problems.push(what);
};

/** CPU ms of reaped children (the agent and its pg_dump/psql), /proc/self/stat cutime+cstime. */
function childCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
}

// ------------------------------------------------------------------------- the service
const ROOT = new URL('../..', import.meta.url).pathname;
if (!existsSync(join(ROOT, 'web/dist/index.html'))) {
  log('Building the dashboard and the agent (as npm start does)…');
  buildAll();
}
// Under the system temp folder, as the test stack's: PostgreSQL runs as the postgres user when we
// are root and may not enter the checkout's folder.
const dataDir = mkdtempSync(join(tmpdir(), 'resistro-bench-plane-'));
log('Starting PostgreSQL, the S3 server, the Paddle stand-in and the control plane…');
const stack = await startStack({ dataDir, fast: true });
const customer = await startCustomerPostgres('bench-plane');
const work = testDir('bench-plane');
const cleanups: Array<() => Promise<unknown>> = [
  async () => cleanupAgents(),
  () => customer.stop(),
  () => stack.stop(),
  async () => work.remove(),
  async () => rmSync(dataDir, { recursive: true, force: true }),
];
const cp = new pg.Client({ connectionString: stack.databaseUrl });
await cp.connect();
cleanups.unshift(() => cp.end());
const aws = new AwsClient({
  accessKeyId: S3_ACCESS_KEY_ID,
  secretAccessKey: S3_SECRET_ACCESS_KEY,
  service: 's3',
  region: 'us-east-1',
});
const objectUrl = (key: string) => `${stack.s3.url}/${stack.s3.bucket}/${key}`;
/** The storage's own account of what it holds under `prefix`: bytes and objects. */
async function listing(prefix: string): Promise<{ bytes: number; objects: number }> {
  let bytes = 0;
  let objects = 0;
  let marker = '';
  for (;;) {
    // ListObjects v1: the local S3 server fails truncated v2 listings under Node 24.
    const res = await aws.fetch(
      `${stack.s3.url}/${stack.s3.bucket}?max-keys=1000&prefix=${encodeURIComponent(prefix)}${marker && `&marker=${encodeURIComponent(marker)}`}`,
    );
    const text = await res.text();
    if (!res.ok) throw new Error(`listing ${prefix}: ${res.status} ${text}`);
    const keys = [...text.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]!);
    for (const m of text.matchAll(/<Size>(\d+)<\/Size>/g)) bytes += Number(m[1]);
    objects += keys.length;
    if (!/<IsTruncated>true<\/IsTruncated>/.test(text) || keys.length === 0) return { bytes, objects };
    marker = keys.at(-1)!;
  }
}

try {
  // ----------------------------------------------------------------------- a new user
  const email = `bench-${randomBytes(4).toString('hex')}@example.test`;
  const password = 'correct horse battery staple';
  const session = new Session(stack.url);
  const signup = await session.json('/auth/signup', {
    method: 'POST',
    json: { email, password, plan: 'business' },
  });
  if (signup.status !== 201) throw new Error(`signup: ${signup.status} ${JSON.stringify(signup.body)}`);
  const accountId: string = signup.body.account.id;
  const checkout = await session.json('/billing/checkout', { method: 'POST', json: { plan: 'business' } });
  if (checkout.status !== 201) throw new Error(`checkout: ${checkout.status}`);
  // "Pay now" on the stand-in's checkout; it answers once the control plane took the webhooks.
  const paid = await fetch(`${stack.paddle.url}/__control/checkout/${checkout.body.transactionId}`, {
    method: 'POST',
    body: '{}',
  });
  if (!paid.ok) throw new Error(`the Paddle stand-in refused the payment: ${await paid.text()}`);
  const account = (await session.json('/account')).body.account;
  log(`account ${accountId}: plan ${account.plan}, quota ${formatBytes(account.limits.storageBytes, 'en')}`);
  const tenant: Tenant = { session, apiKey: await createKey(session, 'agent'), endpoint: `${stack.url}/api` };
  const readKey = await createKey(session, 'read', 'check');
  const setup = makeAgentSetup({ apiKey: tenant.apiKey, endpoint: tenant.endpoint });
  const agent = await registerAgent(tenant, setup);
  const pgEnv = { ...setup.env, PGPASSWORD: customer.password };

  await customer.createDatabase('shop');
  log('Generating the shop database…');
  await customer.asOwner(seedSql(workload), 'shop');
  await customer.admin('vacuum analyze', 'shop');
  const database = {
    port: customer.port,
    database: 'shop',
    user: customer.user,
    password: customer.password,
  };
  const dedupDb = await addDatabase(tenant, agent, { name: 'shop', engine: 'postgres', ...database });
  const on = await session.json(`/databases/${dedupDb.id}`, { method: 'PATCH', json: { dedup: true } });
  if (on.status !== 200 || on.body.database.dedup !== true) throw new Error(`dedup on: ${on.status}`);
  const wholeDb = args.whole
    ? await addDatabase(tenant, agent, { name: 'shop-whole', engine: 'postgres', ...database })
    : undefined;

  const usageOf = async () => {
    const r = await session.json<DedupUsage>('/dedup/usage');
    if (r.status !== 200) throw new Error(`GET /dedup/usage: ${r.status}`);
    return r.body.databases.find((d) => d.databaseId === dedupDb.id);
  };
  const accountBytes = async () => Number((await session.json('/account')).body.account.usage.storageBytes);

  /** One `resistro backup` as a child process: its backup, wall and CPU time, its events. */
  const seen = new Set<string>();
  async function backup(name: string, databaseId: string) {
    const cpu0 = childCpuMs();
    const t0 = performance.now();
    const r = await runCli(['backup', '--database', name], setup.env);
    const wallMs = performance.now() - t0;
    const cpuMs = childCpuMs() - cpu0;
    if (r.code !== 0) throw new Error(`resistro backup --database ${name} failed:\n${r.stderr.slice(-3000)}`);
    const fresh = (await listBackups(tenant, databaseId)).filter((b) => !seen.has(b.id));
    if (fresh.length !== 1 || fresh[0]!.status !== 'succeeded')
      throw new Error(`after backing up ${name}: ${JSON.stringify(fresh.map((b) => [b.id, b.status]))}`);
    seen.add(fresh[0]!.id);
    return { id: fresh[0]!.id, sizeBytes: fresh[0]!.sizeBytes!, wallMs, cpuMs, events: r.events };
  }

  // ------------------------------------------------------------------------ 30 days
  type Row = {
    day: number;
    id: string;
    sqlMB: number;
    wholeMB: number;
    wholeWall: number;
    wholeCpu: number;
    dedupMB: number;
    dedupWall: number;
    dedupCpu: number;
    chunks: number;
    newChunks: number;
    packs: number;
    requests: number;
    wholeSoFar: number;
    storedSoFar: number;
  };
  const rows: Row[] = [];
  const mid = Math.ceil(days / 2);
  const sources = new Map<number, Awaited<ReturnType<typeof dumpFingerprint>>>();
  let wholeSoFar = 0;
  for (let day = 1; day <= days; day++) {
    if (day > 1) await customer.asOwner(mutateDay(workload, day), 'shop');
    const d = await backup('shop', dedupDb.id);
    const w = wholeDb ? await backup('shop-whole', wholeDb.id) : undefined;
    const event = d.events.find((e) => e.event === 'backup.dedup') as LogEvent;
    if (!event) throw new Error(`day ${day}: the backup of "shop" was not deduplicated`);
    const wholeBytes = w?.sizeBytes ?? 0;
    wholeSoFar += wholeBytes;
    const usage = await usageOf();
    rows.push({
      day,
      id: d.id,
      sqlMB: Number(event.logicalBytes) / MB,
      wholeMB: wholeBytes / MB,
      wholeWall: w?.wallMs ?? 0,
      wholeCpu: w?.cpuMs ?? 0,
      dedupMB: (Number(event.uploadedBytes) + Number(event.manifestBytes)) / MB,
      dedupWall: d.wallMs,
      dedupCpu: d.cpuMs,
      chunks: Number(event.chunks),
      newChunks: Number(event.newChunks),
      packs: Number(event.packs),
      requests: Number(event.storeRequests),
      wholeSoFar,
      storedSoFar: usage?.storedBytes ?? 0,
    });
    if (day === 1 || day === mid || day === days)
      sources.set(day, await dumpFingerprint(customer.server, 'shop'));
    log(
      `day ${day}: deduplicated ${(d.wallMs / 1000).toFixed(1)} s, ${event.newChunks} of ${event.chunks} chunks new; stored so far ${formatBytes(usage?.storedBytes ?? 0, 'en')} (whole files ${formatBytes(wholeSoFar, 'en')})`,
    );
  }
  const byDay = (day: number) => rows[day - 1]!.id;

  // ------------------------------------------------------------ the savings, as shown
  const usage = (await usageOf())!;
  const sqlTotal = rows.reduce((n, r) => n + r.sqlMB * MB, 0);
  expectThat(usage.backups === days, `GET /dedup/usage counts ${usage.backups} backups of ${days}`);
  expectThat(
    Math.abs(usage.logicalBytes - sqlTotal) < days,
    `"logical size of all backups" (${usage.logicalBytes}) is the SQL the agent chunked (${sqlTotal})`,
  );
  const packPrefix = `accounts/${accountId}/packs/`;
  const manifests = await listing(`accounts/${accountId}/databases/${dedupDb.id}/`);
  const packs = await listing(packPrefix);
  expectThat(
    usage.storedBytes === packs.bytes + manifests.bytes,
    `"stored" (${usage.storedBytes}) is what the storage lists: ${packs.objects} packs ${packs.bytes} + ${manifests.objects} manifests ${manifests.bytes}`,
  );
  const everything = await listing(`accounts/${accountId}/`);
  const used = await accountBytes();
  expectThat(
    used === everything.bytes,
    `the account's usage (${used}) is the storage's listing of the account (${everything.bytes} in ${everything.objects} objects)`,
  );
  let shown: string | undefined;
  const expectedText = `Backups ${formatBytes(usage.logicalBytes, 'en-GB')}, stored ${formatBytes(usage.storedBytes, 'en-GB')}`;
  if (args.browser && existsSync(CHROMIUM)) {
    const browser = await launchBrowser();
    try {
      const { page } = await openPage(browser);
      await page.goto(`${stack.url}/login?next=${encodeURIComponent(`/databases/${dedupDb.id}`)}`);
      await logIn(page, email, password);
      await page.waitForURL(`**/databases/${dedupDb.id}`);
      shown = (await page.getByTestId('dedup-usage').textContent({ timeout: 30_000 })) ?? '';
      expectThat(shown === expectedText, `the database page shows "${shown}" (expected "${expectedText}")`);
    } finally {
      await browser.close();
    }
  } else log(`(no browser: ${args.browser ? `${CHROMIUM} is missing` : '--no-browser'})`);

  // --------------------------------------------------------------------- restores
  type Restore = { what: string; wallMs: number; identical: boolean };
  const restores: Restore[] = [];
  let restoreDb = 0;
  async function restoreAndCompare(what: string, day: number, source: { backup: string } | { file: string }) {
    const target = `restored_${++restoreDb}`;
    await customer.createDatabase(target);
    const t0 = performance.now();
    const r = await runCli(restoreArgs(source, customer, target), pgEnv);
    const wallMs = performance.now() - t0;
    if (r.code !== 0) {
      expectThat(false, `${what}: exit ${r.code}: ${r.stderr.slice(-1500)}`);
      restores.push({ what, wallMs, identical: false });
      return;
    }
    const restored = await dumpFingerprint(customer.server, target);
    const identical = restored.digest === sources.get(day)!.digest;
    expectThat(
      identical,
      `${what}: ${identical ? 'identical to' : `DIFFERENT from (${firstFingerprintDifference(sources.get(day)!, restored)})`} the source's dump of day ${day}`,
    );
    restores.push({ what, wallMs, identical });
    await customer.admin(`drop database ${target}`);
  }
  await restoreAndCompare(`day 1: restore --backup`, 1, { backup: byDay(1) });

  // ------------------------------- deleting backups frees exactly what no other backup uses
  type Deletion = {
    what: string;
    freed: number;
    freedPacks: number;
    freedPackBytes: number;
    manifestBytes: number;
    rewritten: number;
    rewrittenBytes: number;
    merged: number;
    requests: number;
    listedFreed: number;
    deadBytes: number;
    storedAfter: number;
  };
  const deletions: Deletion[] = [];
  /** DELETE /backups/{id} for days [from, to], then the collection; checks the bytes freed. */
  async function deleteDays(from: number, to: number): Promise<void> {
    const what = `deleting days ${from}–${to}`;
    const deleted = rows.slice(from - 1, to).map((r) => r.id);
    // What the model says: the packs none of whose chunks a remaining backup references.
    const { rows: expected } = await cp.query<{ packs: string; bytes: string }>(
      `select count(*) as packs, coalesce(sum(p.size_bytes), 0) as bytes from dedup_packs p
        where p.database_id = $1 and p.status = 'stored' and p.retired_at is null and not exists (
          select 1 from dedup_chunks c join dedup_refs r on r.account_id = c.account_id and r.chunk_id = c.chunk_id
           where c.pack_id = p.id and not (r.backup_id = any($2::uuid[])))`,
      [dedupDb.id, deleted],
    );
    const manifestBytes = (await listBackups(tenant, dedupDb.id))
      .filter((b: Backup) => deleted.includes(b.id))
      .reduce((n, b) => n + b.sizeBytes!, 0);
    const freedPacks = Number(expected[0]!.packs);
    const freedPackBytes = Number(expected[0]!.bytes);
    const usedBefore = await accountBytes();
    const listedBefore = (await listing(`accounts/${accountId}/`)).bytes;
    const storedBefore = (await usageOf())!.storedBytes;
    for (const id of deleted) {
      const r = await session.fetch(`/backups/${id}`, { method: 'DELETE' });
      if (r.status !== 204) throw new Error(`DELETE /backups/${id}: ${r.status} ${await r.text()}`);
    }
    const packsBefore = (
      await cp.query<{ id: string }>('select id from dedup_packs where account_id = $1', [accountId])
    ).rows.map((r) => r.id);
    // What the cron does within a minute, asked for now (POST /dedup/collect, scope "write").
    const collected = await session.json('/dedup/collect', { method: 'POST' });
    if (collected.status !== 200) throw new Error(`POST /dedup/collect: ${collected.status}`);
    const ran = collected.body as { rewritten: number; merged: number; storageRequests: number };
    // A pack mostly dead is rewritten by the storage, and small ones are merged (docs/dedup.md):
    // the new packs are stored bytes, the old ones stay for the grace period.
    const { rows: added } = await cp.query<{ n: string; bytes: string }>(
      `select count(*) as n, coalesce(sum(size_bytes), 0) as bytes from dedup_packs
        where account_id = $1 and status = 'stored' and not (id = any($2::uuid[]))`,
      [accountId, packsBefore],
    );
    const rewrittenBytes = Number(added[0]!.bytes);
    const usedAfter = await accountBytes();
    const listedAfter = (await listing(`accounts/${accountId}/`)).bytes;
    const storedAfter = (await usageOf())!.storedBytes;
    const freed = freedPackBytes + manifestBytes - rewrittenBytes;
    expectThat(
      usedBefore - usedAfter === freed,
      `${what}: the account's usage fell by ${usedBefore - usedAfter} bytes = ${freedPacks} packs no other backup uses (${freedPackBytes}) + ${deleted.length} manifests (${manifestBytes})${rewrittenBytes ? ` − ${added[0]!.n} rewritten packs (${rewrittenBytes})` : ''} = ${freed}`,
    );
    expectThat(
      listedBefore - listedAfter === freed && usedAfter === listedAfter,
      `${what}: the storage's listing fell by the same (${listedBefore - listedAfter}) and equals the usage (${listedAfter})`,
    );
    expectThat(
      storedBefore - storedAfter === freed,
      `${what}: the database's "stored" fell by the same (${storedBefore - storedAfter})`,
    );
    const { rows: orphans } = await cp.query<{ n: number }>(
      `select count(*)::int as n from dedup_chunks c where c.account_id = $1 and not exists (
         select 1 from dedup_refs r where r.account_id = c.account_id and r.chunk_id = c.chunk_id)`,
      [accountId],
    );
    expectThat(orphans[0]!.n === 0, `${what}: no chunk is left that no backup references (${orphans[0]!.n})`);
    // Bytes still stored that no backup needs: dead chunks in packs that hold live ones too.
    const { rows: dead } = await cp.query<{ bytes: string }>(
      `select coalesce(sum(p.size_bytes - coalesce((select sum(c.length) from dedup_chunks c where c.pack_id = p.id), 0)), 0) as bytes
         from dedup_packs p where p.account_id = $1 and p.status = 'stored' and p.retired_at is null`,
      [accountId],
    );
    deletions.push({
      what,
      freed,
      freedPacks,
      freedPackBytes,
      manifestBytes,
      rewritten: Number(added[0]!.n),
      rewrittenBytes,
      merged: ran.merged,
      requests: ran.storageRequests,
      listedFreed: listedBefore - listedAfter,
      deadBytes: Number(dead[0]!.bytes),
      storedAfter,
    });
  }
  const dropped = Math.min(10, Math.floor(days / 3));
  await deleteDays(1, dropped);

  await restoreAndCompare(`day ${mid}: restore --backup (after the deletion)`, mid, { backup: byDay(mid) });
  await restoreAndCompare(`day ${days}: restore --backup (after the deletion)`, days, {
    backup: byDay(days),
  });
  const file = await downloadBackup(tenant, byDay(days), work.dir);
  await restoreAndCompare(`day ${days}: downloaded file, restore --file`, days, { file });

  // ------------------------------------------ a deleted pack and a flipped chunk in storage
  const last = byDay(days);
  const { rows: lastPacks } = await cp.query<{ object_key: string; chunk_id: string; offset: string }>(
    `select distinct on (p.object_key) p.object_key, c.chunk_id, c."offset" from dedup_packs p
       join dedup_chunks c on c.pack_id = p.id
       join dedup_refs r on r.account_id = c.account_id and r.chunk_id = c.chunk_id
      where r.backup_id = $1 and p.status = 'stored' and p.retired_at is null
      order by p.object_key, c."offset" desc`,
    [last],
  );
  if (lastPacks.length < 2) throw new Error(`day ${days}'s backup uses only ${lastPacks.length} pack`);
  const gone = lastPacks[0]!;
  const flipped = lastPacks[1]!;
  const { rows: goneChunks } = await cp.query<{ chunk_id: string }>(
    `select c.chunk_id from dedup_chunks c join dedup_packs p on p.id = c.pack_id where p.object_key = $1`,
    [gone.object_key],
  );
  const saved = new Map<string, Buffer>();
  for (const k of [gone.object_key, flipped.object_key])
    saved.set(k, Buffer.from(await (await aws.fetch(objectUrl(k))).arrayBuffer()));
  const named = (text: string) =>
    /chunk \d+ of \d+ in section "[^"]+" \(id ([A-Za-z0-9_-]{12})…\)/.exec(text)?.[1];
  const checkAll = () => runCli(['check', '--read-data'], { ...setup.env, RESISTRO_API_KEY: readKey });
  const before = await checkAll();
  const remaining = days - dropped;
  expectThat(
    before.code === 0 && before.stdout.includes(`${remaining} of ${remaining} deduplicated backups passed`),
    `resistro check --read-data: ${before.stdout.trim().split('\n').at(-1)}`,
  );
  const put = async (key: string, body: Buffer) => {
    const r = await aws.fetch(objectUrl(key), { method: 'PUT', body: new Uint8Array(body) });
    if (r.status !== 200) throw new Error(`PUT ${key}: ${r.status}`);
  };
  const del = await aws.fetch(objectUrl(gone.object_key), { method: 'DELETE' });
  if (del.status !== 204) throw new Error(`DELETE ${gone.object_key}: ${del.status}`);
  const bad = Buffer.from(saved.get(flipped.object_key)!);
  bad[Number(flipped.offset) + 30]! ^= 0x01;
  await put(flipped.object_key, bad);
  log(
    `deleted pack ${gone.object_key}; flipped a byte of chunk ${flipped.chunk_id.slice(0, 12)}… in ${flipped.object_key}`,
  );
  let refusals = '';
  try {
    const check = await checkAll();
    const failedLines = check.stdout.split('\n').filter((l) => l.startsWith('FAILED'));
    const damaged = failedLines.filter((l) => named(l) === flipped.chunk_id.slice(0, 12));
    expectThat(
      check.code === 1 && failedLines.some((l) => l.includes(last)),
      `resistro check --read-data finds the deleted pack: ${check.stdout.trim().split('\n').at(-1)}; e.g. ${failedLines.find((l) => l.includes(last))?.slice(0, 240)}`,
    );
    // The backups whose first bad chunk is the flipped one name it; the others stop at the pack.
    const refuse = async (what: string, want: (msg: string) => boolean) => {
      const target = `refused_${++restoreDb}`;
      await customer.createDatabase(target);
      const r = await runCli(restoreArgs({ backup: last }, customer, target), pgEnv);
      const failure = r.events.find((e) => e.event === 'command.failed');
      const tables = await customer.admin(
        "select count(*)::int as n from pg_tables where schemaname not in ('pg_catalog', 'information_schema')",
        target,
      );
      const ok =
        r.code === 1 &&
        failure?.code === 'chunk_corrupt' &&
        want(String(failure.msg)) &&
        tables.rows[0].n === 0;
      expectThat(ok, `restore --backup of day ${days} refused (${what}), nothing restored: ${failure?.msg}`);
      refusals += `${failure?.msg}\n`;
    };
    // Whichever comes first in the backup's order: a chunk of the deleted pack, or the flipped one.
    const isFlipped = (m: string) => named(m) === flipped.chunk_id.slice(0, 12) && /is damaged/.test(m);
    const isGone = (m: string) =>
      /is missing/.test(m) && goneChunks.some((c) => c.chunk_id.startsWith(named(m) ?? '-'));
    await refuse('the deleted pack or the flipped chunk', (m) => isGone(m) || isFlipped(m));
    await put(gone.object_key, saved.get(gone.object_key)!);
    await refuse('the flipped chunk', isFlipped);
    const check2 = await checkAll();
    const damaged2 = check2.stdout.split('\n').filter((l) => named(l) === flipped.chunk_id.slice(0, 12));
    expectThat(
      check2.code === 1 && damaged2.length + damaged.length > 0,
      `resistro check --read-data finds the flipped chunk: ${check2.stdout.trim().split('\n').at(-1)}; e.g. ${damaged2[0]?.slice(0, 220)}`,
    );
  } finally {
    for (const [k, body] of saved) await put(k, body);
  }
  const after = await checkAll();
  expectThat(after.code === 0, `with both packs put back: ${after.stdout.trim().split('\n').at(-1)}`);

  // Everything but the last day deleted: packs whose every chunk only older days used go.
  await deleteDays(dropped + 1, days - 1);
  await restoreAndCompare(`day ${days}: restore --backup (the only backup left)`, days, {
    backup: byDay(days),
  });
  const only = await checkAll();
  expectThat(only.code === 0, `resistro check --read-data: ${only.stdout.trim().split('\n').at(-1)}`);

  // The grace period of retired packs (7 days) let pass: the next collection deletes them.
  const { rows: retiring } = await cp.query<{ n: string; bytes: string }>(
    `select count(*) as n, coalesce(sum(size_bytes), 0) as bytes from dedup_packs
      where account_id = $1 and retired_at is not null`,
    [accountId],
  );
  await cp.query(
    "update dedup_packs set retired_at = retired_at - interval '8 days' where account_id = $1 and retired_at is not null",
    [accountId],
  );
  const graceUsedBefore = await accountBytes();
  const graceCollected = await session.json('/dedup/collect', { method: 'POST' });
  if (graceCollected.status !== 200) throw new Error(`POST /dedup/collect: ${graceCollected.status}`);
  const graceRan = graceCollected.body as { merged: number; storageRequests: number };
  const graceUsed = await accountBytes();
  const graceStored = (await usageOf())!.storedBytes;
  const graceListed = (await listing(`accounts/${accountId}/`)).bytes;
  const { rows: graceDead } = await cp.query<{ bytes: string }>(
    `select coalesce(sum(p.size_bytes - coalesce((select sum(c.length) from dedup_chunks c where c.pack_id = p.id), 0)), 0) as bytes
       from dedup_packs p where p.account_id = $1 and p.status = 'stored' and p.retired_at is null`,
    [accountId],
  );
  const { rows: graceLeft } = await cp.query<{ n: string }>(
    'select count(*) as n from dedup_packs where account_id = $1',
    [accountId],
  );
  expectThat(
    graceUsedBefore - graceUsed === Number(retiring[0]!.bytes) && graceUsed === graceListed,
    `after the grace period: the usage fell by the ${retiring[0]!.n} retired packs (${Number(retiring[0]!.bytes)} bytes; fell by ${graceUsedBefore - graceUsed}) and equals the storage's listing (${graceListed})`,
  );
  await restoreAndCompare(`day ${days}: restore --backup (after the retired packs were deleted)`, days, {
    backup: byDay(days),
  });
  const afterGrace = await checkAll();
  expectThat(
    afterGrace.code === 0,
    `resistro check --read-data after the grace period: ${afterGrace.stdout.trim().split('\n').at(-1)}`,
  );

  // ------------------------------------------------------------------------ the table
  const f = (x: number, d = 1, w = 9) => x.toFixed(d).padStart(w);
  const out = (s: string) => process.stdout.write(s);
  out(
    `\nbench:dedup-plane — ${days} days, scale ${scale}, seed ${args.seed}: the whole local service (control plane in workerd, PostgreSQL, S3 server), one \`resistro backup\` a day per database\n\n`,
  );
  out(
    ' day   SQL MB │ whole MB  wall s   CPU s │ dedup MB  wall s   CPU s  chunks    new packs reqs │ whole so far  stored so far\n',
  );
  for (const r of rows)
    out(
      `${String(r.day).padStart(4)} ${f(r.sqlMB, 1, 8)} │ ${f(r.wholeMB, 2, 8)} ${f(r.wholeWall / 1000, 1, 7)} ${f(r.wholeCpu / 1000, 1, 7)} │ ${f(r.dedupMB, 2, 8)} ${f(r.dedupWall / 1000, 1, 7)} ${f(r.dedupCpu / 1000, 1, 7)} ${String(r.chunks).padStart(7)} ${String(r.newChunks).padStart(6)} ${String(r.packs).padStart(5)} ${String(r.requests).padStart(4)} │ ${f(r.wholeSoFar / MB, 1, 9)} MB ${f(r.storedSoFar / MB, 1, 10)} MB\n`,
    );
  const later = rows.slice(1);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  out(
    `\nafter ${days} backups, as GET /dedup/usage (the database page) says: logical size of all backups ${formatBytes(usage.logicalBytes, 'en')}, stored ${formatBytes(usage.storedBytes, 'en')} (${packs.objects} packs + ${manifests.objects} manifests)` +
      (wholeDb
        ? `\nthe same ${days} days as whole files (the same database, deduplication off): ${formatBytes(wholeSoFar, 'en')} → ${(wholeSoFar / usage.storedBytes).toFixed(2)}× less stored\n`
        : '\n') +
      (shown !== undefined ? `the database page in Chromium shows: "${shown}"\n` : '') +
      `later days, mean: deduplicated backup ${(avg(later.map((r) => r.dedupWall)) / 1000).toFixed(1)} s wall, ${(avg(later.map((r) => r.dedupCpu)) / 1000).toFixed(1)} s CPU, ${avg(later.map((r) => r.dedupMB)).toFixed(2)} MB uploaded, ${avg(later.map((r) => r.requests)).toFixed(0)} requests` +
      (wholeDb
        ? `; whole file ${(avg(later.map((r) => r.wholeWall)) / 1000).toFixed(1)} s wall, ${(avg(later.map((r) => r.wholeCpu)) / 1000).toFixed(1)} s CPU, ${avg(later.map((r) => r.wholeMB)).toFixed(2)} MB\n`
        : '\n') +
      deletions
        .map(
          (d) =>
            `${d.what}: usage −${formatBytes(d.freed, 'en')} = ${d.freedPacks} packs no other backup used (${formatBytes(d.freedPackBytes, 'en')}) + manifests (${formatBytes(d.manifestBytes, 'en')})${d.rewritten ? ` − ${d.rewritten} new packs (${formatBytes(d.rewrittenBytes, 'en')}; ${d.merged} of them merges)` : ''}; ${d.requests} storage requests; the storage's listing −${formatBytes(d.listedFreed, 'en')}; stored now ${formatBytes(d.storedAfter, 'en')}, of it ${formatBytes(d.deadBytes, 'en')} in chunks no backup uses (in packs still holding live ones)\n`,
        )
        .join('') +
      `after the grace period of the ${retiring[0]!.n} retired packs (${formatBytes(Number(retiring[0]!.bytes), 'en')}): collected again (${graceRan.merged} merges, ${graceRan.storageRequests} storage requests), the database's "stored" ${formatBytes(graceStored, 'en')} (${graceStored} bytes) in ${graceLeft[0]!.n} packs + the manifest (the account's usage, with the whole files, ${formatBytes(graceUsed, 'en')} = the storage's listing), of it ${formatBytes(Number(graceDead[0]!.bytes), 'en')} in chunks no backup uses\n` +
      `\nrestores (each into an empty database, compared with that day's dump: lines in order, each table's rows as a multiset):\n`,
  );
  for (const r of restores)
    out(
      `  ${(r.wallMs / 1000).toFixed(1).padStart(6)} s  ${r.identical ? 'identical' : 'DIFFERENT'}  ${r.what}\n`,
    );
  out(`\nrefused with the chunk named:\n${refusals.trimEnd().replace(/^/gm, '  ')}\n`);
  out(
    problems.length === 0
      ? '\nall checks passed\n'
      : `\n${problems.length} checks FAILED:\n${problems.map((p) => `  ${p}`).join('\n')}\n`,
  );
} finally {
  for (const c of cleanups) await c().catch((e: Error) => log(`cleanup: ${e.message}`));
}
process.exit(problems.length === 0 ? 0 : 1);
