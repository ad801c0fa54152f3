// `resistro agent`: the daemon in the foreground (systemd runs it as resistro-agent.service).

import { BackupStoppedError } from '../backup/job.ts';
import type { CommandInput } from '../command.ts';
import { createAgentContext } from '../context.ts';
import { Daemon } from '../daemon/daemon.ts';
import { UsageError, UserError } from '../errors.ts';
import { lockOwner, tryLock } from '../state.ts';

export async function run({ options, config, log }: CommandInput): Promise<number> {
  const raw = options['heartbeat-interval'] as string | undefined;
  let heartbeatInterval: number | undefined;
  if (raw !== undefined) {
    heartbeatInterval = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || heartbeatInterval < 1) {
      throw new UsageError(
        '--heartbeat-interval must be a number of seconds, at least 1',
        'Example: --heartbeat-interval 10',
      );
    }
  }
  const ctx = await createAgentContext(config, log);
  // One daemon per state directory: two would each run every schedule and report each backup.
  const lockPath = ctx.state.path('agent.lock');
  const lock = await tryLock(lockPath);
  if (!lock) {
    const owner = await lockOwner(lockPath);
    throw new UserError(
      `another resistro agent${owner ? ` (pid ${owner})` : ''} already runs with the state directory ${ctx.state.path()}`,
      'Stop it first (systemctl stop resistro-agent), or give this one its own RESISTRO_STATE_DIR.',
    );
  }
  const daemon = new Daemon(ctx, { heartbeatInterval });
  const onSignal = (signal: NodeJS.Signals) => {
    if (daemon.stopping) {
      log.warn('agent.forced', `second ${signal}: exiting now`);
      process.exit(1);
    }
    void daemon.stop(
      new BackupStoppedError(
        `The agent was stopped (${signal}) during this backup; nothing from it was kept.`,
      ),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await daemon.run();
  } finally {
    await lock.release();
  }
  return 0;
}
