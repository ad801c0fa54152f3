// Issue 13: "the agent creates and monitors the slot and warns before a stalled slot fills the
// customer's disk". A real PostgreSQL 15 cluster with a small max_slot_wal_keep_size (128 MB, the
// low threshold that keeps this test small), continuous protection on, the agent daemon streaming.
// Then the agent's replication connection breaks (pg_hba.conf loses its replication line and the
// walsender is ended) while its ordinary connection still works: pg_receivewal cannot stream, the
// slot keeps the WAL written meanwhile, and the agent's status reports show it growing. Past 80 %
// of what the server may keep, the control plane's cron raises "slot about to fill" with the
// slot's name and what to do, and Prometheus shows the retained bytes. With the connection back
// the agent streams the backlog, the slot empties and the alert resolves. And when the slot is
// dropped instead (the alert's other advice) and its WAL removed, the agent creates it again, goes on
// from the server's position, and the hole is reported as a gap with a base backup asked for.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCron, sql, stackInfo } from '../../scripts/test/api.ts';
import {
  AgentProcess,
  type CustomerPostgres,
  cleanupAgents,
  protectedPostgres,
  startCustomerPostgres,
} from './helpers.ts';

const MB = 1024 * 1024;
const KEEP = 128 * MB;
/**
 * What the test makes the slot hold, as a share of what the server lets it hold (retained plus
 * safe_wal_size, the control plane's limit): over the alert's 80 %, and one 16 MB WAL switch
 * further still below 100 % (144 MB for a 128 MB max_slot_wal_keep_size), so nothing is dropped.
 */
const HOLD_RATIO = 0.82;
const REPLICATION = 'host replication postgres 127.0.0.1/32 trust\n';

let source: CustomerPostgres;
let hba: string;
let daemon: AgentProcess | undefined;

beforeAll(async () => {
  source = await startCustomerPostgres('pitr-slot');
  hba = (await source.admin("select setting from pg_settings where name = 'hba_file'")).rows[0].setting;
  appendFileSync(hba, REPLICATION);
  await source.admin(`alter system set max_slot_wal_keep_size = '${KEEP / MB}MB'`);
  // no timed checkpoint during the test: it would remove WAL past the limit
  await source.admin("alter system set checkpoint_timeout = '1h'");
  await source.admin('select pg_reload_conf()');
  await source.admin('create database shop');
  await source.admin('create table filler (id serial primary key, note text)', 'shop');
});

