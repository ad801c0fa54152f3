/** Plan limits from the user guide (Pläne & Preise). `null` = unlimited. */
export const PLAN_IDS = ['starter', 'business', 'professional', 'enterprise'] as const;
export type PlanId = (typeof PLAN_IDS)[number];

const GB = 1000 ** 3;

export type Plan = {
  id: PlanId;
  name: string;
  priceEurMonthly: number;
  maxDatabases: number | null;
  maxRetentionDays: number;
  storageBytes: number;
};

export const PLANS: Record<PlanId, Plan> = {
  starter: {
    id: 'starter',
    name: 'Starter',
    priceEurMonthly: 7,
    maxDatabases: 1,
    maxRetentionDays: 7,
    storageBytes: 5 * GB,
  },
  business: {
    id: 'business',
    name: 'Business',
    priceEurMonthly: 29,
    maxDatabases: 5,
    maxRetentionDays: 30,
    storageBytes: 50 * GB,
  },
  professional: {
    id: 'professional',
    name: 'Professional',
    priceEurMonthly: 79,
    maxDatabases: 25,
    maxRetentionDays: 90,
    storageBytes: 250 * GB,
  },
  enterprise: {
    id: 'enterprise',
    name: 'Enterprise',
    priceEurMonthly: 149,
    maxDatabases: null,
    maxRetentionDays: 365,
    storageBytes: 1000 * GB,
  },
};

/** S3 allows at most 10,000 parts; we keep headroom for a backup slightly over quota. */
export const MAX_PARTS = 10_000;
const MiB = 1024 * 1024;

/**
 * One fixed part size per upload (Cloudflare R2 requires equal parts): the smallest whole number
 * of MiB, at least 8 MiB, such that the plan's whole storage quota fits in 9,000 parts.
 * Starter: 8 MiB; Enterprise (1 TB): 106 MiB.
 */
export function partSizeForPlan(plan: Plan): number {
  const mib = Math.max(8, Math.ceil(plan.storageBytes / 9_000 / MiB));
  return mib * MiB;
}
