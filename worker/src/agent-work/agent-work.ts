// The agent as it meets its databases: the heartbeat that registers it and answers with its work,
// and deleting it, refused while databases still run on it. Both need agents/ and databases/
// (which references its agent), so they sit above both.
import type { HeartbeatResponse } from '@resistro/contract';
import {
  getAgent,
  HEARTBEAT_INTERVAL_SECONDS,
  type HeartbeatInput,
  recordHeartbeat,
  removeAgent,
  toAgent,
} from '../agents/agents.ts';
import { backupsStopReason } from '../billing/billing.ts';
import { getClosing, isReadOnly, toAccountClosing } from '../closing/closing.ts';
import { agentRunsDatabases, agentWork } from '../databases/work.ts';
import type { Db } from '../db.ts';
import type { BillingConfig } from '../env.ts';
import { ApiError } from '../errors.ts';
import { pendingRestoreTestJobs } from '../restore-tests/restore-tests.ts';
import { pendingRestoreJobs } from '../restores/restores.ts';
import { pendingCopyJobs } from '../retention/copies.ts';

/**
 * Registers the agent on its first heartbeat (identified by its X25519 public key within the
 * account) and returns its work: its databases and the pending "back up now" requests.
 */
export async function heartbeat(
  db: Db,
  principal: { accountId: string; apiKeyId: string | null },
  input: HeartbeatInput,
  now: Date,
  billing: BillingConfig = { enabled: false },
): Promise<HeartbeatResponse> {
  const agent = await recordHeartbeat(db, principal, input, now);
  const closing = await getClosing(db, principal.accountId);
  // A read-only account has no work: the agent backs up nothing and says why once (not every minute).
  const work = isReadOnly(closing, now)
    ? { databases: [], backupRequests: [], checkRequests: [] }
    : await agentWork(db, principal.accountId, agent.id);
  const stopped = await backupsStopReason(db, billing, principal.accountId, now);
  return {
    agent: toAgent(agent, now),
    databases: work.databases,
    backupRequests: work.backupRequests,
    checkRequests: work.checkRequests,
    restoreRequests: await pendingRestoreJobs(db, principal.accountId, agent.id),
    restoreTestRequests: isReadOnly(closing, now)
      ? []
      : await pendingRestoreTestJobs(db, principal.accountId, agent.id),
    copyRequests: isReadOnly(closing, now)
      ? []
      : await pendingCopyJobs(db, principal.accountId, agent.id, now),
    accountClosing: toAccountClosing(closing, now),
    serverTime: now.toISOString(),
    heartbeatIntervalSeconds: HEARTBEAT_INTERVAL_SECONDS,
    accountNotice: stopped ? { code: 'backups_stopped', message: stopped } : null,
  };
}

export async function deleteAgent(db: Db, accountId: string, id: string): Promise<void> {
  await getAgent(db, accountId, id, new Date());
  if (await agentRunsDatabases(db, id)) {
    throw new ApiError('conflict', 'This agent still runs databases; move or delete them first');
  }
  await removeAgent(db, accountId, id);
}
