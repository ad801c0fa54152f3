// Cancellation, deletion on request, read-only, export manifest, reminders, purge and reopening,
// against the real worker, PostgreSQL, S3 server and mail sink.
import { createHash, randomBytes } from 'node:crypto';
import { ROUTES, refusedWhenReadOnly } from '@resistro/contract';
import { describe, expect, it } from 'vitest';
import { accountWithDatabase, createKey, sql, stackInfo, uploadBackup } from '../../scripts/test/api.ts';
import { listKeys, putObject, runCronAt, sinkMessages } from './cron-fixtures.ts';

const DAY = 86400_000;
const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/** An account with a database and two real backups; cancelled when asked. */
async function account() {
  const a = await accountWithDatabase();
  const b1 = await uploadBackup(a.client, a.database.id, randomBytes(3000));
  const b2 = await uploadBackup(a.client, a.database.id, randomBytes(5000));
  return { ...a, backups: [b1, b2] };
}

/** Moves an account's closing so that it took effect `ago` ms before now (purge 30 days after that). */
async function closedSince(accountId: string, agoMs: number) {
  const effective = new Date(Date.now() - agoMs);
  await sql(
    `update account_closings set effective_at = $2, purge_at = $2::timestamptz + interval '30 days' where account_id = $1`,
    [accountId, effective],
  );
}

describe('cancelling', () => {
  it('without a subscription makes the account read-only at once; every write route of the table is refused naming the reason and the purge date', async () => {
    const a = await account();
    const full = await createKey(a.session, 'full');
    const r = await a.session.json('/account', { method: 'DELETE' });
    expect(r.status).toBe(202);
    // The stand-in Paddle's subscription runs to the end of its period: read-only from then on.
    expect(r.body.closing).toMatchObject({ reason: 'cancelled', readOnly: false });
    const [sub] = await sql('select period_end from billing_subscriptions where account_id = $1', [
      a.account.id,
    ]);
    expect(r.body.closing.effectiveAt).toBe(sub.period_end.toISOString());
    expect(new Date(r.body.closing.purgeAt).getTime() - new Date(r.body.closing.effectiveAt).getTime()).toBe(
      30 * DAY,
    );
    await closedSince(a.account.id, 60_000);
    const closing = (await a.session.json('/account')).body.account.closing;
    expect(closing.readOnly).toBe(true);
    const purgeAt = new Date(closing.purgeAt);

    const refused = ROUTES.filter(refusedWhenReadOnly);
    expect(refused.length).toBeGreaterThan(15);
    const ids: Record<string, string> = { id: a.database.id };
    for (const route of refused) {
      const path = route.path.replace(/\{\w+\}/g, (m) => ids[m.slice(1, -1)] ?? crypto.randomUUID());
      const init = { method: route.method.toUpperCase(), json: {} };
      // agent routes with the agent's key, the others as the owner in the browser and with a full key
      const callers =
        route.access === 'agent'
          ? [(p: string) => withKey(a.agentKey, init.method, p, {})]
          : [(p: string) => a.session.json(p, init), (p: string) => withKey(full, init.method, p, {})];
      for (const call of callers) {
        const res = await call(path);
        expect(res.status, `${route.method} ${route.path}`).toBe(409);
        expect(res.body.error.code, `${route.method} ${route.path}`).toBe('account_read_only');
        expect(res.body.error.message).toContain('cancelled');
        expect(res.body.error.message).toContain(isoDay(purgeAt));
      }
    }
    // Nothing changed: the database is as it was, no backup was started.
    const [d] = await sql('select name, paused, deleted_at from databases where id = $1', [a.database.id]);
    expect(d).toMatchObject({ name: 'Shop', paused: false, deleted_at: null });
    const [n] = await sql('select count(*)::int as n from backups where account_id = $1', [a.account.id]);
    expect(n.n).toBe(2);

    // Reading, downloading, a new key for the export and the agent's heartbeat go on.
    expect((await a.session.json('/databases')).status).toBe(200);
    const dl = await a.session.json(`/backups/${a.backups[0]!.backup.id}/download`);
    expect(dl.status).toBe(200);
    expect((await fetch(dl.body.url)).status).toBe(200);
    expect(
      (await a.session.json('/api-keys', { method: 'POST', json: { name: 'export', scope: 'read' } })).status,
    ).toBe(201);
    const hb = await a.client.heartbeat({
      hostname: 'db1.example.test',
      os: 'linux',
      version: '0.1.0',
      tools: [],
      publicKey: a.pair.publicKey,
    });
    expect(hb.databases).toEqual([]);
    expect(hb.backupRequests).toEqual([]);
    expect(hb.accountClosing).toMatchObject({ reason: 'cancelled', readOnly: true });
  });

  it('at the end of a paid period: nothing changes until then, read-only from then on', async () => {
    const a = await account();
    // As billing's startClosing leaves it when Paddle ends the subscription in 10 days.
    const effective = new Date(Date.now() + 10 * DAY);
    await sql(
      `insert into account_closings (account_id, reason, requested_at, effective_at, purge_at)
       values ($1, 'cancelled', now(), $2, $2::timestamptz + interval '30 days')`,
      [a.account.id, effective],
    );
    const me = await a.session.json('/account');
    expect(me.body.account.closing).toMatchObject({ readOnly: false, effectiveAt: effective.toISOString() });
    expect((await a.session.json(`/databases/${a.database.id}/pause`, { method: 'POST' })).status).toBe(200);
    expect((await a.client.heartbeat(heartbeatOf(a))).databases).toHaveLength(1);
    // Cancelling again keeps the paid period's end.
    const again = await a.session.json('/account', { method: 'DELETE' });
    expect(again.body.closing.effectiveAt).toBe(effective.toISOString());

    await closedSince(a.account.id, 60_000);
    const refused = await a.session.json(`/databases/${a.database.id}/resume`, { method: 'POST' });
    expect(refused.body.error.code).toBe('account_read_only');
    expect((await a.client.heartbeat(heartbeatOf(a))).databases).toEqual([]);
  });

  it('raises no alerts for a read-only account (its agent is quiet, its schedule no longer runs)', async () => {
    const a = await account();
    await a.session.json('/account', { method: 'DELETE' });
    await closedSince(a.account.id, 60_000);
    // The last heartbeat long ago and the schedule missed: both would alert on a live account.
    await sql(`update agents set last_seen_at = now() - interval '2 days' where account_id = $1`, [
      a.account.id,
    ]);
    await sql(
      `update databases set updated_at = now() - interval '3 days', last_backup_at = null where account_id = $1`,
      [a.account.id],
    );
    await runCronAt(new Date());
    const open = await sql('select kind from alerts where account_id = $1 and resolved_at is null', [
      a.account.id,
    ]);
    expect(open).toEqual([]);
  });
});

