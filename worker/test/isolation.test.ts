// Tenant isolation: a second account probes every resource of the first, by session and by a
// full-scope API key, and gets 404 for all of it; lists never show it; nothing is changed.
import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import {
  accountWithDatabase,
  createKey,
  keyClient,
  signup,
  sql,
  stackInfo,
  uploadBackup,
} from '../../scripts/test/api.ts';
import { encodeCursor } from '../src/lib/cursor.ts';

type Victim = Awaited<ReturnType<typeof accountWithDatabase>> & {
  backupId: string;
  invitationId: string;
  runningId: string;
  apiKeyId: string;
  fullKey: string;
  restoreId: string;
  restoreTestId: string;
  transactionId: string;
  packId: string;
};
let victim: Victim;

beforeAll(async () => {
  const a = await accountWithDatabase();
  const { backup } = await uploadBackup(a.client, a.database.id, randomBytes(2048));
  const running = await a.client.startBackup({ databaseId: a.database.id, trigger: 'manual' });
  const fullKey = await createKey(a.session, 'full');
  const pack = await a.client.dedupPack(running.backup.id, {
    sizeBytes: 64,
    checksum: createHash('sha256').update(randomBytes(64)).digest('base64'),
  });
  const keys = (await a.session.json('/api-keys')).body.items;
  await a.session.json(`/databases/${a.database.id}/backup-now`, { method: 'POST' });
  const restore = await a.session.json('/restores', {
    method: 'POST',
    json: { backupId: backup.id, target: { kind: 'new', database: 'shop_restored' } },
  });
  const restoreTest = await a.session.json('/restore-tests', {
    method: 'POST',
    json: { databaseId: a.database.id },
  });
  const [payment] = (await a.session.json('/billing/transactions')).body.items;
  const pitr = await a.session.json(`/databases/${a.database.id}/pitr`, {
    method: 'PUT',
    json: { enabled: true },
  });
  if (pitr.status !== 200) throw new Error(`pitr: ${pitr.status} ${JSON.stringify(pitr.body)}`);
  const invitation = await a.session.json('/invitations', {
    method: 'POST',
    json: { email: `isolated-${Date.now()}@example.test`, role: 'viewer' },
  });
  // a second storage location (issue 18) with a copy waiting for the agent's transfer
  const stack = inject('stack');
  const location = await a.session.json('/storage-location', {
    method: 'PUT',
    json: {
      endpoint: stack.s3CopyUrl,
      region: 'us-east-1',
      bucket: stack.copyBucket,
      accessKeyId: S3_ACCESS_KEY_ID,
      secretAccessKey: S3_SECRET_ACCESS_KEY,
      copies: 'all',
    },
  });
  if (location.status !== 200) throw new Error(`storage location: ${JSON.stringify(location.body)}`);
  await sql(
    `insert into backup_copies (backup_id, account_id, status, object_key, bucket, method)
     select id, account_id, 'pending', object_key, $2, 'transfer' from backups where id = $1
     on conflict (backup_id) do nothing`,
    [backup.id, stack.copyBucket],
  );
  victim = {
    ...a,
    backupId: backup.id,
    invitationId: invitation.body.invitation.id,
    runningId: running.backup.id,
    apiKeyId: keys[0].id,
    fullKey,
    restoreId: restore.body.restore.id,
    restoreTestId: restoreTest.body.restoreTest.id,
    transactionId: payment.id,
    packId: pack.packId,
  };
});

function pitrSegment() {
  return {
    stream: '00000001',
    name: '000000010000000000000002',
    startPosition: '0/2000000',
    endPosition: '0/3000000',
    startOffset: 33554432,
    endOffset: 50331648,
    sizeBytes: 10,
    sha256: 'a'.repeat(64),
    partial: false,
    closedAt: new Date().toISOString(),
  };
}

