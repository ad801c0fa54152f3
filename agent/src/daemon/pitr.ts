// Continuous protection in the daemon (issue 13): with every heartbeat the agent asks which of its
// databases have point-in-time recovery on (GET /agent/pitr) and keeps one log streamer per such
// database running, reports each one's lag every STATUS_MS, and takes a base backup when the
// control plane says one is due (none yet, the schedule, or a gap). MySQL/MariaDB stream their
// binary log here (binlog/streamer.ts); PostgreSQL items are left to `postgres` (WAL, issue 13's
// other half) when it is given.
import { createHash } from 'node:crypto';
import type { DatabaseWork, PitrJob } from '@resistro/contract';
import { planeSegmentStore } from '../binlog/plane-store.ts';
import { BinlogStreamer } from '../binlog/streamer.ts';
import { type AgentContext, resolveTarget } from '../context.ts';

const STATUS_MS = 15_000;
/** a base backup the plane still calls due is not started again sooner than this */
const BASE_BACKUP_GAP_MS = 10 * 60_000;

export type PitrHooks = {
  /** queue a backup of this database (the daemon's own queue: one dump at a time) */
  enqueueBackup(work: DatabaseWork): void;
  /** PostgreSQL items, for the WAL side */
  postgres?: (items: PitrJob[], databases: DatabaseWork[]) => Promise<void>;
  /** tests: status reports more often */
  statusMs?: number;
};

/** A replica server id for this agent and database: stable, and far from the usual small ids. */
export function replicaServerId(agentId: string, databaseId: string): number {
  const digest = createHash('sha256').update(`${agentId}/${databaseId}`).digest();
  return 1_000_000_000 + (digest.readUInt32BE(0) % 3_000_000_000);
}

/** The longest a written event waits before it is cut: a quarter of the RPO, 1–60 s. */
export function cutInterval(rpoSeconds: number): number {
  return Math.min(60_000, Math.max(1000, (rpoSeconds * 1000) / 4));
}

export class PitrJobs {
  readonly #ctx: AgentContext;
  readonly #hooks: PitrHooks;
  readonly #streamers = new Map<string, { streamer: BinlogStreamer; rpoSeconds: number }>();
  readonly #baseRequested = new Map<string, number>();
  #statusTimer: NodeJS.Timeout | undefined;
  #syncing = false;
  #stopped = false;

  constructor(ctx: AgentContext, hooks: PitrHooks) {
    this.#ctx = ctx;
    this.#hooks = hooks;
  }

  /** After a heartbeat: start, restart or stop streamers to match what the control plane asks. */
  async sync(databases: DatabaseWork[]): Promise<void> {
    const agentId = this.#ctx.agentId;
    if (this.#syncing || this.#stopped || !agentId) return;
    this.#syncing = true;
    try {
      const { items } = await this.#ctx.api.agentPitr(agentId);
      const binlog = items.filter((i) => i.engine === 'mariadb' || i.engine === 'mysql');
      for (const [id, running] of this.#streamers) {
        const item = binlog.find((i) => i.databaseId === id);
        if (item && item.rpoSeconds === running.rpoSeconds) continue;
        this.#streamers.delete(id);
        await running.streamer.stop();
        this.#ctx.log.info('pitr.stopped', `binlog streaming of database ${id} stopped`, { databaseId: id });
      }
      for (const item of binlog) {
        const work = databases.find((d) => d.id === item.databaseId);
        if (!work) continue;
        if (!this.#streamers.has(item.databaseId)) await this.#start(work, item);
        if (item.baseBackupDue) this.#baseBackup(work, item);
      }
      const postgres = items.filter((i) => i.engine === 'postgres');
      await this.#hooks.postgres?.(postgres, databases);
      this.#statusTimer ??= setInterval(() => void this.#report(), this.#hooks.statusMs ?? STATUS_MS);
    } catch (error) {
      this.#ctx.log.debug(
        'pitr.sync-failed',
        `asking for continuous protection failed: ${(error as Error).message}`,
      );
    } finally {
      this.#syncing = false;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#statusTimer);
    await Promise.allSettled([...this.#streamers.values()].map((s) => s.streamer.stop()));
    this.#streamers.clear();
  }

  async #start(work: DatabaseWork, item: PitrJob): Promise<void> {
    const { ctx } = { ctx: this.#ctx };
    const key = ctx.config.encryptionKey;
    if (!key) return;
    const target = await resolveTarget(ctx, work);
    const streamer = new BinlogStreamer({
      engine: item.engine === 'mysql' ? 'mysql' : 'mariadb',
      target: { ...target, database: '' },
      spoolDir: ctx.state.dir(`binlog-${work.id}`),
      key,
      store: planeSegmentStore({ api: ctx.api, databaseId: work.id, agents: ctx.agents }),
      cutIntervalMs: cutInterval(item.rpoSeconds),
      replicaServerId: replicaServerId(ctx.agentId ?? '', work.id),
      log: ctx.log,
    });
    await streamer.start();
    this.#streamers.set(work.id, { streamer, rpoSeconds: item.rpoSeconds });
    ctx.log.info(
      'pitr.started',
      `continuous protection of "${work.name}": streaming its binary log (RPO ${item.rpoSeconds} s)`,
      { databaseId: work.id },
    );
  }

  #baseBackup(work: DatabaseWork, item: PitrJob): void {
    const last = this.#baseRequested.get(work.id) ?? 0;
    if (Date.now() - last < BASE_BACKUP_GAP_MS) return;
    this.#baseRequested.set(work.id, Date.now());
    this.#ctx.log.info(
      'pitr.base-backup',
      `a base backup of "${work.name}" is due (${item.baseBackupReason ?? 'requested'}): queued`,
      { databaseId: work.id },
    );
    this.#hooks.enqueueBackup(work);
  }

  async #report(): Promise<void> {
    for (const [databaseId, { streamer }] of this.#streamers) {
      const s = streamer.status();
      await this.#ctx.api
        .reportPitrStatus(databaseId, {
          lagSeconds: Math.round(s.lagSeconds),
          // the control plane checks it against the lag (alert pitr_retention)
          ...(s.retentionSeconds !== undefined && {
            logRetentionSeconds: Math.min(2 ** 31 - 1, Math.round(s.retentionSeconds)),
          }),
          error:
            !s.connected && s.lastError
              ? { code: 'binlog_stream', message: s.lastError.split('\n')[0]!.slice(0, 2000) }
              : undefined,
        })
        .catch((error) =>
          this.#ctx.log.debug('pitr.status-failed', `status report failed: ${(error as Error).message}`),
        );
    }
  }
}
