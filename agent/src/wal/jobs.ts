// PostgreSQL continuous protection in the daemon: one WAL streamer per protected cluster (started
// before the first base backup, so the backup's WAL is archived), a base backup whenever the
// control plane says one is due (first, schedule, or after a gap), and the lag and replication
// slot reported with every status round. Called from daemon/pitr.ts with the postgres items.
import type { DatabaseWork, PitrJob, PitrSlot } from '@resistro/contract';
import { type AgentContext, resolveTarget } from '../context.ts';
import type { DatabaseTarget } from '../engines/engine.ts';
import { takeBaseBackup } from './base-backup.ts';
import { WalPushServer } from './push-server.ts';
import { measureSlot } from './slot.ts';
import { DEFAULT_SEGMENT_SIZE, WalStreamer } from './streamer.ts';
import { psqlRow } from './tools.ts';

const BASE_RETRY_MS = 10 * 60_000;
/** a slot that does not stream is written to the log at most this often */
const SLOT_WARN_MS = 10 * 60_000;

/** A slot name PostgreSQL takes (lower case, digits, underscore; ≤ 63), stable per database. */
export function slotName(databaseId: string): string {
  return `resistro_${databaseId.replace(/-/g, '').slice(0, 24)}`;
}

export class PostgresPitr {
  readonly #ctx: AgentContext;
  readonly #streamers = new Map<
    string,
    {
      streamer: WalStreamer;
      rpoSeconds: number;
      method: PitrJob['method'];
      target: DatabaseTarget;
      name: string;
    }
  >();
  /** per database: since when its slot is seen inactive (nothing streams: the server keeps the WAL) */
  readonly #inactiveSince = new Map<string, number>();
  readonly #warnedAt = new Map<string, number>();
  /** archive_command mode: `resistro wal-push` hands segments over here (started on first use) */
  #push: WalPushServer | undefined;
  readonly #baseAt = new Map<string, number>();
  #baseRunning = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(ctx: AgentContext, opts: { statusMs?: number } = {}) {
    this.#ctx = ctx;
    this.#timer = setInterval(() => void this.#report(), opts.statusMs ?? 15_000);
  }

  async sync(items: PitrJob[], databases: DatabaseWork[]): Promise<void> {
    for (const [id, s] of this.#streamers) {
      const item = items.find((i) => i.databaseId === id);
      if (item && item.rpoSeconds === s.rpoSeconds && item.method === s.method) continue;
      this.#streamers.delete(id);
      this.#push?.remove(id);
      await s.streamer.stop();
    }
    for (const item of items) {
      const work = databases.find((d) => d.id === item.databaseId);
      if (!work) continue;
      if (!this.#streamers.has(work.id)) await this.#start(work, item);
      if (item.baseBackupDue) void this.#baseBackup(work);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#push?.close();
    await Promise.allSettled([...this.#streamers.values()].map((s) => s.streamer.stop()));
    this.#streamers.clear();
  }

  async #start(work: DatabaseWork, item: PitrJob): Promise<void> {
    const key = this.#ctx.config.encryptionKey;
    if (!key) return;
    const target = await resolveTarget(this.#ctx, work);
    const archive = item.method === 'archive_command';
    const streamer = new WalStreamer({
      target,
      receive: archive ? 'archive' : 'stream',
      databaseId: work.id,
      api: this.#ctx.api,
      key,
      spoolDir: this.#ctx.state.dir(`wal-${work.id}`),
      slot: slotName(work.id),
      rpoSeconds: item.rpoSeconds,
      log: this.#ctx.log.child({ databaseId: work.id }),
    });
    try {
      await streamer.start();
      if (archive) await this.#receivePushes(work, target, streamer);
    } catch (error) {
      await streamer.stop().catch(() => {});
      this.#ctx.log.warn(
        'pitr.wal-start',
        `WAL streaming of "${work.name}" could not start: ${(error as Error).message}`,
        {
          databaseId: work.id,
        },
      );
      await this.#ctx.api
        .reportPitrStatus(work.id, {
          lagSeconds: 0,
          error: { code: 'wal_stream', message: (error as Error).message.slice(0, 2000) },
        })
        .catch(() => {});
      return;
    }
    this.#streamers.set(work.id, {
      streamer,
      rpoSeconds: item.rpoSeconds,
      method: item.method,
      target,
      name: work.name,
    });
    this.#ctx.log.info(
      'pitr.started',
      archive
        ? `continuous protection of "${work.name}": taking its WAL from archive_command on ${this.#push?.path} (RPO ${item.rpoSeconds} s)`
        : `continuous protection of "${work.name}": streaming its WAL (RPO ${item.rpoSeconds} s)`,
      {
        databaseId: work.id,
      },
    );
  }

  async #receivePushes(
    work: DatabaseWork,
    target: Awaited<ReturnType<typeof resolveTarget>>,
    streamer: WalStreamer,
  ): Promise<void> {
    this.#push ??= new WalPushServer({ path: this.#ctx.config.walPushSocket, log: this.#ctx.log });
    await this.#push.listen();
    // the cluster's identity, so a segment from another server is refused (unknown: not checked)
    const systemId = await psqlRow(target, 'select system_identifier from pg_control_system()').then(
      ([id]) => (id && /^\d+$/.test(id) ? id : undefined),
      () => undefined,
    );
    this.#push.add({
      databaseId: work.id,
      name: work.name,
      systemId,
      spoolDir: streamer.spoolDir,
      arrived: () => streamer.kick(),
    });
    // A slot left from streaming would make the server keep all WAL from then on: the archiver now
    // hands it over, so the slot goes (where this user may drop it; a slot in use is left alone).
    await psqlRow(
      target,
      `select count(pg_drop_replication_slot(slot_name)) from pg_replication_slots where slot_name = '${slotName(work.id)}' and not active`,
    ).catch(() => {});
  }

  async #baseBackup(work: DatabaseWork): Promise<void> {
    if (this.#baseRunning || Date.now() - (this.#baseAt.get(work.id) ?? 0) < BASE_RETRY_MS) return;
    this.#baseRunning = true;
    this.#baseAt.set(work.id, Date.now());
    try {
      const { backupId, range } = await takeBaseBackup(this.#ctx, work, {
        segmentSize: DEFAULT_SEGMENT_SIZE,
      });
      this.#ctx.log.info('pitr.base-backup', `base backup of "${work.name}" done`, {
        databaseId: work.id,
        backupId,
        startLsn: range.start,
      });
      // the WAL up to the backup's end point, now rather than at the next round
      await this.#streamers.get(work.id)?.streamer.flush(true);
    } catch (error) {
      this.#ctx.log.warn('pitr.base-backup', (error as Error).message, { databaseId: work.id });
    } finally {
      this.#baseRunning = false;
    }
  }

  async #report(): Promise<void> {
    for (const [databaseId, { streamer, target, name, method }] of this.#streamers) {
      const s = streamer.status();
      // archive_command mode has no slot: PostgreSQL itself keeps what was not archived
      const slot = method === 'stream' ? await this.#slot(databaseId, name, target) : undefined;
      let lagSeconds = s.lagSeconds;
      let error = s.error;
      if (slot && !slot.active) {
        // nothing streams: the WAL written since stays on the server, not in storage
        const since = this.#inactiveSince.get(databaseId) ?? s.downSince ?? Date.now();
        this.#inactiveSince.set(databaseId, since);
        if (slot.retainedBytes > 0)
          lagSeconds = Math.max(lagSeconds, Math.round((Date.now() - since) / 1000));
        error ??= s.streamError;
      } else if (slot?.active) {
        this.#inactiveSince.delete(databaseId);
        streamer.streaming();
      }
      await this.#ctx.api
        .reportPitrStatus(databaseId, {
          lagSeconds,
          segmentSizeBytes: DEFAULT_SEGMENT_SIZE,
          ...(slot && { slot }),
          ...(error && { error: { code: 'wal_stream', message: error.slice(0, 2000) } }),
        })
        .catch(() => {});
    }
  }

  /** The replication slot as the server sees it; undefined when there is none or it is unreadable. */
  async #slot(databaseId: string, name: string, target: DatabaseTarget): Promise<PitrSlot | undefined> {
    try {
      const slot = await measureSlot(target, slotName(databaseId));
      const stalled = slot && (slot.walStatus === 'unreserved' || slot.walStatus === 'lost' || !slot.active);
      if (slot && stalled && Date.now() - (this.#warnedAt.get(databaseId) ?? 0) > SLOT_WARN_MS) {
        this.#warnedAt.set(databaseId, Date.now());
        this.#ctx.log.warn(
          'pitr.slot',
          `the replication slot of "${name}" is not streaming and holds ${slot.retainedBytes} bytes of WAL on the server (wal_status ${slot.walStatus ?? 'unknown'})`,
          {
            databaseId,
            slot: slot.name,
            retainedBytes: slot.retainedBytes,
            hint: `Fix the agent's replication connection (its log says why pg_receivewal stopped), or drop the slot (SELECT pg_drop_replication_slot('${slot.name}')) before the server's disk fills.`,
          },
        );
      }
      return slot;
    } catch (error) {
      this.#ctx.log.debug('pitr.slot', `could not read the replication slot: ${(error as Error).message}`, {
        databaseId,
      });
      return undefined;
    }
  }
}