function probes(v: Victim): Array<[string, string, unknown?]> {
  // the shape of a sealed value (version 1, ephemeral key, nonce, tag), so only ownership decides
  const sealed = Buffer.from([1, ...randomBytes(80)]).toString('base64url');
  return [
    ['GET', `/databases/${v.database.id}`],
    ['PATCH', `/databases/${v.database.id}`, { name: 'stolen' }],
    ['POST', `/databases/${v.database.id}/pause`],
    ['POST', `/databases/${v.database.id}/resume`],
    ['POST', `/databases/${v.database.id}/backup-now`],
    ['POST', `/databases/${v.database.id}/check`],
    [
      'POST',
      `/databases/${v.database.id}/check-result`,
      { requestedAt: v.database.connectionCheck.requestedAt, items: [{ step: 'connection', ok: true }] },
    ],
    ['DELETE', `/databases/${v.database.id}`],
    ['GET', `/agents/${v.agent.id}`],
    ['DELETE', `/agents/${v.agent.id}`],
    ['DELETE', `/api-keys/${v.apiKeyId}`],
    ['PATCH', `/members/${v.user.id}`, { role: 'viewer' }],
    ['DELETE', `/members/${v.user.id}`],
    ['DELETE', `/invitations/${v.invitationId}`],
    ['GET', `/backups/${v.backupId}`],
    ['GET', `/backups/${v.backupId}/download`],
    ['DELETE', `/backups/${v.backupId}`],
    ['GET', `/billing/transactions/${v.transactionId}/invoice`],
    ['POST', `/backups/${v.runningId}/parts`, { partNumbers: [1] }],
    [
      'POST',
      `/backups/${v.runningId}/complete`,
      {
        parts: [{ partNumber: 1, etag: '"x"' }],
        sizeBytes: 1,
        sha256: 'a'.repeat(64),
        keyId: 'abcdef0123456789',
      },
    ],
    ['POST', `/backups/${v.runningId}/fail`, { error: 'sabotage' }],
    ['POST', '/backups', { databaseId: v.database.id, trigger: 'manual' }],
    ['PATCH', `/databases/${v.database.id}`, { credentials: { mode: 'sealed', sealedPassword: sealed } }],
    ['GET', `/restores/${v.restoreId}`],
    ['POST', `/restores/${v.restoreId}/cancel`],
    ['POST', `/restores/${v.restoreId}/claim`],
    ['POST', `/restores/${v.restoreId}/progress`, { phase: 'data', bytesDone: 1 }],
    ['POST', `/restores/${v.restoreId}/finish`, { state: 'failed', errorCode: 'internal' }],
    // restore tests (issue 14)
    ['GET', `/databases/${v.database.id}/restore-tests/settings`],
    [
      'PUT',
      `/databases/${v.database.id}/restore-tests/settings`,
      {
        enabled: false,
        intervalHours: 168,
        target: { kind: 'scratch' },
        timeLimitMinutes: 1,
        alertAfterDays: 1,
        checks: [],
      },
    ],
    ['GET', `/restore-tests/${v.restoreTestId}`],
    ['POST', `/restore-tests/${v.restoreTestId}/cancel`],
    ['POST', `/restore-tests/${v.restoreTestId}/start`],
    ['POST', `/restore-tests/${v.restoreTestId}/progress`, { phase: 'verify' }],
    [
      'POST',
      `/restore-tests/${v.restoreTestId}/result`,
      {
        status: 'passed',
        backupId: v.backupId,
        restoreMs: 1,
        totalMs: 1,
        tables: { checked: 0, failed: 0, failures: [] },
        checks: [],
      },
    ],
    // point-in-time recovery (issue 13)
    ['GET', `/databases/${v.database.id}/pitr`],
    ['PUT', `/databases/${v.database.id}/pitr`, { enabled: false }],
    ['GET', `/databases/${v.database.id}/pitr/segments`],
    ['GET', `/databases/${v.database.id}/pitr/restore-plan?latest=true`],
    ['GET', `/databases/${v.database.id}/pitr/segments/000000010000000000000002`],
    ['POST', `/databases/${v.database.id}/pitr/upload-urls`, { segments: [pitrSegment()] }],
    ['POST', `/databases/${v.database.id}/pitr/segments`, { segments: [pitrSegment()] }],
    [
      'POST',
      `/databases/${v.database.id}/pitr/base-backups`,
      {
        backupId: v.backupId,
        stream: '00000001',
        startPosition: '0/2000028',
        endPosition: '0/2000100',
        startOffset: 33554472,
        endOffset: 33554688,
        consistentAt: new Date().toISOString(),
      },
    ],
    ['POST', `/databases/${v.database.id}/pitr/status`, { lagSeconds: 1 }],
    // deduplicated storage (issue 17)
    ['POST', `/backups/${v.runningId}/dedup/have`, { ids: ['A'.repeat(43)] }],
    ['POST', `/backups/${v.runningId}/dedup/packs`, { sizeBytes: 64, checksum: `${'A'.repeat(43)}=` }],
    [
      'POST',
      `/backups/${v.runningId}/dedup/packs/${v.packId}/complete`,
      { etag: '"x"', chunks: [['A'.repeat(43), 0, 64]] },
    ],
    ['POST', `/backups/${v.runningId}/dedup/refs`, { start: 0, ids: ['A'.repeat(43)] }],
    ['POST', `/backups/${v.runningId}/dedup/seal`, { refs: 1, logicalBytes: 1 }],
    ['GET', `/backups/${v.backupId}/dedup/reads`],
    // retention (issue 18)
    ['GET', `/databases/${v.database.id}/retention`],
    ['GET', `/databases/${v.database.id}/audit-export`],
    ['GET', `/databases/${v.database.id}/audit-export?format=csv`],
    [
      'PUT',
      `/databases/${v.database.id}/retention`,
      { tiers: { daily: 1, weekly: 0, monthly: 0, yearly: 0 } },
    ],
    [
      'POST',
      `/databases/${v.database.id}/retention/preview`,
      { tiers: { daily: 1, weekly: 0, monthly: 0, yearly: 0 } },
    ],
    // the second storage location's copy transfer (issue 18)
    ['POST', `/backups/${v.backupId}/copy/start`],
    [
      'POST',
      `/backups/${v.backupId}/copy/parts`,
      { parts: [{ partNumber: 1, checksum: 'A'.repeat(43) + '=' }] },
    ],
    [
      'POST',
      `/backups/${v.backupId}/copy/complete`,
      { parts: [{ partNumber: 1, etag: '"x"' }], sha256: 'a'.repeat(64) },
    ],
    ['POST', `/backups/${v.backupId}/copy/fail`, { error: 'sabotage' }],
  ];
}

