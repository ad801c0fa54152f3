// Helpers for integration tests that talk to the local stack over HTTP, as real clients do.
import { createApiClient } from '@resistro/contract';
import pg from 'pg';
import { inject } from 'vitest';

let override: { url: string; databaseUrl: string; paddleUrl: string } | undefined;

/** The local stack this test file talks to (the shared one unless a file started its own). */
export function stackInfo() {
  const shared = inject('stack');
  return override ? { ...shared, ...override } : shared;
}

/** Points stackInfo() (and so every helper) at another control plane; returns the undo. */
export function useControlPlane(cp: { url: string; databaseUrl: string; paddleUrl: string }): () => void {
  override = cp;
  return () => {
    override = undefined;
  };
}

let counter = 0;
export function uniqueEmail(tag = 'user'): string {
  return `${tag}-${process.pid}-${Date.now()}-${++counter}@example.test`;
}

/** A browser-like session: keeps the cookie and sends our Origin. */
export class Session {
  cookie = '';
  readonly url: string;
  constructor(url = stackInfo().url) {
    this.url = url;
  }
  async fetch(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has('origin')) headers.set('origin', this.url);
    if (this.cookie) headers.set('cookie', this.cookie);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(init.json);
    }
    const res = await fetch(`${this.url}/api/v1${path}`, { ...init, headers, body, redirect: 'manual' });
    const set = res.headers.get('set-cookie');
    if (set) {
      const pair = set.split(';')[0] ?? '';
      this.cookie = pair.endsWith('=') ? '' : pair;
    }
    return res;
  }
  async json<T = any>(
    path: string,
    init: RequestInit & { json?: unknown } = {},
  ): Promise<{ status: number; body: T }> {
    const res = await this.fetch(path, init);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }
}

/**
 * A new account, logged in. Its address counts as verified (as if the link from the sign-up
 * e-mail was opened) unless `verified: false`: alerts go only to verified addresses.
 */
export async function signup(
  opts: { plan?: string; email?: string; password?: string; verified?: boolean } = {},
) {
  const s = new Session();
  const email = opts.email ?? uniqueEmail();
  const password = opts.password ?? 'correct horse battery staple';
  const r = await s.json('/auth/signup', {
    method: 'POST',
    json: { email, password, ...(opts.plan && { plan: opts.plan }) },
  });
  if (r.status !== 201) throw new Error(`signup failed: ${r.status} ${JSON.stringify(r.body)}`);
  // A plan is paid for through the Paddle stand-in, as a user pays at sign-up.
  if (opts.plan) await subscribe(s, opts.plan);
  if (opts.verified !== false) {
    await sql('update users set email_verified_at = now() where id = $1', [r.body.user.id]);
    await sql('update accounts set verified_alert_emails = alert_emails where id = $1', [r.body.account.id]);
  }
  const account =
    opts.plan || opts.verified !== false ? (await s.json('/account')).body.account : r.body.account;
  return { session: s, email, password, user: r.body.user, account };
}

/**
 * Pays a checkout for `plan` on the Paddle stand-in (as the overlay's "Pay now" does); the stand-in
 * answers once the worker took its webhooks, so the plan is active when this returns.
 * A `card` of DECLINED_CARD fails the payment.
 */
export async function subscribe(s: Session, plan: string, card?: string): Promise<{ transactionId: string }> {
  const r = await s.json('/billing/checkout', { method: 'POST', json: { plan } });
  if (r.status !== 201) throw new Error(`checkout failed: ${r.status} ${JSON.stringify(r.body)}`);
  const pay = await paddleControl(`/checkout/${r.body.transactionId}`, card ? { card } : {});
  if (!pay.ok && !card) throw new Error('the stand-in declined the payment');
  return { transactionId: r.body.transactionId };
}

/**
 * The paid period ends now (Paddle's side, through the stand-in): a subscription cancelled with
 * DELETE /account is then canceled and the account read-only. No-op for an account without one.
 */
export async function endPaidPeriod(s: Session): Promise<void> {
  const { account } = (await s.json('/account')).body;
  const [row] = await sql('select subscription_id from billing_subscriptions where account_id = $1', [
    account.id,
  ]);
  if (row?.subscription_id)
    await paddleControl(`/subscriptions/${row.subscription_id}/renew`, { outcome: 'paid' });
}

