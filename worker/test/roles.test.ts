// Every route × every role, generated from the route table (contract/src/routes.ts) as the
// isolation and malformed suites are: each member (owner, admin, operator, viewer, a viewer granted
// downloads) by session, and full-scope API keys of each role, calls every route. What the table
// allows must get past the role check; what it does not must be a 403 naming the role. A new
// route is covered by its table entry alone. The table's own policy for the routes that matter
// most is pinned separately, so a wrong `role` in the table cannot pass unnoticed.
import { ROUTES, type Role, type RouteSpec, roleAllows } from '@resistro/contract';
import { beforeAll, describe, expect, it } from 'vitest';
import { accountWithDatabase, createKey, stackInfo } from '../../scripts/test/api.ts';
import { addMember } from './team-fixtures.ts';

type Caller = { name: string; role: Role; canDownload: boolean; cookie?: string; key?: string };
let callers: Caller[] = [];
const CLIENT_IP = `198.51.100.${(process.pid % 250) + 1}`;

beforeAll(async () => {
  const a = await accountWithDatabase({ plan: 'enterprise' });
  const admin = await addMember(a.session, 'admin');
  const operator = await addMember(a.session, 'operator');
  const viewer = await addMember(a.session, 'viewer');
  const granted = await addMember(a.session, 'viewer', { canDownload: true, tag: 'granted' });
  callers = [
    { name: 'viewer', role: 'viewer', canDownload: false, cookie: viewer.session.cookie },
    { name: 'viewer+download', role: 'viewer', canDownload: true, cookie: granted.session.cookie },
    { name: 'operator', role: 'operator', canDownload: true, cookie: operator.session.cookie },
    { name: 'admin', role: 'admin', canDownload: true, cookie: admin.session.cookie },
    { name: 'read key', role: 'viewer', canDownload: true, key: await createKey(a.session, 'read') },
    {
      name: 'operator key',
      role: 'operator',
      canDownload: true,
      key: await createKey(operator.session, 'full'),
    },
    { name: 'admin key', role: 'admin', canDownload: true, key: await createKey(admin.session, 'full') },
    { name: 'owner key', role: 'owner', canDownload: true, key: await createKey(a.session, 'full') },
    // the owner's session last: its DELETE /account (the last route) closes the account
    { name: 'owner', role: 'owner', canDownload: true, cookie: a.session.cookie },
  ];
});

async function call(route: RouteSpec, who: Caller) {
  const { url } = stackInfo();
  // an id of nothing: an allowed caller gets past the role check to a 404, never changing anything
  const path = route.path.replace(/\{\w+\}/g, crypto.randomUUID());
  const headers: Record<string, string> = { origin: url, 'cf-connecting-ip': CLIENT_IP };
  if (who.cookie) headers.cookie = who.cookie;
  if (who.key) headers.authorization = `Bearer ${who.key}`;
  // an empty body: a route that takes one refuses it (422) after the role check
  if (route.body) headers['content-type'] = 'application/json';
  const res = await fetch(`${url}/api/v1${path}`, {
    method: route.method.toUpperCase(),
    headers,
    body: route.body ? '{}' : undefined,
  });
  const text = await res.text();
  const error = res.status >= 400 ? JSON.parse(text).error : undefined;
  return { status: res.status, error, text };
}

const isRoleRefusal = (r: Awaited<ReturnType<typeof call>>) =>
  r.status === 403 && r.error?.code === 'forbidden' && /^Your role \(/.test(r.error.message);

// DELETE /account nearly last: it closes the account for everything after it. Last of all
// "log out everywhere", which ends the caller's own sessions (allowed on a closed account too).
const lastRank = (r: RouteSpec) =>
  r.path === '/auth/sessions/revoke-all' ? 2 : r.path === '/account' && r.method === 'delete' ? 1 : 0;
const checked = ROUTES.filter((r) => r.access !== 'public').sort((a, b) => lastRank(a) - lastRank(b));

describe('every route × every role', () => {
  it('covers every route of the table that is not public', () => {
    expect(checked.length).toBeGreaterThan(40);
  });

  it.each(checked.map((r) => [`${r.method.toUpperCase()} ${r.path}`, r] as const))(
    '%s: allowed exactly for the roles the table names',
    async (_name, route) => {
      const misses: string[] = [];
      for (const who of callers) {
        const r = await call(route, who);
        if (r.status >= 500) misses.push(`${who.name}: ${r.status} ${r.text.slice(0, 200)}`);
        if (route.access === 'agent') {
          // agent routes take agent keys only: any member's session or full/read key… a session never
          if (who.cookie && r.status !== 403)
            misses.push(`${who.name}: ${r.status}, a session acting as an agent`);
          continue;
        }
        const allowed = roleAllows(route, who);
        if (allowed && isRoleRefusal(r)) misses.push(`${who.name}: refused (${r.error.message})`);
        const refused =
          isRoleRefusal(r) ||
          /may not download backups|API key's scope \(read\)/.test(r.error?.message ?? '');
        if (!allowed && !(r.status === 403 && refused))
          misses.push(`${who.name}: ${r.status}, expected the role's 403 (${r.text.slice(0, 120)})`);
      }
      expect(misses).toEqual([]);
    },
  );
});

describe('the route table’s roles', () => {
  const find = (method: string, path: string) => {
    const r = ROUTES.find((x) => x.method === method && x.path === path);
    if (!r) throw new Error(`no route ${method} ${path}`);
    return r;
  };
  const who = (role: Role, canDownload = false) => ({ role, canDownload });
  const lowest = (route: RouteSpec, canDownload = false) =>
    (['viewer', 'operator', 'admin', 'owner'] as const).find((role) =>
      roleAllows(route, who(role, canDownload)),
    );

  it('gives billing, cancellation and deletion to owners only', () => {
    expect(lowest(find('delete', '/account'))).toBe('owner');
    expect(lowest(find('post', '/account/deletion'))).toBe('owner');
  });

  it('gives members, invitations, the audit log and account settings to admins', () => {
    for (const [m, p] of [
      ['patch', '/members/{id}'],
      ['delete', '/members/{id}'],
      ['post', '/invitations'],
      ['delete', '/invitations/{id}'],
      ['get', '/audit'],
      ['get', '/audit/export'],
      ['patch', '/account'],
      ['post', '/metrics-token'],
    ] as const)
      expect(lowest(find(m, p)), `${m} ${p}`).toBe('admin');
  });

  it('lets operators run databases and backups, and viewers only read', () => {
    for (const [m, p] of [
      ['post', '/databases'],
      ['delete', '/databases/{id}'],
      ['post', '/databases/{id}/pause'],
      ['post', '/databases/{id}/backup-now'],
      ['delete', '/backups/{id}'],
      ['post', '/channels'],
    ] as const)
      expect(lowest(find(m, p)), `${m} ${p}`).toBe('operator');
    for (const [m, p] of [
      ['get', '/databases'],
      ['get', '/backups'],
      ['get', '/members'],
      ['get', '/alerts'],
    ] as const)
      expect(lowest(find(m, p)), `${m} ${p}`).toBe('viewer');
  });

  it('lets a viewer download a backup only when granted', () => {
    const dl = find('get', '/backups/{id}/download');
    expect(lowest(dl)).toBe('operator');
    expect(lowest(dl, true)).toBe('viewer');
  });
});
