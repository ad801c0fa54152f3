// The Prometheus endpoint: scraped with a per-account token (stored hashed, rotatable), it shows
// per database the last success, size, duration and failures and per agent the last heartbeat,
// under the names the customers' alert rules use; never another account's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, sql, stackInfo } from '../../scripts/test/api.ts';
import { startIsolatedControlPlane } from '../../scripts/test/isolated.ts';
import { failedBackup, newAccount, uploadBackup } from './cron-fixtures.ts';

async function scrape(token: string | undefined) {
  const res = await fetch(`${stackInfo().url}/api/v1/metrics`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

/** Sample value of a metric line with exactly these labels (in this order). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const l = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const line = text
    .split('\n')
    .find((x) => x.startsWith(`${name}{${l}} `) || (l === '' && x.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('metrics endpoint', () => {
  // Retention runs over every account of its control plane; on the shared stack other files'
  // rows (10,000 backups of the paging test) and runs (rows held under SKIP LOCKED) come first.
  let isolated: Awaited<ReturnType<typeof startIsolatedControlPlane>>;
  beforeAll(async () => {
    isolated = await startIsolatedControlPlane('metrics');
  }, 90_000);
  afterAll(() => isolated?.stop());

  it('exposes last success, size, duration, failures and heartbeats in Prometheus text format', async () => {
    const acct = await newAccount({ databases: 2 });
    const [db1, db2] = acct.databases as [{ id: string; name: string }, { id: string; name: string }];
    await failedBackup(acct.client, db1.id, 'boom');
    const ok = await uploadBackup(acct.client, db1.id, 2048);
    await failedBackup(acct.client, db1.id, 'boom again');
    const created = await acct.session.json('/metrics-token', { method: 'POST' });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^rsm_[A-Za-z0-9_-]{43}$/);
    expect(created.body.token.prefix).toBe(created.body.secret.slice(0, 10));

    const m = await scrape(created.body.secret);
    expect(m.status).toBe(200);
    expect(m.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const l1 = { database: db1.name, database_id: db1.id, engine: 'postgres' };
    const l2 = { database: db2.name, database_id: db2.id, engine: 'postgres' };
    expect(sample(m.text, 'resistro_backup_last_success_timestamp_seconds', l1)).toBe(
      Math.floor(Date.parse(ok.startedAt) / 1000),
    );
    expect(sample(m.text, 'resistro_backup_last_success_timestamp_seconds', l2)).toBe(0);
    expect(sample(m.text, 'resistro_backup_last_size_bytes', l1)).toBe(2048);
    expect(sample(m.text, 'resistro_backup_last_size_bytes', l2)).toBeUndefined();
    expect(sample(m.text, 'resistro_backup_last_duration_seconds', l1)).toBe(1.234);
    expect(sample(m.text, 'resistro_backup_failures_total', l1)).toBe(2);
    expect(sample(m.text, 'resistro_backup_failures_total', l2)).toBe(0);
    expect(sample(m.text, 'resistro_backup_last_run_success', l1)).toBe(0);
    const agent = { agent: acct.hostname, agent_id: acct.agent.id };
    expect(sample(m.text, 'resistro_agent_last_heartbeat_timestamp_seconds', agent)).toBe(
      Math.floor(Date.parse(acct.agent.lastSeenAt) / 1000),
    );
    expect(sample(m.text, 'resistro_agent_up', agent)).toBe(1);
    expect(sample(m.text, 'resistro_storage_used_bytes', {})).toBe(2048);
    expect(sample(m.text, 'resistro_storage_quota_bytes', {})).toBe(50e9);
    expect(m.text).toContain('# TYPE resistro_backup_failures_total counter\n');
    expect(m.text).toContain('# TYPE resistro_backup_last_success_timestamp_seconds gauge\n');
  });

  it('keeps the failure counter when retention deletes old failed backups', async () => {
    const acct = await newAccount();
    const db = acct.databases[0]!;
    const token = (await acct.session.json('/metrics-token', { method: 'POST' })).body.secret;
    await failedBackup(acct.client, db.id, 'boom');
    const labels = { database: db.name, database_id: db.id, engine: 'postgres' };
    expect(sample((await scrape(token)).text, 'resistro_backup_failures_total', labels)).toBe(1);
    await sql("update backups set started_at = now() - interval '60 days' where database_id = $1", [db.id]);
    const { runCronAt } = await import('./cron-fixtures.ts');
    await runCronAt(new Date());
    expect(await sql('select id from backups where database_id = $1', [db.id])).toHaveLength(0);
    expect(sample((await scrape(token)).text, 'resistro_backup_failures_total', labels)).toBe(1);
  });

  it("shows only the scraping account's databases and agents", async () => {
    const [a, b] = await Promise.all([newAccount(), newAccount()]);
    const tokenB = (await b.session.json('/metrics-token', { method: 'POST' })).body.secret;
    const text = (await scrape(tokenB)).text;
    expect(text).toContain(b.databases[0]!.id);
    expect(text).not.toContain(a.databases[0]!.id);
    expect(text).not.toContain(a.agent.id);
  });

  it('rotates the token: the old one stops working at once', async () => {
    const acct = await newAccount();
    expect((await acct.session.json('/metrics-token')).body).toEqual({ token: null });
    const first = (await acct.session.json('/metrics-token', { method: 'POST' })).body.secret;
    const second = (await acct.session.json('/metrics-token', { method: 'POST' })).body.secret;
    expect(second).not.toBe(first);
    expect((await scrape(second)).status).toBe(200);
    const old = await scrape(first);
    expect(old.status).toBe(401);
    expect(JSON.parse(old.text).error.code).toBe('unauthorized');
    const info = await acct.session.json('/metrics-token');
    expect(info.body.token).toMatchObject({ prefix: second.slice(0, 10), lastUsedAt: expect.any(String) });
    const [stored] = await sql('select token_hash from metrics_tokens where account_id = $1', [
      acct.accountId,
    ]);
    expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.token_hash).not.toContain(second.slice(4));
    expect((await acct.session.fetch('/metrics-token', { method: 'DELETE' })).status).toBe(204);
    expect((await scrape(second)).status).toBe(401);
  });

  it('refuses scrapes without a valid metrics token, and token management without write access', async () => {
    const acct = await newAccount();
    for (const header of [
      undefined,
      'rsm_x',
      'Basic abc',
      `Bearer ${acct.agentKey}`,
      'Bearer rsm_unknownunknownunknownunknownunknownunknown',
    ]) {
      const res = await fetch(`${stackInfo().url}/api/v1/metrics`, {
        headers: header ? { authorization: header } : {},
      });
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe('unauthorized');
    }
    const readKey = await createKey(acct.session, 'read');
    for (const method of ['GET', 'POST', 'DELETE']) {
      const res = await fetch(`${stackInfo().url}/api/v1/metrics-token`, {
        method,
        headers: { authorization: `Bearer ${readKey}` },
      });
      expect(res.status).toBe(403);
      expect((await res.json()).error.code).toBe('forbidden');
    }
    const anon = await fetch(`${stackInfo().url}/api/v1/metrics-token`, { method: 'POST' });
    expect(anon.status).toBe(401);
  });
});
