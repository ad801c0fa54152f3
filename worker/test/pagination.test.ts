// Lists that grow with an account come a page at a time (`limit` + `cursor`, `items` +
// `nextCursor`): API keys, members, agents, payments and the export manifest. Walking the pages
// yields every row exactly once, also rows written in the same millisecond (the cursor's
// precision), and the API client puts the pages together for the views that need all of them.
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  accountWithDatabase,
  createKey,
  keyClient,
  type Session,
  signup,
  sql,
  uploadBackup,
} from '../../scripts/test/api.ts';

/** Every item of a paged list, `limit` at a time; fails (never hangs) past `maxPages`. */
async function walk(s: Session, path: string, limit: number, maxPages = 50) {
  const pages: Array<{ items: Array<{ id?: string; backupId?: string }>; [k: string]: unknown }> = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const r: { status: number; body: any } = await s.json(
      `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.items.length).toBeLessThanOrEqual(limit);
    pages.push(r.body);
    cursor = r.body.nextCursor;
    if (pages.length > maxPages) throw new Error(`${path}: more than ${maxPages} pages`);
  } while (cursor);
  const ids = pages.flatMap((p) => p.items.map((i) => i.id ?? i.backupId));
  return { pages, ids };
}

/** The same millisecond for every row: only the id tells them apart on a page boundary. */
const SAME_MS = '2026-06-01T10:00:00.123Z';

describe('paged lists', () => {
  it('API keys: newest first, every key once across pages, the default page holds all of a few', async () => {
    const { session, account } = await signup();
    for (let i = 0; i < 4; i++) await createKey(session, 'read', `key ${i}`);
    await sql('update api_keys set created_at = $1 where account_id = $2 and name in ($3, $4, $5)', [
      SAME_MS,
      account.id,
      'key 0',
      'key 1',
      'key 2',
    ]);
    const all = (await session.json('/api-keys')).body;
    expect(all.items).toHaveLength(4);
    expect(all.nextCursor).toBeNull();
    const { ids, pages } = await walk(session, '/api-keys', 1);
    expect(pages).toHaveLength(4);
    expect(ids).toEqual(all.items.map((k: { id: string }) => k.id));
    expect(new Set(ids).size).toBe(4);
    expect(pages[pages.length - 1]!.nextCursor).toBeNull();
  });

  it('members: oldest first (the owner leads), invitations with the first page only', async () => {
    const { session, account, user } = await signup();
    for (let i = 0; i < 4; i++)
      await sql(
        `insert into users (account_id, email, password_hash, role, created_at) values ($1, $2, 'x', 'viewer', $3)`,
        [account.id, `m${i}-${randomUUID()}@example.test`, SAME_MS],
      );
    const invited = await session.json('/invitations', {
      method: 'POST',
      json: { email: `inv-${randomUUID()}@example.test`, role: 'viewer' },
    });
    expect(invited.status).toBe(201);
    const { ids, pages } = await walk(session, '/members', 2);
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5);
    // the test's rows are dated before the sign-up: they lead, by id within their millisecond
    expect(ids[4]).toBe(user.id);
    expect(ids.slice(0, 4)).toEqual([...ids.slice(0, 4)].sort());
    expect(pages[0]!.invitations).toEqual([expect.objectContaining({ id: invited.body.invitation.id })]);
    for (const p of pages.slice(1)) expect(p.invitations).toEqual([]);
    // the dashboard's client walks the pages and keeps the invitations of the first
    const client = keyClient(await createKey(session, 'full'));
    const team = await client.allMembers();
    expect(team.items.map((m) => m.id)).toEqual(
      (await session.json('/members')).body.items.map((m: { id: string }) => m.id),
    );
    expect(team.invitations).toHaveLength(1);
  });

  it('invitations, which come unpaged, are capped at 100 open ones', async () => {
    const { session, account } = await signup();
    await sql(
      `insert into invitations (account_id, email, role, token_hash, expires_at)
       select $1, 'cap-' || g || '-' || $2 || '@example.test', 'viewer', md5($2 || g), now() + interval '1 day'
       from generate_series(1, 100) g`,
      [account.id, randomUUID()],
    );
    const refused = await session.json('/invitations', {
      method: 'POST',
      json: { email: `one-more-${randomUUID()}@example.test`, role: 'viewer' },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('conflict');
    // an expired one frees its place
    await sql(
      "update invitations set expires_at = now() - interval '1 minute' where id = (select id from invitations where account_id = $1 limit 1)",
      [account.id],
    );
    const taken = await session.json('/invitations', {
      method: 'POST',
      json: { email: `one-more-${randomUUID()}@example.test`, role: 'viewer' },
    });
    expect(taken.status, JSON.stringify(taken.body)).toBe(201);
  });

  it('agents: newest registered first, by registration however heartbeats move', async () => {
    const { session, account } = await signup();
    for (let i = 0; i < 3; i++)
      await sql(
        `insert into agents (account_id, hostname, os, version, tools, public_key, created_at, last_seen_at)
         values ($1, $2, 'linux', '0.1.0', '[]', $3, $4, now() - ($5 || ' minutes')::interval)`,
        [account.id, `db${i}.example.test`, randomBytes(32).toString('base64'), SAME_MS, String(i)],
      );
    const first = await walk(session, '/agents', 1);
    expect(first.ids).toHaveLength(3);
    expect(first.ids).toEqual([...first.ids].sort().reverse());
    // a heartbeat in between changes nothing about the order
    await sql('update agents set last_seen_at = now() where id = $1', [first.ids[2]]);
    expect((await walk(session, '/agents', 2)).ids).toEqual(first.ids);
    const client = keyClient(await createKey(session, 'full'));
    expect((await client.allAgents()).map((a) => a.id)).toEqual(first.ids);
  });

  it('payments: newest first, Paddle ids in the cursor, nothing dropped (once capped at 100)', async () => {
    const { session, account } = await signup();
    const txn = () => `txn_${randomBytes(12).toString('hex')}`;
    const at = (i: number) => new Date(Date.parse(SAME_MS) - (i % 2) * 1000).toISOString();
    for (let i = 0; i < 5; i++)
      await sql(
        `insert into billing_transactions (id, account_id, status, total, currency, occurred_at, created_at)
         values ($1, $2, 'completed', '1900', 'EUR', $3, $3)`,
        [txn(), account.id, at(i)],
      );
    const { ids } = await walk(session, '/billing/transactions', 2);
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5);
    expect(ids).toEqual(
      (await session.json('/billing/transactions')).body.items.map((t: { id: string }) => t.id),
    );
  });

  it('export manifest: links a page at a time, the totals of the whole export on each, one audit entry', async () => {
    const a = await accountWithDatabase();
    const sizes = [100, 200, 300];
    for (const n of sizes) await uploadBackup(a.client, a.database.id, randomBytes(n));
    const { pages, ids } = await walk(a.session, '/export/manifest', 2);
    expect(pages).toHaveLength(2);
    expect(new Set(ids).size).toBe(3);
    for (const p of pages) expect(p).toMatchObject({ backups: 3, totalBytes: 600 });
    const audit = await sql(
      "select count(*)::int as n from audit_log where account_id = $1 and action = 'account.exported'",
      [a.account.id],
    );
    expect(audit[0].n).toBe(1);
    // `resistro export` and the dashboard's file get the whole manifest in one object
    const whole = await keyClient(await createKey(a.session, 'full')).exportManifest();
    expect(whole.items.map((i) => i.backupId).sort()).toEqual([...ids].sort());
    expect(whole).toMatchObject({ backups: 3, totalBytes: 600, nextCursor: null });
  });
});
