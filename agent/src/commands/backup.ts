// `resistro backup --database <id or name>`: one backup now, in the foreground. The same job the
// daemon runs; it fetches the database list with a heartbeat (which also registers the agent),
// or uses the cached list when the control plane is unreachable.
import type { DatabaseWork } from '@resistro/contract';
import { runBackupJob } from '../backup/job.ts';
import type { CommandInput } from '../command.ts';
import { createAgentContext, findDatabase, loadCachedWork } from '../context.ts';
import { heartbeat } from '../daemon/heartbeat.ts';
import { classifyError, isTransient, UsageError, UserError } from '../errors.ts';
import { formatBytes } from '../log.ts';
import { createProgress } from '../progress.ts';
import { flushPendingReports, recoverInterrupted } from '../reports.ts';
import { deliverSpool } from '../upload/deliver.ts';

export async function run({ options, config, log, signal, out }: CommandInput): Promise<number> {
  const wanted = options.database as string | undefined;
  if (!wanted)
    throw new UsageError(
      'backup needs --database <id or name>',
      'Run `resistro status` to list the databases of this agent.',
    );
  const ctx = await createAgentContext(config, log);
  let databases: DatabaseWork[];
  let online = true;
  try {
    const res = await heartbeat(ctx);
    const closing = res.accountClosing;
    if (closing?.readOnly) {
      throw new UserError(
        `this account is ${closing.reason === 'deletion_requested' ? 'being deleted as requested' : 'cancelled'} and read-only: no new backups are taken`,
        `Its backups can be downloaded until ${closing.purgeAt}: resistro export --all --to <folder>. Reopen the account in the dashboard to back up again.`,
        { code: 'account_read_only' },
      );
    }
    databases = res.databases;
  } catch (error) {
    if (!isTransient(error)) throw error;
    online = false;
    const cached = await loadCachedWork(ctx.state);
    if (!cached) {
      throw new UserError(
        `cannot reach the control plane (${(error as Error).message}) and there is no cached configuration yet`,
        'The first run needs the control plane: check RESISTRO_ENDPOINT and the network, then try again.',
        { cause: error },
      );
    }
    log.warn(
      'heartbeat.offline',
      `control plane unreachable; using the configuration cached at ${cached.savedAt}`,
    );
    databases = cached.databases;
  }
  if (online) {
    await recoverInterrupted(ctx.api, ctx.state, log);
    await flushPendingReports(ctx.api, ctx.state, log, ctx.agentId);
  }
  log.debug('backup.configured', 'configuration loaded', { sinceStartMs: Math.round(performance.now()) });
  const work = findDatabase(databases, wanted);
  if (!work) {
    const names = databases.map((d) => `"${d.name}" (${d.id})`).join(', ') || 'none';
    throw new UserError(
      `this agent has no database "${wanted}"`,
      `Databases of this agent: ${names}. Assign the database to this agent in the dashboard.`,
    );
  }

  if (work.paused) {
    // As the dashboard's "back up now": a paused database is left alone until it is resumed.
    throw new UserError(
      `database "${work.name}" is paused`,
      'Resume it in the dashboard (Databases → the database → Resume), then run the backup again.',
    );
  }
  const progress = createProgress(log, `backup ${work.name}`);
  const outcome = await runBackupJob(ctx, work, {
    trigger: 'manual',
    signal,
    onBytes: (n) => progress.add(n),
  }).finally(() => progress.done());
  ctx.agents.destroy();
  switch (outcome.status) {
    case 'succeeded':
      out(`backup ${outcome.backupId} of "${work.name}" succeeded (${formatBytes(outcome.sizeBytes)})\n`);
      if (online) {
        await deliverSpool({
          api: ctx.api,
          spool: ctx.spool,
          agents: ctx.agents,
          log,
          agentId: ctx.agentId,
          signal,
        });
      }
      return 0;
    case 'spooled':
      out(
        `backup of "${work.name}" (${formatBytes(outcome.sizeBytes)}) is in the offline spool: ${outcome.reason}\n`,
      );
      return 0;
    case 'skipped':
      throw new UserError(
        outcome.reason,
        'Wait for the running backup to finish (see `resistro status` or the agent log).',
      );
    case 'failed': {
      // The job logged the details (tool stderr included); here the summary and what to do.
      const report = classifyError(outcome.error);
      if (report.kind === 'bug') throw outcome.error;
      const where = outcome.reported ? ' (reported to the control plane)' : '';
      throw new UserError(
        `backup of "${work.name}" failed${where}: ${firstLine(report.message)}`,
        report.hint ?? 'See the log above.',
      );
    }
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
