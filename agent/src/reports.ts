// Outcomes that must reach the control plane even when it is away or the agent dies:
// - running/<backupId>.json: written when a backup starts, removed once its outcome is reported
//   (or handed to the spool). One left behind by a dead process means that process was killed
//   mid-backup: the backup is reported failed, so it never stays "running" for hours.
// - reports/<id>.json: a failure that could not be reported yet; sent after the next heartbeat.
import { randomUUID } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiClientError, type BackupErrorCode, type BackupErrorParams } from '@resistro/contract';
import { isTransient } from './errors.ts';
import type { Logger } from './log.ts';
import { isProcessAlive, readJson, type StateDir, writeJson } from './state.ts';
import type { AgentApi } from './upload/client.ts';
import type { BackupTrigger } from './upload/spool.ts';

export type RunningRecord = {
  backupId: string;
  databaseId: string;
  databaseName: string;
  pid: number;
  startedAt: string;
};

export type PendingReport = {
  id: string;
  /** undefined: the backup never got an id (the control plane was away when it started) */
  backupId?: string;
  databaseId: string;
  databaseName: string;
  trigger: BackupTrigger;
  startedAt: string;
  durationMs: number;
  error: string;
  /** the kind of failure, for the dashboard to say in the account's language (absent in older reports) */
  errorCode?: BackupErrorCode;
  errorParams?: BackupErrorParams;
  createdAt: string;
};

/** FailBackupBody allows 8000 characters */
export const MAX_ERROR_LENGTH = 8000;

export function truncateError(text: string): string {
  if (text.length <= MAX_ERROR_LENGTH) return text;
  // Keep the start (what failed) and the end (the tool's last words).
  return `${text.slice(0, 2000)}\n[… ${text.length - 7000} characters cut …]\n${text.slice(-4980)}`;
}

export async function recordRunning(state: StateDir, record: Omit<RunningRecord, 'pid'>): Promise<void> {
  await writeJson(join(state.dir('running'), `${record.backupId}.json`), { ...record, pid: process.pid });
}

export async function clearRunning(state: StateDir, backupId: string): Promise<void> {
  await rm(join(state.dir('running'), `${backupId}.json`), { force: true });
}

export async function savePendingReport(
  state: StateDir,
  report: Omit<PendingReport, 'id' | 'createdAt'>,
): Promise<void> {
  const id = randomUUID();
  await writeJson(join(state.dir('reports'), `${id}.json`), {
    ...report,
    id,
    createdAt: new Date().toISOString(),
  });
}

/**
 * Reports a failure now, or keeps it for later when the control plane is away. Returns true when
 * the control plane has it.
 */
export async function reportFailure(
  api: AgentApi,
  state: StateDir,
  report: Omit<PendingReport, 'id' | 'createdAt'>,
  log: Logger,
): Promise<boolean> {
  try {
    await sendFailure(api, report);
    return true;
  } catch (error) {
    if (!isTransient(error)) {
      log.warn(
        'report.refused',
        `the control plane refused the failure report: ${(error as Error).message}`,
        {
          databaseId: report.databaseId,
          backupId: report.backupId,
        },
      );
      return false;
    }
    await savePendingReport(state, report);
    log.warn(
      'report.queued',
      'the control plane is unreachable; the failure will be reported when it is back',
      {
        databaseId: report.databaseId,
        backupId: report.backupId,
      },
    );
    return false;
  }
}

async function sendFailure(
  api: AgentApi,
  report: Omit<PendingReport, 'id' | 'createdAt'>,
  agentId?: string,
): Promise<void> {
  let backupId = report.backupId;
  if (!backupId) {
    // Never started on the control plane: start it with the original time, then fail it, so the
    // dashboard shows the failed run where it happened.
    const started = await api.startBackup({
      databaseId: report.databaseId,
      trigger: report.trigger,
      startedAt: report.startedAt,
      ...(agentId && { agentId }),
    });
    backupId = started.backup.id;
  }
  try {
    await api.failBackup(backupId, {
      error: truncateError(report.error),
      ...(report.errorCode && { errorCode: report.errorCode }),
      ...(report.errorParams && { errorParams: report.errorParams }),
      durationMs: Math.max(0, Math.round(report.durationMs)),
    });
  } catch (error) {
    // Already failed or completed (e.g. by the control plane's deadline): nothing left to report.
    if (error instanceof ApiClientError && (error.code === 'conflict' || error.code === 'not_found')) return;
    throw error;
  }
}

/** Sends queued reports; keeps those that still cannot be sent. Returns how many were sent. */
export async function flushPendingReports(
  api: AgentApi,
  state: StateDir,
  log: Logger,
  agentId?: string,
): Promise<number> {
  const dir = state.dir('reports');
  let sent = 0;
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.json')).sort()) {
    const report = await readJson<PendingReport>(join(dir, name));
    if (!report) {
      await rm(join(dir, name), { force: true });
      continue;
    }
    try {
      await sendFailure(api, report, agentId);
      sent++;
    } catch (error) {
      if (isTransient(error)) return sent;
      // The database was deleted, the quota is full…: the report cannot be placed; drop it.
      log.warn(
        'report.dropped',
        `a queued failure report could not be delivered: ${(error as Error).message}`,
        {
          databaseId: report.databaseId,
        },
      );
    }
    await rm(join(dir, name), { force: true });
  }
  return sent;
}

/**
 * Backups left "running" by a process that is gone (killed, crashed, machine restarted): report
 * them failed. Records of live processes (a `resistro backup` running next to the daemon) stay.
 */
export async function recoverInterrupted(api: AgentApi, state: StateDir, log: Logger): Promise<number> {
  const dir = state.dir('running');
  let recovered = 0;
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.json'))) {
    const record = await readJson<RunningRecord>(join(dir, name));
    if (record && record.pid !== process.pid && isProcessAlive(record.pid)) continue;
    if (record) {
      log.warn(
        'backup.interrupted',
        `the backup of "${record.databaseName}" started ${record.startedAt} was interrupted (the agent stopped); reporting it failed`,
        {
          backupId: record.backupId,
          databaseId: record.databaseId,
        },
      );
      await reportFailure(
        api,
        state,
        {
          backupId: record.backupId,
          databaseId: record.databaseId,
          databaseName: record.databaseName,
          trigger: 'schedule',
          startedAt: record.startedAt,
          durationMs: Date.now() - Date.parse(record.startedAt),
          error:
            'The agent stopped during this backup (killed, crashed or the machine restarted); nothing from it was kept.',
          errorCode: 'agent_stopped',
        },
        log,
      );
      recovered++;
    }
    await rm(join(dir, name), { force: true });
  }
  return recovered;
}
