// Fixtures for the cron, alert, retention and metrics tests: accounts with an agent and
// databases, real backups (presigned multipart PUTs into the signature-checking S3 server), bulk
// rows for volume, the cron under the test's clock, the sink's messages and S3 lookups.
import { createHash } from 'node:crypto';
import { generateAgentKeyPair, type Schedule } from '@resistro/contract';
import { AwsClient } from 'aws4fetch';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import type { SinkMessage } from '../../scripts/stack/sink.ts';
import { createKey, keyClient, putParts, signup, sql, stackInfo } from '../../scripts/test/api.ts';

export type Client = ReturnType<typeof keyClient>;

/**
 * Runs the worker's scheduled handler with `controller.scheduledTime = at` and waits until every
 * job finished. Miniflare's /cdn-cgi/local/scheduled passes `time` through; wrangler's
 * /__scheduled ignores it (and answers before the jobs end), so it cannot control the clock.
 */
export async function runCronAt(at: Date = new Date()): Promise<void> {
  const r = await fetch(
    `${stackInfo().url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent('* * * * *')}&time=${at.getTime()}`,
  );
  if (!r.ok) throw new Error(`cron run at ${at.toISOString()} failed: ${r.status} ${await r.text()}`);
}

export const minutesFrom = (base: Date, minutes: number) => new Date(base.getTime() + minutes * 60_000);
export const daysAgo = (days: number, from = new Date()) => new Date(from.getTime() - days * 86400_000);

const DAILY: Schedule = { kind: 'daily', time: '02:00', timezone: 'UTC' };

export async function newAccount(
  opts: { plan?: string; databases?: number; schedule?: Schedule; retentionDays?: number } = {},
) {
  const acct = await signup({ plan: opts.plan ?? 'business' });
  const agentKey = await createKey(acct.session, 'agent');
  const client = keyClient(agentKey);
  const pair = await generateAgentKeyPair();
  const hostname = `host-${crypto.randomUUID().slice(0, 8)}.example.test`;
  const hb = await client.heartbeat({
    hostname,
    os: 'linux',
    version: '0.1.0',
    tools: [],
    publicKey: pair.publicKey,
  });
  const databases: Array<{ id: string; name: string }> = [];
  for (let i = 0; i < (opts.databases ?? 1); i++) {
    const name = `db-${i}-${crypto.randomUUID().slice(0, 6)}`;
    const r = await acct.session.json('/databases', {
      method: 'POST',
      json: {
        name,
        engine: 'postgres',
        host: '127.0.0.1',
        database: name,
        user: 'backup',
        credentials: { mode: 'local' },
        schedule: opts.schedule ?? DAILY,
        agentId: hb.agent.id,
        ...(opts.retentionDays && { retentionDays: opts.retentionDays }),
      },
    });
    if (r.status !== 201) throw new Error(`database creation failed: ${r.status} ${JSON.stringify(r.body)}`);
    databases.push({ id: r.body.database.id, name });
  }
  const heartbeat = () =>
    client.heartbeat({ hostname, os: 'linux', version: '0.1.0', tools: [], publicKey: pair.publicKey });
  return {
    ...acct,
    accountId: acct.account.id as string,
    agentKey,
    client,
    agent: hb.agent,
    hostname,
    databases,
    heartbeat,
  };
}