/** A /__control call on the Paddle stand-in (the period end, a failed payment, a recovery). */
export async function paddleControl(path: string, body: unknown = {}): Promise<any> {
  const r = await fetch(`${stackInfo().paddleUrl}/__control${path}`, {
    method: path === '/events' ? 'GET' : 'POST',
    ...(path === '/events' ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`paddle stand-in ${path}: ${r.status} ${text}`);
  return JSON.parse(text).data;
}

export async function createKey(
  s: Session,
  scope: 'agent' | 'read' | 'full',
  name = `${scope} key`,
): Promise<string> {
  const r = await s.json('/api-keys', { method: 'POST', json: { name, scope } });
  if (r.status !== 201) throw new Error(`key creation failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.secret;
}

export function keyClient(apiKey: string) {
  return createApiClient({ endpoint: `${stackInfo().url}/api`, apiKey });
}

/** Raw SQL on the control plane's database, e.g. to move time for a test. */
export async function sql<T extends pg.QueryResultRow = any>(
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: stackInfo().databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Run the worker's cron handler as if the trigger fired at `at`, and wait until it finished.
 * Miniflare's trigger route passes `time` on as controller.scheduledTime and answers (500 if a
 * job threw) after the handler's waitUntil work; wrangler's /__scheduled does neither.
 */
export async function runCron(at: Date = new Date()): Promise<void> {
  const { url } = stackInfo();
  const r = await fetch(
    `${url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent('* * * * *')}&time=${at.getTime()}`,
  );
  if (!r.ok) throw new Error(`cron failed: ${r.status} ${await r.text()}`);
}

/** Runs the agent's side of a backup with real presigned multipart PUTs; returns the backup. */
/**
 * Uploads `bytes` as the parts of a started backup as the agent does: each part with the checksum
 * its upload plan asks for, sent when asking for the part's URL and with the part. Returns the
 * parts for completeBackup.
 */
export async function putParts(
  client: ReturnType<typeof keyClient>,
  backupId: string,
  upload: { partSize: number; checksum?: 'sha256' | 'md5' | undefined },
  bytes: Uint8Array<ArrayBuffer>,
) {
  const { createHash } = await import('node:crypto');
  const count = Math.max(1, Math.ceil(bytes.length / upload.partSize));
  const out: { partNumber: number; etag: string; checksum?: string }[] = [];
  for (let n = 1; n <= count; n++) {
    const chunk = bytes.subarray((n - 1) * upload.partSize, n * upload.partSize);
    const checksum = upload.checksum ? createHash(upload.checksum).update(chunk).digest('base64') : undefined;
    const { parts } = await client.partUrls(backupId, checksum ? [{ partNumber: n, checksum }] : [n]);
    const headers: Record<string, string> = {};
    if (checksum) headers[upload.checksum === 'sha256' ? 'x-amz-checksum-sha256' : 'content-md5'] = checksum;
    const res = await fetch(parts[0]!.url, { method: 'PUT', body: chunk, headers });
    if (!res.ok) throw new Error(`part ${n} PUT failed: ${res.status} ${await res.text()}`);
    out.push({ partNumber: n, etag: res.headers.get('etag') ?? '', ...(checksum && { checksum }) });
  }
  return out;
}

export async function uploadBackup(
  client: ReturnType<typeof keyClient>,
  databaseId: string,
  bytes: Uint8Array<ArrayBuffer>,
  opts: {
    trigger?: 'schedule' | 'manual' | 'retry';
    requestId?: string;
    agentId?: string;
    startedAt?: string;
  } = {},
) {
  const { backup, upload } = await client.startBackup({
    databaseId,
    trigger: opts.trigger ?? 'manual',
    ...(opts.requestId && { requestId: opts.requestId }),
    ...(opts.agentId && { agentId: opts.agentId }),
    ...(opts.startedAt && { startedAt: opts.startedAt }),
  });
  const etags = await putParts(client, backup.id, upload, bytes);
  const { createHash } = await import('node:crypto');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const done = await client.completeBackup(backup.id, {
    parts: etags,
    sizeBytes: bytes.length,
    sha256,
    keyId: 'a1b2c3d4e5f60718',
  });
  return { backup: done.backup, partSize: upload.partSize, sha256 };
}

/** An account with a registered agent and one database, ready for backups. */
export async function accountWithDatabase(opts: { plan?: string } = {}) {
  const { generateAgentKeyPair, sealToAgent } = await import('@resistro/contract');
  const acct = await signup({ plan: opts.plan ?? 'business' });
  const agentKey = await createKey(acct.session, 'agent');
  const client = keyClient(agentKey);
  const pair = await generateAgentKeyPair();
  const hb = await client.heartbeat({
    hostname: 'db1.example.test',
    os: 'linux',
    version: '0.1.0',
    tools: [],
    publicKey: pair.publicKey,
  });
  const created = await acct.session.json('/databases', {
    method: 'POST',
    json: {
      name: 'Shop',
      engine: 'postgres',
      host: '127.0.0.1',
      database: 'shop',
      user: 'backup',
      credentials: { mode: 'sealed', sealedPassword: await sealToAgent(pair.publicKey, 's3cret-pässword') },
      schedule: { kind: 'daily', time: '02:00', timezone: 'Europe/Berlin' },
      agentId: hb.agent.id,
    },
  });
  if (created.status !== 201)
    throw new Error(`database creation failed: ${created.status} ${JSON.stringify(created.body)}`);
  return { ...acct, agentKey, client, pair, agent: hb.agent, database: created.body.database };
}

/** The e-mails the local sink received for `to`, oldest first. */
export async function mailsTo(to: string): Promise<Array<{ subject: string; text: string }>> {
  const res = await fetch(`${stackInfo().sinkUrl}/messages?kind=email&to=${encodeURIComponent(to)}`);
  const { items } = (await res.json()) as { items: Array<{ email?: { subject: string; text: string } }> };
  return items.flatMap((m) => (m.email ? [m.email] : []));
}

/**
 * Waits until the sink holds `count` e-mails to `to` whose subject contains `subject` (the
 * worker sends account e-mails after answering), and returns the newest.
 */
export async function waitForMail(
  to: string,
  subject: string,
  count = 1,
): Promise<{ subject: string; text: string; token: string | undefined; link: string | undefined }> {
  for (let i = 0; i < 200; i++) {
    const found = (await mailsTo(to)).filter((m) => m.subject.includes(subject));
    if (found.length >= count) {
      const mail = found[found.length - 1]!;
      const link = mail.text.match(/https?:\/\/\S+#token=[A-Za-z0-9_-]+/)?.[0];
      return { ...mail, link, token: link?.split('#token=')[1] };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no e-mail "${subject}" to ${to} arrived`);
}