describe('deletion on request', () => {
  it('asks for the password again, is refused to an API key, and follows the same 30 days', async () => {
    const a = await account();
    const wrong = await a.session.json('/account/deletion', { method: 'POST', json: { password: 'not it' } });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.fields).toEqual({ password: 'is wrong' });
    const full = await createKey(a.session, 'full');
    const byKey = await withKey(full, 'POST', '/account/deletion', { password: a.password });
    expect(byKey.status).toBe(403);
    expect((await a.session.json('/account')).body.account.closing).toBeNull();

    const ok = await a.session.json('/account/deletion', { method: 'POST', json: { password: a.password } });
    expect(ok.status).toBe(202);
    expect(ok.body.closing).toMatchObject({ reason: 'deletion_requested' });
    await closedSince(a.account.id, 60_000);
    const refused = await a.session.json('/databases', { method: 'POST', json: {} });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('being deleted as requested');
  });
});

describe('the export manifest', () => {
  it('lists every successful backup with its checksum and a link valid 7 days, per account or database, while read-only', async () => {
    const a = await account();
    const other = await accountWithDatabase();
    await uploadBackup(other.client, other.database.id, randomBytes(100));
    const failed = await a.client.startBackup({ databaseId: a.database.id, trigger: 'manual' });
    await a.client.failBackup(failed.backup.id, { error: 'dump failed' });
    await a.session.json('/account', { method: 'DELETE' });

    const m = await a.session.json('/export/manifest');
    expect(m.status).toBe(200);
    expect(m.body.backups).toBe(2);
    expect(m.body.totalBytes).toBe(8000);
    expect(new Date(m.body.expiresAt).getTime() - new Date(m.body.generatedAt).getTime()).toBe(7 * DAY);
    const ids = m.body.items.map((i: { backupId: string }) => i.backupId).sort();
    expect(ids).toEqual(a.backups.map((b) => b.backup.id).sort());
    for (const item of m.body.items) {
      const res = await fetch(item.url);
      expect(res.status).toBe(200);
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(item.sha256);
      expect(bytes.length).toBe(item.sizeBytes);
      expect(new URL(item.url).searchParams.get('X-Amz-Expires')).toBe(String(7 * 86400));
      expect(item.path).toMatch(
        /^[Ss]hop-[0-9a-f]{8}\/backup-[Ss]hop-\d{4}-\d{2}-\d{2}-[0-9a-f]{8}\.resistro$/,
      );
    }
    // One database; another account's database is not found; the agent's key may export too.
    const one = await a.session.json(`/export/manifest?databaseId=${a.database.id}`);
    expect(one.body.backups).toBe(2);
    expect((await a.session.json(`/export/manifest?databaseId=${other.database.id}`)).status).toBe(404);
    expect((await a.client.request<{ backups: number }>('GET', '/export/manifest')).backups).toBe(2);
  });
});

