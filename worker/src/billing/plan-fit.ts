// Whether the account fits a plan: the checks a downgrade must pass before it is scheduled, each
// naming the limit, what the account has and what the plan allows (the dashboard words them).
import { PLANS, type PlanId, type PlanProblem } from '@resistro/contract';
import { and, eq, isNull } from 'drizzle-orm';
import { accounts } from '../accounts/accounts.sql.ts';
import { databases } from '../databases/databases.sql.ts';
import type { DbOrTx } from '../db.ts';

export const PLAN_RANK: Record<PlanId, number> = { starter: 0, business: 1, professional: 2, enterprise: 3 };

export async function planFitProblems(db: DbOrTx, accountId: string, planId: PlanId): Promise<PlanProblem[]> {
  const plan = PLANS[planId];
  const active = await db
    .select({ retentionDays: databases.retentionDays })
    .from(databases)
    .where(and(eq(databases.accountId, accountId), isNull(databases.deletedAt)));
  const [account] = await db
    .select({ storageUsedBytes: accounts.storageUsedBytes })
    .from(accounts)
    .where(eq(accounts.id, accountId));
  const problems: PlanProblem[] = [];
  if (plan.maxDatabases !== null && active.length > plan.maxDatabases) {
    problems.push({
      limit: 'databases',
      message: `${active.length} databases, the ${plan.name} plan allows ${plan.maxDatabases}: delete ${active.length - plan.maxDatabases} first`,
      current: active.length,
      allowed: plan.maxDatabases,
    });
  }
  const used = account?.storageUsedBytes ?? 0;
  if (used > plan.storageBytes) {
    problems.push({
      limit: 'storage',
      message: `${used} bytes stored, the ${plan.name} plan holds ${plan.storageBytes}: delete backups first`,
      current: used,
      allowed: plan.storageBytes,
    });
  }
  const longest = Math.max(0, ...active.map((d) => d.retentionDays));
  if (longest > plan.maxRetentionDays) {
    problems.push({
      limit: 'retention',
      message: `a database keeps backups ${longest} days, the ${plan.name} plan at most ${plan.maxRetentionDays}: shorten its retention first`,
      current: longest,
      allowed: plan.maxRetentionDays,
    });
  }
  return problems;
}
