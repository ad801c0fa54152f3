import { resealSsoSecrets } from '../accounts/sso-secret.ts';
import { resealTotpSecrets } from '../accounts/totp-secrets.ts';
import { detectAlerts } from '../alerts/detect.ts';
import { failAbandonedBackups } from '../backups/finish.ts';
import { sendBillingNotices } from '../billing/notices.ts';
import { purgeClosedAccounts } from '../closing/purge.ts';
import { sendClosingReminders } from '../closing/reminders.ts';
import { createDb } from '../db.ts';
import { collectDue } from '../dedup/dedup.ts';
import type { Bindings, Config } from '../env.ts';
import { parseConfig } from '../env.ts';
import { deliverDue, enqueueAlertEvent } from '../notifications/outbox.ts';
import { sendEmail } from '../notifications/send.ts';
import { maintainPitr } from '../pitr/cron.ts';
import { sendMonthlyReports } from '../restore-tests/report-email.ts';
import { failSilentRestoreTests } from '../restore-tests/restore-tests.ts';
import { scheduleRestoreTests } from '../restore-tests/schedule.ts';
import { failSilentRestores } from '../restores/restores.ts';
import { pruneCopies, queueCopies, repairPackCopies, runServerCopies } from '../retention/copies.ts';
import { pruneLogs } from '../retention/prune.ts';
import { applyRetention } from '../retention/retention.ts';
import { createS3Storage } from '../storage/s3.ts';
import type { ObjectStorage } from '../storage/storage.ts';

export type CronContext = {
  db: ReturnType<typeof createDb>['db'];
  storage: ObjectStorage;
  config: Config;
  /** the trigger's scheduled time: every job takes it as "now" (tests set it) */
  now: Date;
};

/**
 * Jobs run in order each minute; each is idempotent, bounded per run, continues where the last
 * run stopped, and is safe when two runs overlap (row claims with SKIP LOCKED, conditional
 * updates, a unique index for open alerts).
 * Each job is a domain function of the feature that owns its rows; this file only lists them,
 * builds what they share (one database pool, one object store) and wires the alert detection to
 * the notifications it queues.
 */
export const JOBS: Array<{ name: string; run: (ctx: CronContext) => Promise<unknown> }> = [
  { name: 'fail-abandoned-backups', run: (ctx) => failAbandonedBackups(ctx.db, ctx.storage, ctx.now) },
  { name: 'fail-silent-restores', run: (ctx) => failSilentRestores(ctx.db, ctx.now) },
  { name: 'fail-silent-restore-tests', run: (ctx) => failSilentRestoreTests(ctx.db, ctx.now) },
  { name: 'schedule-restore-tests', run: (ctx) => scheduleRestoreTests(ctx.db, ctx.now) },
  // before the detection: a segment found missing is alerted in the same run
  { name: 'pitr', run: (ctx) => maintainPitr(ctx.db, ctx.storage, ctx.now) },
  { name: 'detect-alerts', run: (ctx) => detectAlerts(ctx.db, ctx.now, enqueueAlertEvent) },
  { name: 'deliver-notifications', run: (ctx) => deliverDue(ctx.db, ctx.config, ctx.now) },
  { name: 'retention', run: (ctx) => applyRetention(ctx.db, ctx.storage, ctx.now) },
  { name: 'dedup-collect', run: (ctx) => collectDue(ctx.db, ctx.storage, ctx.now) },
  { name: 'queue-copies', run: (ctx) => queueCopies(ctx.db, ctx.config.s3, ctx.now) },
  { name: 'server-copies', run: (ctx) => runServerCopies(ctx.db, ctx.storage, ctx.config, ctx.now) },
  { name: 'repair-pack-copies', run: (ctx) => repairPackCopies(ctx.db, ctx.storage, ctx.config, ctx.now) },
  { name: 'prune-copies', run: (ctx) => pruneCopies(ctx.db, ctx.config, ctx.now) },
  { name: 'closing-reminders', run: (ctx) => sendClosingReminders(ctx.db, ctx.config, ctx.now) },
  { name: 'purge-closed-accounts', run: (ctx) => purgeClosedAccounts(ctx.db, ctx.storage, ctx.now) },
  { name: 'prune-logs', run: (ctx) => pruneLogs(ctx.db, ctx.now) },
  { name: 'reseal-totp-secrets', run: (ctx) => resealTotpSecrets(ctx.db, ctx.config) },
  { name: 'reseal-sso-secrets', run: (ctx) => resealSsoSecrets(ctx.db, ctx.config) },
  {
    name: 'monthly-restore-reports',
    run: (ctx) => sendMonthlyReports(ctx.db, ctx.config.appOrigin, ctx.now, (m) => sendEmail(ctx.config, m)),
  },
  {
    name: 'billing-notices',
    run: (ctx) =>
      sendBillingNotices(ctx.db, ctx.config.billing, ctx.config.appOrigin, ctx.now, (m) =>
        sendEmail(ctx.config, m),
      ),
  },
];

/** A job's result is logged when it did something (any non-zero count). */
function didWork(result: unknown): boolean {
  if (typeof result === 'number') return result > 0;
  if (!result || typeof result !== 'object') return false;
  const r = result as Record<string, unknown>;
  return [
    'deleted',
    'missing',
    'opened',
    'resolved',
    'claimed',
    'accounts',
    'deliveries',
    'alerts',
    'reminders',
    'failed',
    'sent',
    'resealed',
    'unreadable',
    'queued',
    'copied',
  ].some((k) => typeof r[k] === 'number' && r[k] > 0);
}

export async function runScheduled(env: Bindings, scheduledTime: number): Promise<void> {
  const config = parseConfig(env);
  const { db, close } = createDb(config);
  const ctx: CronContext = {
    db,
    storage: createS3Storage(config.s3),
    config,
    now: new Date(scheduledTime),
  };
  const errors: unknown[] = [];
  // Each job's start (epoch ms) and duration, one line per run (read by `npm run bench:scale`).
  const timings: Array<{ job: string; startedAt: number; ms: number }> = [];
  try {
    for (const job of JOBS) {
      const startedAt = Date.now();
      try {
        const result = await job.run(ctx);
        if (didWork(result))
          console.log(JSON.stringify({ cron: job.name, at: ctx.now.toISOString(), result }));
      } catch (e) {
        // One failing job must not starve the others; the error is logged and the run fails.
        console.error(`cron job ${job.name} failed`, e);
        errors.push(e);
      }
      timings.push({ job: job.name, startedAt, ms: Date.now() - startedAt });
    }
    console.log(JSON.stringify({ cron: 'timings', at: ctx.now.toISOString(), jobs: timings }));
  } finally {
    await close().catch(() => {});
  }
  if (errors.length > 0) throw new AggregateError(errors, `${errors.length} cron job(s) failed`);
}