describe('reminders and the purge', () => {
  it('e-mails 7 days and 1 day before the purge in the account language, once each', async () => {
    const a = await account();
    await a.session.json('/account', { method: 'PATCH', json: { language: 'de' } });
    await a.session.json('/account', { method: 'DELETE' });
    const now = new Date();
    // Closed 23 days and a minute ago: the purge is 7 days minus a minute away.
    await closedSince(a.account.id, 23 * DAY + 60_000);
    await runCronAt(now);
    await runCronAt(now);
    let mails = await sinkMessages({ kind: 'email', to: a.email });
    expect(mails).toHaveLength(1);
    expect(JSON.stringify(mails[0])).toContain('in 7 Tagen gelöscht');
    expect(JSON.stringify(mails[0])).toContain('resistro export --all');

    // The day before: the 1-day reminder, once.
    await closedSince(a.account.id, 29 * DAY + 60_000);
    await runCronAt(now);
    await runCronAt(now);
    mails = await sinkMessages({ kind: 'email', to: a.email });
    expect(mails).toHaveLength(2);
    expect(JSON.stringify(mails[1])).toContain('morgen gelöscht');
  });

  it('a closing late in its 30 days gets the 1-day reminder only (English account)', async () => {
    const a = await account();
    await a.session.json('/account', { method: 'DELETE' });
    await closedSince(a.account.id, 29 * DAY + 3600_000);
    await runCronAt(new Date());
    const mails = await sinkMessages({ kind: 'email', to: a.email });
    expect(mails).toHaveLength(1);
    expect(JSON.stringify(mails[0])).toContain('deleted tomorrow');
  });

  it('deletes every object and row of the account, records it, and leaves other accounts untouched', async () => {
    const a = await account();
    const b = await account();
    const stray = `accounts/${a.account.id}/leftover.bin`;
    await putObject(stray, new Uint8Array(10));
    await a.session.json('/account', { method: 'DELETE' });
    await b.session.json('/account', { method: 'DELETE' }); // closing, but not due
    await closedSince(a.account.id, 30 * DAY + 60_000);
    await runCronAt(new Date());

    expect(await listKeys(`accounts/${a.account.id}/`)).toEqual([]);
    // Every table with an account_id column, whichever feature added it.
    const tables = await sql<{ table_name: string }>(
      `select table_name from information_schema.columns
       where table_schema = 'public' and column_name = 'account_id' and table_name <> 'account_purges'`,
    );
    expect(tables.length).toBeGreaterThan(8);
    for (const { table_name } of tables) {
      const rows = await sql(`select 1 from "${table_name}" where account_id = $1`, [a.account.id]);
      expect(rows, table_name).toEqual([]);
    }
    expect(await sql('select 1 from accounts where id = $1', [a.account.id])).toEqual([]);
    const [purge] = await sql('select * from account_purges where account_id = $1', [a.account.id]);
    expect(purge).toMatchObject({ reason: 'cancelled', backups: 2, objects: 3, bytes: '8000' });
    expect(purge.finished_at).not.toBeNull();
    expect((await a.session.json('/account')).status).toBe(401);

    // The other account keeps everything.
    expect(await listKeys(`accounts/${b.account.id}/`)).toHaveLength(2);
    const [n] = await sql('select count(*)::int as n from backups where account_id = $1', [b.account.id]);
    expect(n.n).toBe(2);
    expect((await b.session.json('/account')).status).toBe(200);
  });
});

describe('reopening', () => {
  it('within the 30 days restores the account as it was; after them it is refused', async () => {
    const a = await account();
    await a.session.json('/account', { method: 'DELETE' });
    await closedSince(a.account.id, 60_000);
    expect((await a.session.json(`/databases/${a.database.id}/pause`, { method: 'POST' })).status).toBe(409);
    const r = await a.session.json('/account/reopen', { method: 'POST' });
    expect(r.status).toBe(200);
    expect(r.body.closing).toBeNull();
    expect((await a.session.json('/account')).body.account.closing).toBeNull();
    expect((await a.client.heartbeat(heartbeatOf(a))).databases).toHaveLength(1);
    expect((await a.session.json(`/databases/${a.database.id}/pause`, { method: 'POST' })).status).toBe(200);
    expect((await a.session.json('/account/reopen', { method: 'POST' })).status).toBe(409);

    await a.session.json('/account', { method: 'DELETE' });
    await sql(`update account_closings set purge_at = now() - interval '1 minute' where account_id = $1`, [
      a.account.id,
    ]);
    const late = await a.session.json('/account/reopen', { method: 'POST' });
    expect(late.status).toBe(409);
  });
});

function heartbeatOf(a: { pair: { publicKey: string } }) {
  return {
    hostname: 'db1.example.test',
    os: 'linux',
    version: '0.1.0',
    tools: [],
    publicKey: a.pair.publicKey,
  };
}

/** A request with an API key, as the agent or a script sends it. */
async function withKey(key: string, method: string, path: string, json?: unknown) {
  const res = await fetch(`${stackInfo().url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(json !== undefined && { body: JSON.stringify(json) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