afterAll(async () => {
  await daemon?.stop();
  await cleanupAgents();
  await source?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}\n${daemon?.stderr.slice(-4000)}`);
    await sleep(500);
  }
}

/** The WAL the server keeps for the slot and what it may still write, as PostgreSQL counts them. */
async function slotState(slot: string): Promise<{ held: number; safe: number; status: string }> {
  const r = await source.admin(
    `select pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint as held, safe_wal_size as safe, wal_status as status from pg_replication_slots where slot_name = '${slot}'`,
  );
  const row = r.rows[0];
  return { held: Number(row?.held ?? 0), safe: Number(row?.safe ?? 0), status: String(row?.status) };
}

describe('the replication slot of continuous protection', () => {
  it('alerts before a stalled slot fills the server, with what to do, and resolves when it streams again', async () => {
    const { tenant, setup, db } = await protectedPostgres(source.port);
    const status = () => tenant.session.json(`/databases/${db.id}/pitr`).then((r) => r.body);
    daemon = new AgentProcess(['agent', '--heartbeat-interval', '1'], setup.env);

    // streaming, its base backup done (its checkpoint is behind us), the slot reported active
    const streaming = await until('the agent to report its streaming slot', async () => {
      const st = await status();
      return st.window && st.slot?.active ? st.slot : undefined;
    });
    expect(streaming.name).toMatch(/^resistro_[0-9a-f]{24}$/);
    expect(streaming.maxRetainedBytes).toBe(KEEP);
    expect(streaming.walStatus).toBe('reserved');
    // the agent runs next to the server: it sees the WAL disk's free space
    expect(streaming.diskFreeBytes).toBeGreaterThan(0);
    const slot: string = streaming.name;

    // the replication connection breaks; the ordinary one (the agent's status queries) still works
    writeFileSync(hba, readFileSync(hba, 'utf8').replace(REPLICATION, ''));
    await source.admin('select pg_reload_conf()');
    await source.admin(
      "select pg_terminate_backend(pid) from pg_stat_activity where backend_type = 'walsender'",
    );
    await until('the slot to stop streaming', async () => {
      const r = await source.admin(`select active from pg_replication_slots where slot_name = '${slot}'`);
      return r.rows[0]?.active === false ? true : undefined;
    });
    // writes go on: each WAL switch after a write moves the server one 16 MB segment on
    let held = await slotState(slot);
    for (let i = 0; held.held < HOLD_RATIO * (held.held + held.safe); i++) {
      if (i > 20) throw new Error(`the slot holds only ${JSON.stringify(held)} after 20 WAL switches`);
      await source.admin("insert into filler (note) values ('more')", 'shop');
      await source.admin('select pg_switch_wal()');
      held = await slotState(slot);
    }
    // nothing was dropped: the test's own bound
    expect(held.safe, JSON.stringify(held)).toBeGreaterThan(0);
    expect(held.status).not.toBe('lost');
    const HOLD = held.held;

    const stalled = await until('the agent to report the stalled slot', async () => {
      const st = await status();
      return st.slot && !st.slot.active && st.slot.retainedBytes >= HOLD ? st : undefined;
    });
    expect(stalled.slot.name).toBe(slot);
    // the stream's failure is reported, and the state is not "ok"
    expect(stalled.error?.message).toContain('pg_receivewal');
    expect(stalled.state).not.toBe('ok');
    // the WAL written since pg_receivewal stopped is not in storage: the lag counts from then
    expect(stalled.lagSeconds).toBeGreaterThan(0);

    await runCron(new Date());
    const alerts = (await tenant.session.json(`/alerts?subjectId=${db.id}&status=open`)).body.items as {
      kind: string;
      detail: string;
      severity: string;
    }[];
    const alert = alerts.find((a) => a.kind === 'pitr_slot');
    const row = await sql('select * from pitr_settings where database_id = $1', [db.id]);
    expect(alert, JSON.stringify({ alerts, row, held })).toBeDefined();
    expect(alert?.severity).toBe('critical');
    expect(alert?.detail).toContain(slot);
    expect(alert?.detail).toContain(`SELECT pg_drop_replication_slot('${slot}')`);
    expect(alert?.detail).toContain('replication connection');

    const token = (await tenant.session.json('/metrics-token', { method: 'POST' })).body.secret;
    const text = await (
      await fetch(`${stackInfo().url}/api/v1/metrics`, { headers: { authorization: `Bearer ${token}` } })
    ).text();
    const sample = new RegExp(
      `resistro_wal_slot_retained_bytes\\{[^}]*database_id="${db.id}"[^}]*\\} (\\d+)`,
    ).exec(text);
    expect(Number(sample?.[1])).toBeGreaterThanOrEqual(HOLD);

    // the connection is fixed: pg_receivewal (retried every 5 s) streams the backlog, the slot empties
    appendFileSync(hba, REPLICATION);
    await source.admin('select pg_reload_conf()');
    await until('the agent to report the slot streaming and emptied', async () => {
      const st = await status();
      return st.slot?.active && st.slot.retainedBytes < 16 * MB && !st.error ? true : undefined;
    });
    await runCron(new Date());
    const after = (await tenant.session.json(`/alerts?subjectId=${db.id}&status=open`)).body.items as {
      kind: string;
    }[];
    expect(after.map((a) => a.kind)).not.toContain('pitr_slot');
    // nothing was lost while the slot held the WAL: no gap
    expect((await status()).gaps).toEqual([]);
    await daemon.stop();
    daemon = undefined;
    // the slot would keep the next test's WAL on the server
    await source.admin(`select pg_drop_replication_slot('${slot}')`);
  }, 400_000);

  it("after the slot is dropped (the alert's advice), creates it again, reports the gap and asks for a new base backup", async () => {
    const { tenant, setup, db } = await protectedPostgres(source.port);
    const status = () => tenant.session.json(`/databases/${db.id}/pitr`).then((r) => r.body);
    daemon = new AgentProcess(['agent', '--heartbeat-interval', '1'], setup.env);
    const streaming = await until('the agent to report its streaming slot', async () => {
      const st = await status();
      return st.window && st.slot?.active ? st : undefined;
    });
    const slot: string = streaming.slot.name;

    // stalled as before, then the slot dropped and the WAL it held removed by a checkpoint
    writeFileSync(hba, readFileSync(hba, 'utf8').replace(REPLICATION, ''));
    await source.admin('select pg_reload_conf()');
    await source.admin(
      "select pg_terminate_backend(pid) from pg_stat_activity where backend_type = 'walsender'",
    );
    await until('the slot to stop streaming', async () => {
      const r = await source.admin(`select active from pg_replication_slots where slot_name = '${slot}'`);
      return r.rows[0]?.active === false ? true : undefined;
    });
    for (let i = 0; i < 6; i++) {
      await source.admin("insert into filler (note) values ('lost')", 'shop');
      await source.admin('select pg_switch_wal()');
    }
    await source.admin(`select pg_drop_replication_slot('${slot}')`);
    // no other slot may keep the WAL: the checkpoint removes it
    const others = await source.admin('select slot_name from pg_replication_slots');
    expect(others.rows).toEqual([]);
    await source.admin('checkpoint');
    appendFileSync(hba, REPLICATION);
    await source.admin('select pg_reload_conf()');

    // the agent creates the slot again and streams from the server's position: the hole is a gap,
    // and the control plane asks the agent for a new base backup
    let last: unknown;
    const after = await until(
      'the slot streaming again and the gap reported',
      async () => {
        await source.admin("insert into filler (note) values ('after')", 'shop');
        const st = await status();
        last = { slot: st.slot, gaps: st.gaps, state: st.state, error: st.error, due: st.baseBackupDue };
        return st.slot?.active && st.gaps.length > 0 ? st : undefined;
      },
      150_000,
    ).catch((e) => {
      throw new Error(`${(e as Error).message}\nlast status: ${JSON.stringify(last)}`);
    });
    expect(after.slot.name).toBe(slot);
    expect(after.state).toBe('gap');
    expect(after.gaps[0].missing.length).toBeGreaterThan(0);
    expect(after.baseBackupDue).toBe(true);
  }, 400_000);
});