/** The agent's side of a backup, with real part PUTs; the object then exists in S3. */
export async function uploadBackup(
  client: Client,
  databaseId: string,
  size: number,
  opts: { startedAt?: Date } = {},
) {
  const bytes = crypto.getRandomValues(new Uint8Array(size));
  const { backup, upload } = await client.startBackup({
    databaseId,
    trigger: 'schedule',
    ...(opts.startedAt && { startedAt: opts.startedAt.toISOString() }),
  });
  const etags = await putParts(client, backup.id, upload, bytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const done = await client.completeBackup(backup.id, {
    parts: etags,
    sizeBytes: size,
    sha256,
    keyId: 'a1b2c3d4e5f60718',
    durationMs: 1234,
  });
  return done.backup;
}

export async function failedBackup(
  client: Client,
  databaseId: string,
  error: string,
  opts: { startedAt?: Date } = {},
) {
  const { backup } = await client.startBackup({
    databaseId,
    trigger: 'schedule',
    ...(opts.startedAt && { startedAt: opts.startedAt.toISOString() }),
  });
  return (await client.failBackup(backup.id, { error })).backup;
}

/** Moves a backup back in time (retention and alerts look at started_at). */
export async function ageBackup(id: string, startedAt: Date): Promise<void> {
  await ageBackups([[id, startedAt]]);
}

/**
 * Moves several backups back in time in one statement: a cron run of another test file, running
 * at any moment, sees either none or all of them moved.
 */
export async function ageBackups(ages: Array<[id: string, startedAt: Date]>): Promise<void> {
  await sql(
    `update backups b set started_at = v.at, finished_at = v.at
     from unnest($1::uuid[], $2::timestamptz[]) as v(id, at) where b.id = v.id`,
    [ages.map((a) => a[0]), ages.map((a) => a[1])],
  );
}

export function objectKeyOf(accountId: string, databaseId: string, backupId: string): string {
  return `accounts/${accountId}/databases/${databaseId}/${backupId}.resistro`;
}

const s3 = () =>
  new AwsClient({
    accessKeyId: S3_ACCESS_KEY_ID,
    secretAccessKey: S3_SECRET_ACCESS_KEY,
    service: 's3',
    region: 'us-east-1',
  });

export async function objectExists(key: string): Promise<boolean> {
  const { s3Url, bucket } = stackInfo();
  const res = await s3().fetch(`${s3Url}/${bucket}/${key}`, { method: 'HEAD' });
  if (res.status !== 200 && res.status !== 404) throw new Error(`HEAD ${key}: ${res.status}`);
  return res.status === 200;
}

export async function listKeys(prefix: string): Promise<string[]> {
  const { s3Url, bucket } = stackInfo();
  // ListObjects v1: the local S3 server fails truncated v2 listings under Node 24.
  const res = await s3().fetch(`${s3Url}/${bucket}?max-keys=1000&prefix=${encodeURIComponent(prefix)}`);
  const text = await res.text();
  if (!res.ok) throw new Error(`list ${prefix}: ${res.status} ${text}`);
  return [...text.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]!);
}

/** A small object written straight into the bucket (for rows seeded by SQL). */
export async function putObject(key: string, body: Uint8Array<ArrayBuffer>): Promise<void> {
  const { s3Url, bucket } = stackInfo();
  const res = await s3().fetch(`${s3Url}/${bucket}/${key}`, { method: 'PUT', body });
  if (!res.ok) throw new Error(`PUT ${key}: ${res.status} ${await res.text()}`);
}

/** What the local sink received, filtered like GET <sink>/messages. */
export async function sinkMessages(
  filter: { kind?: SinkMessage['kind']; to?: string; path?: string } = {},
): Promise<SinkMessage[]> {
  const q = new URLSearchParams(
    Object.entries(filter).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
  const res = await fetch(`${stackInfo().sinkUrl}/messages?${q}`);
  // The sign-up's verification e-mail (identity.test.ts checks it) is not an alert: left out.
  return ((await res.json()) as { items: SinkMessage[] }).items.filter(
    (m) =>
      !/^Resistro: (please confirm your e-mail address|Bitte bestätigen Sie Ihre E-Mail-Adresse)$/.test(
        m.email?.subject ?? '',
      ),
  );
}

export async function openAlerts(accountId: string) {
  return sql<{ id: string; kind: string; subject_id: string; detail: string; opened_at: Date }>(
    'select id, kind, subject_id, detail, opened_at from alerts where account_id = $1 and resolved_at is null order by opened_at',
    [accountId],
  );
}

export async function allAlerts(accountId: string) {
  return sql<{ id: string; kind: string; subject_id: string; resolved_at: Date | null }>(
    'select id, kind, subject_id, resolved_at from alerts where account_id = $1 order by opened_at',
    [accountId],
  );
}

export async function storageUsed(accountId: string): Promise<number> {
  const [row] = await sql<{ n: string }>('select storage_used_bytes as n from accounts where id = $1', [
    accountId,
  ]);
  return Number(row?.n);
}

/** What the usage must be: the bytes of the account's successful backups. */
export async function storageExpected(accountId: string): Promise<number> {
  const [row] = await sql<{ n: string }>(
    "select coalesce(sum(size_bytes), 0) as n from backups where account_id = $1 and status = 'succeeded'",
    [accountId],
  );
  return Number(row?.n);
}
