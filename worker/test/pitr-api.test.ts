// Continuous protection's control plane (issue 13) against the real worker, PostgreSQL and the
// signature-checking S3 server: settings bounded by the plan, the agent's side (jobs, batched
// presigned PUTs, registration checked against storage, base backups, status), the window and
// restore plans, a gap from a segment never uploaded and from one deleted in storage (found by
// the cron before anyone needs it), alerts, metrics and the window's retention.
import { createHash, randomBytes } from 'node:crypto';
import type { PitrSegmentInput } from '@resistro/contract';
import { AwsClient } from 'aws4fetch';
import { beforeAll, describe, expect, it } from 'vitest';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import { accountWithDatabase, runCron, sql, stackInfo, uploadBackup } from '../../scripts/test/api.ts';

const MB16 = 16 * 1024 * 1024;
const TL = '00000001';
type Acct = Awaited<ReturnType<typeof accountWithDatabase>>;
let a: Acct;
const t0 = Date.now() - 3600_000;
const at = (minutes: number) => new Date(t0 + minutes * 60_000).toISOString();

const walName = (n: number) => `${TL}00000000${n.toString(16).toUpperCase().padStart(8, '0')}`;
const lsn = (offset: number) =>
  `${Math.floor(offset / 2 ** 32)
    .toString(16)
    .toUpperCase()}/${(offset % 2 ** 32).toString(16).toUpperCase()}`;

/** A fake encrypted segment n: random bytes with their checksum. */
function segment(n: number, extra: Partial<PitrSegmentInput> = {}) {
  const bytes = randomBytes(1000 + n);
  const input: PitrSegmentInput = {
    stream: TL,
    name: walName(n),
    startPosition: lsn(n * MB16),
    endPosition: lsn((n + 1) * MB16),
    startOffset: n * MB16,
    endOffset: (n + 1) * MB16,
    sizeBytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    partial: false,
    closedAt: at(n),
    ...extra,
  };
  return { bytes, input };
}

/** The agent's side: URLs for the batch, PUT each with the headers it names, register. */
async function upload(client: Acct['client'], databaseId: string, segs: ReturnType<typeof segment>[]) {
  const { urls } = await client.pitrUploadUrls(
    databaseId,
    segs.map((s) => s.input),
  );
  expect(urls.map((u) => u.name)).toEqual(segs.map((s) => s.input.name));
  await Promise.all(
    urls.map(async (u, i) => {
      const res = await fetch(u.url, { method: 'PUT', body: segs[i]!.bytes, headers: u.headers });
      expect(res.status, await res.text()).toBe(200);
    }),
  );
  return client.registerPitrSegments(
    databaseId,
    segs.map((s) => s.input),
  );
}

beforeAll(async () => {
  a = await accountWithDatabase();
});