async function probeAll(auth: { cookie?: string; key?: string }) {
  const { url } = stackInfo();
  for (const [method, path, body] of probes(victim)) {
    const headers: Record<string, string> = { origin: url };
    if (auth.cookie) headers.cookie = auth.cookie;
    if (auth.key) headers.authorization = `Bearer ${auth.key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${url}/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    const agentOnly =
      /^\/(backups(\/[^/]+\/(parts|complete|fail|dedup\/.*|copy\/(start|parts|complete|fail)))?|databases\/[^/]+\/check-result|restores\/[^/]+\/(claim|progress|finish)|restore-tests\/[^/]+\/(start|progress|result)|databases\/[^/]+\/pitr\/(upload-urls|segments|base-backups|status))$/.test(
        path,
      ) && method === 'POST';
    if (auth.cookie && agentOnly) {
      // A browser session may not act as an agent at all: the same 403 for any id, so nothing leaks.
      expect(res.status, `${method} ${path}`).toBe(403);
      continue;
    }
    expect(res.status, `${method} ${path}`).toBe(404);
    expect(json.error.code).toBe('not_found');
  }
}

async function assertVictimIntact() {
  const v = victim;
  const db = (await v.session.json(`/databases/${v.database.id}`)).body.database;
  expect(db.name).toBe('Shop');
  expect(db.paused).toBe(false);
  // neither "test again" nor a forged check result got through
  expect(db.connectionCheck).toEqual(v.database.connectionCheck);
  const backups = (await v.session.json('/backups')).body.items.map((b: { id: string; status: string }) => [
    b.id,
    b.status,
  ]);
  expect(backups).toContainEqual([v.backupId, 'succeeded']);
  expect(backups).toContainEqual([v.runningId, 'running']);
  expect((await v.session.json('/api-keys')).body.items.map((k: { id: string }) => k.id)).toContain(
    v.apiKeyId,
  );
  expect((await v.session.json('/agents')).body.items).toHaveLength(1);
  const team = (await v.session.json('/members')).body;
  expect(team.items).toEqual([expect.objectContaining({ id: v.user.id, role: 'owner' })]);
  expect(team.invitations.map((i: { id: string }) => i.id)).toEqual([v.invitationId]);
  const dl = await v.session.json(`/backups/${v.backupId}/download`);
  expect(dl.status).toBe(200);
  const restore = (await v.session.json(`/restores/${v.restoreId}`)).body.restore;
  expect(restore).toMatchObject({ state: 'pending', cancelRequested: false, bytesDone: 0 });
  expect((await v.session.json(`/databases/${v.database.id}/retention`)).body.rule.mode).toBe('days');
  const test = (await v.session.json(`/restore-tests/${v.restoreTestId}`)).body.restoreTest;
  expect(test).toMatchObject({ state: 'pending', cancelRequested: false });
  const settings = (await v.session.json(`/databases/${v.database.id}/restore-tests/settings`)).body.settings;
  expect(settings).toMatchObject({ enabled: true, saved: false });
  const pitr = (await v.session.json(`/databases/${v.database.id}/pitr`)).body;
  expect(pitr).toMatchObject({
    settings: { enabled: true },
    segmentCount: 0,
    baseBackups: [],
    reportedAt: null,
  });
  expect((await v.session.json('/storage-location')).body.location).toMatchObject({
    bucket: inject('stack').copyBucket,
  });
  const [copy] = await sql('select status, attempts, upload_id from backup_copies where backup_id = $1', [
    v.backupId,
  ]);
  expect(copy).toEqual({ status: 'pending', attempts: 0, upload_id: null });
}

/** Cursors just after (in every list's order) the victim's key, member, agent, payment and backup. */
async function victimCursors(): Promise<string[]> {
  const v = victim;
  const rows = await sql(
    `select created_at as at, id::text from api_keys where id = $1
     union all select created_at, id::text from users where id = $2
     union all select created_at, id::text from agents where id = $3
     union all select created_at, id from billing_transactions where id = $4
     union all select started_at, id::text from backups where id = $5`,
    [v.apiKeyId, v.user.id, v.agent.id, v.transactionId, v.backupId],
  );
  // just past the row either way (newest-first lists and the oldest-first members)
  return rows.flatMap((r: { at: Date; id: string }) => [
    encodeCursor(new Date(r.at.getTime() + 1), r.id),
    encodeCursor(new Date(r.at.getTime() - 1), r.id),
  ]);
}

describe('tenant isolation', () => {
  it('answers 404 to another account’s session for every resource and changes nothing', async () => {
    const intruder = await signup({ plan: 'enterprise' });
    await probeAll({ cookie: intruder.session.cookie });
    await assertVictimIntact();
  });

  it('answers 404 to another account’s full-scope key for every resource and changes nothing', async () => {
    const intruder = await signup({ plan: 'enterprise' });
    await probeAll({ key: await createKey(intruder.session, 'full') });
    await assertVictimIntact();
  });

  it('never lists another account’s databases, agents, backups or keys', async () => {
    const intruder = await accountWithDatabase();
    await uploadBackup(intruder.client, intruder.database.id, randomBytes(100));
    const mine = (path: string) => intruder.session.json(path).then((r) => JSON.stringify(r.body));
    for (const path of [
      '/databases',
      '/agents',
      '/backups',
      `/backups?databaseId=${victim.database.id}`,
      '/api-keys',
      '/account',
      '/members',
      '/audit',
      '/billing/transactions',
      '/export/manifest',
      // a cursor made from the victim's own rows positions the page; it never opens their rows
      ...(await victimCursors()).flatMap((cursor) =>
        ['/api-keys', '/agents', '/members', '/billing/transactions', '/export/manifest'].map(
          (p) => `${p}?limit=1&cursor=${encodeURIComponent(cursor)}`,
        ),
      ),
    ]) {
      const body = await mine(path);
      for (const id of [
        victim.database.id,
        victim.agent.id,
        victim.backupId,
        victim.runningId,
        victim.apiKeyId,
        victim.account.id,
        victim.user.id,
        victim.invitationId,
        victim.transactionId,
      ]) {
        expect(body, path).not.toContain(id);
      }
    }
    expect((await intruder.session.json(`/backups?databaseId=${victim.database.id}`)).body.items).toEqual([]);
    // an agent key asking for another account's agent's continuous-protection work gets none
    expect((await intruder.client.agentPitr(victim.agent.id)).items).toEqual([]);
    // the second storage location is per account: the intruder sees none and removes none
    expect((await intruder.session.json('/storage-location')).body).toEqual({ location: null });
    expect((await intruder.session.json('/storage-location', { method: 'DELETE' })).status).toBe(404);
    await assertVictimIntact();
  });

  it('will not run another account’s database on one’s own agent', async () => {
    const intruder = await accountWithDatabase();
    const r = await intruder.session.json('/databases', {
      method: 'POST',
      json: {
        name: 'x',
        engine: 'postgres',
        host: 'h',
        database: 'd',
        user: 'u',
        credentials: { mode: 'local' },
        schedule: { kind: 'daily', time: '01:00', timezone: 'UTC' },
        agentId: victim.agent.id,
      },
    });
    expect(r.status).toBe(422);
    expect(r.body.error.fields.agentId).toBeDefined();
    // The same public key registered by another account is another agent.
    const hb = await intruder.client.heartbeat({
      hostname: 'x',
      os: 'linux',
      version: '1',
      tools: [],
      publicKey: victim.pair.publicKey,
    });
    expect(hb.agent.id).not.toBe(victim.agent.id);
    expect(hb.databases).toEqual([]);
    expect(hb.backupRequests).toEqual([]);
  });

  it('never restores another account’s backup, into its databases, or lists its restores', async () => {
    const intruder = await accountWithDatabase();
    const ask = (json: unknown) => intruder.session.json('/restores', { method: 'POST', json });
    let r = await ask({ backupId: victim.backupId, target: { kind: 'new', database: 'stolen' } });
    expect(r.status).toBe(422);
    expect(r.body.error.fields.backupId).toBeDefined();
    r = await ask({ databaseId: victim.database.id, target: { kind: 'new', database: 'stolen' } });
    expect(r.status).toBe(422);
    expect(r.body.error.fields.databaseId).toBeDefined();
    const { backup } = await uploadBackup(intruder.client, intruder.database.id, randomBytes(100));
    r = await ask({ backupId: backup.id, target: { kind: 'database', databaseId: victim.database.id } });
    expect(r.status).toBe(422);
    expect(r.body.error.fields['target.databaseId']).toBeDefined();
    for (const path of [
      '/restores',
      `/restores?databaseId=${victim.database.id}`,
      `/agent/restores?agentId=${victim.agent.id}`,
    ]) {
      const res = path.startsWith('/agent')
        ? await keyClient(intruder.agentKey).agentRestores(victim.agent.id)
        : (await intruder.session.json(path)).body;
      expect(JSON.stringify(res), path).not.toContain(victim.restoreId);
    }
    const hb = await intruder.client.heartbeat({
      hostname: 'x',
      os: 'linux',
      version: '1',
      tools: [],
      publicKey: victim.pair.publicKey,
    });
    expect(hb.restoreRequests).toEqual([]);
  });

  it('never tests another account’s database or backup, nor lists its restore tests', async () => {
    const intruder = await accountWithDatabase();
    const ask = (json: unknown) => intruder.session.json('/restore-tests', { method: 'POST', json });
    let r = await ask({ databaseId: victim.database.id });
    expect(r.status).toBe(422);
    expect(r.body.error.fields.databaseId).toBeDefined();
    r = await ask({ databaseId: intruder.database.id, backupId: victim.backupId });
    expect(r.status).toBe(422);
    expect(r.body.error.fields.backupId).toBeDefined();
    // another account's database as the scratch server
    r = await intruder.session.json(`/databases/${intruder.database.id}/restore-tests/settings`, {
      method: 'PUT',
      json: {
        enabled: true,
        intervalHours: 168,
        target: { kind: 'database', databaseId: victim.database.id },
        timeLimitMinutes: 60,
        alertAfterDays: 14,
        checks: [],
      },
    });
    expect(r.status).toBe(422);
    expect(r.body.error.fields['target.databaseId']).toBe('no such database');
    for (const path of [
      '/restore-tests',
      `/restore-tests?databaseId=${victim.database.id}`,
      '/restore-tests/latest',
      `/reports/monthly?month=${new Date().toISOString().slice(0, 7)}`,
    ]) {
      const body = JSON.stringify((await intruder.session.json(path)).body);
      expect(body, path).not.toContain(victim.restoreTestId);
      expect(body, path).not.toContain(victim.database.id);
    }
    const hb = await intruder.client.heartbeat({
      hostname: 'x',
      os: 'linux',
      version: '1',
      tools: [],
      publicKey: victim.pair.publicKey,
    });
    expect(hb.restoreTestRequests).toEqual([]);
  });

  it('keeps the objects of each account under its own prefix', async () => {
    const dl = await victim.session.json(`/backups/${victim.backupId}/download`);
    expect(new URL(dl.body.url).pathname).toContain(`/accounts/${victim.account.id}/`);
  });
});
