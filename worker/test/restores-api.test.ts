// The restore jobs' API (issue 20) against the real worker: asking for a restore into a new
// database, another one or over the original (typed name + password), the agent's side (heartbeat,
// poll, claim, progress, finish), cancelling, who may do it, and the history per database.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  accountWithDatabase,
  createKey,
  keyClient,
  runCron,
  sql,
  uploadBackup,
} from '../../scripts/test/api.ts';
import { addMember, PASSWORD } from './team-fixtures.ts';

type Acct = Awaited<ReturnType<typeof accountWithDatabase>> & { backupId: string };
let a: Acct;

beforeAll(async () => {
  const acct = await accountWithDatabase();
  const { backup } = await uploadBackup(acct.client, acct.database.id, randomBytes(4096));
  a = { ...acct, backupId: backup.id };
});

const post = (path: string, json?: unknown) =>
  a.session.json(path, { method: 'POST', ...(json !== undefined && { json }) });

describe('restores', () => {
  it('queues a restore of the newest good backup into a new database; the agent runs it to the end', async () => {
    const r = await post('/restores', {
      databaseId: a.database.id,
      target: { kind: 'new', database: 'shop_restored_2026_12_02' },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const restore = r.body.restore;
    expect(restore).toMatchObject({
      backupId: a.backupId,
      databaseId: a.database.id,
      state: 'pending',
      agentId: a.agent.id,
      requestedBy: a.email,
      target: {
        kind: 'new',
        database: 'shop_restored_2026_12_02',
        host: '127.0.0.1',
        port: 5432,
        replace: false,
      },
    });

    // the agent hears of it at its heartbeat and through its poll
    const hb = await a.client.heartbeat({
      hostname: 'db1.example.test',
      os: 'linux',
      version: '0.1.0',
      tools: [],
      publicKey: a.pair.publicKey,
    });
    const job = hb.restoreRequests.find((j) => j.id === restore.id);
    expect(job).toMatchObject({
      backupId: a.backupId,
      connectionDatabaseId: a.database.id,
      database: 'shop_restored_2026_12_02',
      create: true,
      replace: false,
      sizeBytes: 4096,
    });
    expect((await a.client.agentRestores(a.agent.id)).items.map((j) => j.id)).toContain(restore.id);

    const claimed = await a.client.claimRestore(restore.id);
    expect(claimed.restore.state).toBe('running');
    // a second claim (another agent process) is refused
    await expect(a.client.claimRestore(restore.id)).rejects.toMatchObject({ code: 'conflict' });
    expect((await a.client.agentRestores(a.agent.id)).items.map((j) => j.id)).not.toContain(restore.id);

    expect(
      await a.client.reportRestoreProgress(restore.id, { phase: 'data', bytesDone: 2048, bytesTotal: 4096 }),
    ).toEqual({ cancelRequested: false });
    const mid = (await a.session.json(`/restores/${restore.id}`)).body.restore;
    expect(mid).toMatchObject({ state: 'running', phase: 'data', bytesDone: 2048, bytesTotal: 4096 });

    const done = await a.client.finishRestore(restore.id, {
      state: 'succeeded',
      durationMs: 1234,
      bytesDone: 4096,
    });
    expect(done.restore).toMatchObject({ state: 'succeeded', durationMs: 1234, errorCode: null });
    await expect(
      a.client.finishRestore(restore.id, { state: 'failed', errorCode: 'internal' }),
    ).rejects.toMatchObject({ code: 'conflict' });

    const history = (await a.session.json(`/restores?databaseId=${a.database.id}`)).body.items;
    expect(history[0]).toMatchObject({ id: restore.id, state: 'succeeded', durationMs: 1234 });
  });

  it('replaces the original only with its name typed and, from a browser, the password again', async () => {
    const target = (confirm: string) => ({ kind: 'original', confirm });
    let r = await post('/restores', { backupId: a.backupId, target: target('Shop') });
    expect(r.status).toBe(422);
    expect(r.body.error.fields['target.confirm']).toBe('does not match the database name');
    r = await post('/restores', { backupId: a.backupId, target: target('shop') });
    expect(r.status).toBe(422);
    expect(r.body.error.fields.password).toBeDefined();
    r = await post('/restores', {
      backupId: a.backupId,
      target: target('shop'),
      password: 'wrong password!',
    });
    expect(r.status).toBe(422);
    expect(r.body.error.fields.password).toBe('is wrong');
    expect((await a.session.json(`/restores?databaseId=${a.database.id}`)).body.items).toHaveLength(1);

    r = await post('/restores', { backupId: a.backupId, target: target('shop'), password: a.password });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect(r.body.restore.target).toMatchObject({ kind: 'original', database: 'shop', replace: true });
    const hb = await a.client.heartbeat({
      hostname: 'db1.example.test',
      os: 'linux',
      version: '0.1.0',
      tools: [],
      publicKey: a.pair.publicKey,
    });
    expect(hb.restoreRequests.find((j) => j.id === r.body.restore.id)).toMatchObject({
      database: 'shop',
      create: false,
      replace: true,
    });
    // a second restore into the same database while this one waits is refused
    const again = await post('/restores', {
      backupId: a.backupId,
      target: target('shop'),
      password: a.password,
    });
    expect(again.status).toBe(409);

    // cancelled before the agent took it: over at once, and the agent can no longer take it
    const cancelled = await post(`/restores/${r.body.restore.id}/cancel`);
    expect(cancelled.body.restore).toMatchObject({ state: 'cancelled', cancelRequested: true });
    await expect(a.client.claimRestore(r.body.restore.id)).rejects.toMatchObject({ code: 'conflict' });
    expect((await post(`/restores/${r.body.restore.id}/cancel`)).status).toBe(409);
  });

  it('stops a running restore through the answer to its next progress report', async () => {
    const r = await post('/restores', {
      backupId: a.backupId,
      target: { kind: 'new', database: 'shop_cancel' },
    });
    expect(r.status).toBe(202);
    const id = r.body.restore.id;
    await a.client.claimRestore(id);
    const cancelled = await post(`/restores/${id}/cancel`);
    expect(cancelled.body.restore).toMatchObject({ state: 'running', cancelRequested: true });
    expect(await a.client.reportRestoreProgress(id, { phase: 'download', bytesDone: 10 })).toEqual({
      cancelRequested: true,
    });
    // a failure needs its code; a cancel does not
    await expect(a.client.finishRestore(id, { state: 'failed' })).rejects.toMatchObject({
      code: 'validation_failed',
    });
    const done = await a.client.finishRestore(id, { state: 'cancelled' });
    expect(done.restore).toMatchObject({ state: 'cancelled', errorCode: null });
    expect(done.restore.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('restores into another empty database of the same agent and kind, and no other', async () => {
    const created = await post('/databases', {
      name: 'Shop copy',
      engine: 'postgres',
      host: '127.0.0.2',
      database: 'shop_copy',
      user: 'backup',
      credentials: { mode: 'local' },
      schedule: { kind: 'daily', time: '03:00', timezone: 'UTC' },
      agentId: a.agent.id,
    });
    expect(created.status).toBe(201);
    const copyId = created.body.database.id;
    const r = await post('/restores', {
      backupId: a.backupId,
      target: { kind: 'database', databaseId: copyId },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect(r.body.restore.target).toMatchObject({
      kind: 'database',
      databaseId: copyId,
      host: '127.0.0.2',
      database: 'shop_copy',
      replace: false,
    });
    await post(`/restores/${r.body.restore.id}/cancel`);

    const self = await post('/restores', {
      backupId: a.backupId,
      target: { kind: 'database', databaseId: a.database.id },
    });
    expect(self.status).toBe(422);
    expect(self.body.error.fields['target.databaseId']).toBe('is the original database');

    const maria = await post('/databases', {
      name: 'Maria',
      engine: 'mariadb',
      host: '127.0.0.1',
      database: 'maria',
      user: 'backup',
      credentials: { mode: 'local' },
      schedule: { kind: 'daily', time: '03:00', timezone: 'UTC' },
      agentId: a.agent.id,
    });
    const kind = await post('/restores', {
      backupId: a.backupId,
      target: { kind: 'database', databaseId: maria.body.database.id },
    });
    expect(kind.status).toBe(422);
    expect(kind.body.error.fields['target.databaseId']).toBe('is another kind of server');
  });

  it('refuses a backup that did not succeed, a database without one, and its own name as a new one', async () => {
    const running = await a.client.startBackup({ databaseId: a.database.id, trigger: 'manual' });
    let r = await post('/restores', { backupId: running.backup.id, target: { kind: 'new', database: 'x' } });
    expect(r.status).toBe(409);
    await a.client.failBackup(running.backup.id, { error: 'stopped' });

    const empty = await post('/databases', {
      name: 'Empty',
      engine: 'postgres',
      host: '127.0.0.3',
      database: 'empty',
      user: 'backup',
      credentials: { mode: 'local' },
      schedule: { kind: 'daily', time: '03:00', timezone: 'UTC' },
      agentId: a.agent.id,
    });
    r = await post('/restores', {
      databaseId: empty.body.database.id,
      target: { kind: 'new', database: 'x' },
    });
    expect(r.status).toBe(409);

    r = await post('/restores', { backupId: a.backupId, target: { kind: 'new', database: 'shop' } });
    expect(r.status).toBe(422);
    expect(r.body.error.fields['target.database']).toBeDefined();
    r = await post('/restores', { backupId: a.backupId, target: { kind: 'new', database: 'shop; DROP' } });
    expect(r.status).toBe(422);
    r = await post('/restores', {
      backupId: a.backupId,
      databaseId: a.database.id,
      target: { kind: 'new', database: 'x' },
    });
    expect(r.status).toBe(422);
  });

  it('lets neither a read-scoped nor an agent key start or cancel one; a full key scripts it', async () => {
    const body = { backupId: a.backupId, target: { kind: 'new' as const, database: 'shop_by_script' } };
    for (const scope of ['read', 'agent'] as const) {
      const client = keyClient(await createKey(a.session, scope));
      await expect(client.createRestore(body)).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    }
    const reader = keyClient(await createKey(a.session, 'read'));
    const { items } = await reader.listRestores({ databaseId: a.database.id });
    expect(items.length).toBeGreaterThan(0);
    await expect(reader.cancelRestore(items[0]!.id)).rejects.toMatchObject({ status: 403 });

    const script = keyClient(await createKey(a.session, 'full', 'restore script'));
    const { restore } = await script.createRestore(body);
    expect(restore).toMatchObject({ state: 'pending', requestedBy: 'API key restore script' });
    // a full key replaces the original with the typed name alone: the key is the script's credential
    const replaced = await script.createRestore({
      backupId: a.backupId,
      target: { kind: 'original', confirm: 'shop' },
    });
    expect(replaced.restore.target.replace).toBe(true);
    await script.cancelRestore(replaced.restore.id);
    await script.cancelRestore(restore.id);
    const rows = await sql('select requested_by_api_key_id from restores where id = $1', [restore.id]);
    expect(rows[0].requested_by_api_key_id).not.toBeNull();

    // a full-scope key whose role is viewer may look but not restore (roles, issue 16)
    const viewerKey = await createKey(a.session, 'full', 'viewer key');
    await sql("update api_keys set role = 'viewer' where prefix = $1", [
      viewerKey.slice(0, 'rsk_'.length + 8),
    ]);
    const viewer = keyClient(viewerKey);
    expect((await viewer.listRestores({ databaseId: a.database.id })).items.length).toBeGreaterThan(0);
    await expect(viewer.createRestore(body)).rejects.toMatchObject({ status: 403, code: 'forbidden' });
  });

  it('writes who asked, which backup, where to, the result and the duration to the audit log', async () => {
    const r = await post('/restores', {
      backupId: a.backupId,
      target: { kind: 'new', database: 'shop_audit' },
    });
    const id = r.body.restore.id;
    await a.client.claimRestore(id);
    await a.client.finishRestore(id, {
      state: 'failed',
      errorCode: 'disk_full',
      error: 'no space',
      durationMs: 77,
    });
    const entries = await sql(
      'select action, actor_kind, actor_label, details from audit_log where object_id = $1 order by at',
      [id],
    );
    expect(entries.map((e) => [e.action, e.actor_kind])).toEqual([
      ['restore.started', 'user'],
      ['restore.finished', 'agent'],
    ]);
    expect(entries[0].actor_label).toBe(a.email);
    expect(entries[1].details).toMatchObject({
      backupId: a.backupId,
      target: 'new 127.0.0.1:5432/shop_audit',
      requestedBy: a.email,
      state: 'failed',
      durationMs: 77,
      errorCode: 'disk_full',
    });
    const c = await post('/restores', {
      backupId: a.backupId,
      target: { kind: 'new', database: 'shop_audit2' },
    });
    await post(`/restores/${c.body.restore.id}/cancel`);
    const cancelled = await sql('select action from audit_log where object_id = $1 order by at', [
      c.body.restore.id,
    ]);
    expect(cancelled.map((e) => e.action)).toEqual(['restore.started', 'restore.cancelled']);
  });

  it('lets a viewer member see the history but not restore; an operator restores with their own password', async () => {
    const viewer = await addMember(a.session, 'viewer');
    expect((await viewer.session.json(`/restores?databaseId=${a.database.id}`)).status).toBe(200);
    const refused = await viewer.session.json('/restores', {
      method: 'POST',
      json: { backupId: a.backupId, target: { kind: 'new', database: 'shop_by_viewer' } },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');

    const operator = await addMember(a.session, 'operator');
    const replace = { backupId: a.backupId, target: { kind: 'original', confirm: 'shop' } };
    const wrong = await operator.session.json('/restores', {
      method: 'POST',
      json: { ...replace, password: 'not the operator password' },
    });
    expect(wrong.status).toBe(422);
    const ok = await operator.session.json('/restores', {
      method: 'POST',
      json: { ...replace, password: PASSWORD },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(202);
    expect(ok.body.restore.requestedBy).toBe(operator.email);
    const cancel = await viewer.session.json(`/restores/${ok.body.restore.id}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(403);
    expect(
      (await operator.session.json(`/restores/${ok.body.restore.id}/cancel`, { method: 'POST' })).status,
    ).toBe(200);
  });

  it('gives up a running restore whose agent went silent, and refuses the agent’s late report', async () => {
    const r = await post('/restores', {
      backupId: a.backupId,
      target: { kind: 'new', database: 'shop_silent' },
    });
    const id = r.body.restore.id;
    await a.client.claimRestore(id);
    await a.client.reportRestoreProgress(id, { phase: 'data', bytesDone: 100 });
    await runCron();
    expect((await a.session.json(`/restores/${id}`)).body.restore.state).toBe('running');
    // Silence is made here, not by running the shared stack's cron 11 minutes ahead: that would
    // give up every other test file's running restores and restore tests too.
    await sql("update restores set progress_at = now() - interval '11 minutes' where id = $1", [id]);
    await runCron(new Date());
    const failed = (await a.session.json(`/restores/${id}`)).body.restore;
    expect(failed).toMatchObject({ state: 'failed', errorCode: 'agent_stopped' });
    await expect(a.client.reportRestoreProgress(id, { phase: 'data', bytesDone: 200 })).rejects.toMatchObject(
      {
        code: 'conflict',
      },
    );
  });
});