describe('continuous protection', () => {
  it('is off until turned on; the window is bounded by the plan', async () => {
    const off = await a.session.json(`/databases/${a.database.id}/pitr`);
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({
      state: 'off',
      settings: { enabled: false, rpoSeconds: 300, baseBackupEveryDays: 7 },
    });
    // the agent may not upload for a server that is not protected
    await expect(a.client.pitrUploadUrls(a.database.id, [segment(1).input])).rejects.toMatchObject({
      code: 'conflict',
    });
    const tooLong = await a.session.json(`/databases/${a.database.id}/pitr`, {
      method: 'PUT',
      json: { enabled: true, windowDays: 400 },
    });
    expect(tooLong.status).toBe(402);
    expect(tooLong.body.error.fields).toHaveProperty('windowDays');
    const on = await a.session.json(`/databases/${a.database.id}/pitr`, {
      method: 'PUT',
      json: { enabled: true, rpoSeconds: 60, windowDays: 7 },
    });
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    expect(on.body).toMatchObject({
      state: 'starting',
      settings: { enabled: true, rpoSeconds: 60 },
      window: null,
    });
    const jobs = await a.client.agentPitr(a.agent.id);
    expect(jobs.items).toEqual([
      {
        databaseId: a.database.id,
        engine: 'postgres',
        method: 'stream',
        rpoSeconds: 60,
        baseBackupDue: true,
        baseBackupReason: 'first',
      },
    ]);
  });

  it('registers a base backup and segments; the window and restore plans follow', async () => {
    const { backup } = await uploadBackup(a.client, a.database.id, randomBytes(3000), { startedAt: at(2) });
    const base = await a.client.registerBaseBackup(a.database.id, {
      backupId: backup.id,
      stream: TL,
      startPosition: lsn(2 * MB16 + 40),
      endPosition: lsn(2 * MB16 + 4096),
      startOffset: 2 * MB16 + 40,
      endOffset: 2 * MB16 + 4096,
      firstSegment: walName(2),
      consistentAt: at(2),
    });
    expect(base).toMatchObject({ backupId: backup.id, firstSegment: walName(2), sizeBytes: 3000 });
    expect((await a.client.agentPitr(a.agent.id)).items[0]).toMatchObject({ baseBackupDue: false });

    const segs = [2, 3, 4, 5].map((n) => segment(n));
    expect(await upload(a.client, a.database.id, segs)).toEqual({ registered: 4 });
    // the same upload again is fine; other content under a complete segment's name is not
    expect(await a.client.registerPitrSegments(a.database.id, [segs[0]!.input])).toEqual({ registered: 0 });
    await a.client.reportPitrStatus(a.database.id, {
      lagSeconds: 2,
      serverPosition: lsn(6 * MB16),
      serverOffset: 6 * MB16,
      segmentSizeBytes: MB16,
      slot: { name: 'resistro', active: true, retainedBytes: 1000 },
    });
    // a plain dump inside the window: on the timeline as a dump, not as a base backup
    const dump = await uploadBackup(a.client, a.database.id, randomBytes(500), { startedAt: at(3) });
    const status = (await a.session.json(`/databases/${a.database.id}/pitr`)).body;
    expect(status.dumps).toEqual([{ backupId: dump.backup.id, startedAt: at(3), sizeBytes: 500 }]);
    expect(status.ranges).toEqual([{ start: at(2), end: at(5) }]);
    expect(status).toMatchObject({
      state: 'ok',
      window: { start: at(2), end: at(5) },
      segmentCount: 4,
      gaps: [],
      slot: { name: 'resistro', active: true },
      baseBackups: [{ backupId: backup.id }],
    });
    expect(status.lagSeconds).toBeGreaterThanOrEqual(2);

    const plan = await a.client.pitrRestorePlan(a.database.id, { time: at(3.5) });
    expect(plan.baseBackup.backupId).toBe(backup.id);
    expect(plan.segments.map((s) => s.name)).toEqual([walName(2), walName(3), walName(4)]);
    // the URLs download exactly the uploaded bytes
    const got = new Uint8Array(await (await fetch(plan.segments[1]!.url)).arrayBuffer());
    expect(Buffer.from(got).equals(segs[1]!.bytes)).toBe(true);
    const latest = await a.client.pitrRestorePlan(a.database.id, { latest: 'true' });
    expect(latest.target).toMatchObject({ kind: 'latest', offset: 6 * MB16 });
    const one = await a.client.pitrSegment(a.database.id, walName(3));
    expect(one.segment.sha256).toBe(segs[1]!.input.sha256);
    await expect(a.client.pitrRestorePlan(a.database.id, { time: at(1) })).rejects.toMatchObject({
      code: 'conflict',
    });
    await expect(a.client.pitrSegment(a.database.id, walName(9))).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('refuses to register a segment storage does not hold with the size given', async () => {
    const s = segment(6);
    await expect(a.client.registerPitrSegments(a.database.id, [s.input])).rejects.toMatchObject({
      code: 'conflict',
    });
    const { urls } = await a.client.pitrUploadUrls(a.database.id, [s.input]);
    // a body other than the one whose checksum was signed is refused by storage itself
    const wrong = await fetch(urls[0]!.url, {
      method: 'PUT',
      body: randomBytes(s.bytes.length),
      headers: urls[0]!.headers,
    });
    expect(wrong.ok).toBe(false);
    await expect(
      a.client.registerPitrSegments(a.database.id, [{ ...s.input, sizeBytes: s.input.sizeBytes + 1 }]),
    ).rejects.toMatchObject({ code: 'conflict' });
  });

  it('reports a gap, asks for a base backup at once, alerts, and refuses a restore across it by name', async () => {
    await upload(a.client, a.database.id, [segment(7), segment(8)]);
    const status = (await a.session.json(`/databases/${a.database.id}/pitr`)).body;
    expect(status.state).toBe('gap');
    // segments 7 and 8 follow the hole with no base backup after it: nothing past segment 5 is reachable
    expect(status.ranges).toEqual([{ start: at(2), end: at(5) }]);
    expect(status.gaps).toEqual([
      expect.objectContaining({ after: walName(5), before: walName(7), missing: [walName(6)] }),
    ]);
    expect((await a.client.agentPitr(a.agent.id)).items[0]).toMatchObject({
      baseBackupDue: true,
      baseBackupReason: 'gap',
    });
    const across = await a.session.json(
      `/databases/${a.database.id}/pitr/restore-plan?time=${encodeURIComponent(at(7.5))}`,
    );
    expect(across.status).toBe(409);
    expect(across.body.error.message).toContain(walName(6));
    // before the gap still works
    expect((await a.client.pitrRestorePlan(a.database.id, { time: at(4.5) })).segments).toHaveLength(4);

    await runCron(new Date());
    const alerts = (await a.session.json(`/alerts?subjectId=${a.database.id}`)).body.items;
    const gap = alerts.find((x: { kind: string }) => x.kind === 'pitr_gap');
    expect(gap?.detail).toContain(walName(6));
    expect(gap?.severity).toBe('critical');

    // the missing segment arrives late: the gap closes and the alert resolves
    await upload(a.client, a.database.id, [segment(6)]);
    expect((await a.session.json(`/databases/${a.database.id}/pitr`)).body.gaps).toEqual([]);
    await runCron(new Date());
    const after = (await a.session.json(`/alerts?subjectId=${a.database.id}&status=open`)).body.items;
    expect(after.map((x: { kind: string }) => x.kind)).not.toContain('pitr_gap');
  });

  it('finds a segment deleted in storage before anyone needs it', async () => {
    const [row] = await sql<{ object_key: string }>(
      'select object_key from pitr_segments where database_id = $1 and name = $2',
      [a.database.id, walName(4)],
    );
    // delete it behind the service's back, as a bucket lifecycle rule or a person would
    const s3 = new AwsClient({
      accessKeyId: S3_ACCESS_KEY_ID,
      secretAccessKey: S3_SECRET_ACCESS_KEY,
      service: 's3',
      region: 'us-east-1',
    });
    const del = await s3.fetch(`${stackInfo().s3Url}/${stackInfo().bucket}/${row!.object_key}`, {
      method: 'DELETE',
    });
    expect(del.status).toBe(204);
    // The hourly check made due for this database only, not by running the shared stack's cron
    // two hours ahead (which would give up other test files' running restores as silent).
    await sql('update pitr_settings set checked_at = null where database_id = $1', [a.database.id]);
    await runCron(new Date());
    const status = (await a.session.json(`/databases/${a.database.id}/pitr`)).body;
    expect(status.gaps.map((g: { missing: string[] }) => g.missing)).toEqual([[walName(4)]]);
    const across = await a.session.json(`/databases/${a.database.id}/pitr/restore-plan?latest=true`);
    expect(across.status).toBe(409);
    expect(across.body.error.message).toContain(walName(4));
  });

  it('shows lag, base backup age and the window to Prometheus', async () => {
    const token = (await a.session.json('/metrics-token', { method: 'POST' })).body.secret;
    const res = await fetch(`${stackInfo().url}/api/v1/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const text = await res.text();
    expect(text).toMatch(
      new RegExp(`resistro_wal_archive_lag_seconds\\{[^}]*database_id="${a.database.id}"[^}]*\\} \\d+`),
    );
    expect(text).toContain('resistro_pitr_base_backup_age_seconds{');
    expect(text).toContain('resistro_pitr_window_start_timestamp_seconds{');
    expect(text).toContain('resistro_pitr_window_end_timestamp_seconds{');
  });

  it('keeps what the window needs and deletes older base backups and segments', async () => {
    const b = await accountWithDatabase();
    await b.session.json(`/databases/${b.database.id}/pitr`, {
      method: 'PUT',
      json: { enabled: true, windowDays: 1 },
    });
    const day = 86400_000;
    const old = Date.now() - 3 * day;
    const backups: string[] = [];
    for (const [i, segno] of [
      [0, 2],
      [1, 5],
    ] as const) {
      const started = new Date(old + i * day).toISOString();
      const { backup } = await uploadBackup(b.client, b.database.id, randomBytes(1000), {
        startedAt: started,
      });
      await b.client.registerBaseBackup(b.database.id, {
        backupId: backup.id,
        stream: TL,
        startPosition: lsn(segno * MB16),
        endPosition: lsn(segno * MB16 + 100),
        startOffset: segno * MB16,
        endOffset: segno * MB16 + 100,
        consistentAt: started,
      });
      backups.push(backup.id);
    }
    const segs = [2, 3, 4, 5, 6].map((n) =>
      segment(n, { closedAt: new Date(old + (n - 2) * day * 0.5).toISOString() }),
    );
    await upload(b.client, b.database.id, segs);
    // The hourly check made due for this database only, not by running the shared stack's cron
    // two hours ahead (which would give up other test files' running restores as silent).
    await sql('update pitr_settings set checked_at = null where database_id = $1', [b.database.id]);
    await runCron(new Date());
    const status = (await b.session.json(`/databases/${b.database.id}/pitr`)).body;
    // the second base backup is older than the window start but is the newest usable chain: kept
    expect(status.baseBackups.map((x: { backupId: string }) => x.backupId)).toEqual([backups[1]]);
    const left = await sql<{ name: string }>(
      'select name from pitr_segments where database_id = $1 order by name',
      [b.database.id],
    );
    expect(left.map((r) => r.name)).toEqual([walName(5), walName(6)]);
    const gone = await sql('select id from backups where id = $1', [backups[0]]);
    expect(gone).toEqual([]);
  });
});
