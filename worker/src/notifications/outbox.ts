// The notification outbox: alert events fan out into one delivery per recipient, written in the
// same transaction as the alert change; the cron sends due deliveries with retries and backoff.
import type { Alert, Delivery, DeliveryList, NotificationEventType, WebhookEvent } from '@resistro/contract';
import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { accounts } from '../accounts/accounts.sql.ts';
import { alertSources } from '../alerts/localize.ts';
import type { Db, DbOrTx } from '../db.ts';
import type { Config } from '../env.ts';
import { DEFAULT_LOCALE, type Locale } from '../i18n/language.ts';
import { afterCursor, toPage } from '../lib/page.ts';
import { notificationChannels, notificationDeliveries } from './notifications.sql.ts';
import { DeliveryError } from './notifier.ts';
import { type SendContext, sendNotification } from './send.ts';

type DeliveryRow = typeof notificationDeliveries.$inferSelect;
type ChannelRow = typeof notificationChannels.$inferSelect;

/** Attempts before a delivery is failed for good: about two hours of retries. */
export const MAX_ATTEMPTS = 8;
/** A run that claimed a delivery owns it this long; if the run dies, another retries it then. */
export const CLAIM_LEASE_MS = 5 * 60_000;
export const DELIVERIES_PER_RUN = 50;
const SEND_CONCURRENCY = 8;

/** After the n-th failed attempt: 1, 2, 4, 8, 16, 32, 60, 60 minutes. */
export function backoffMs(attempts: number): number {
  return Math.min(60, 2 ** Math.max(0, attempts - 1)) * 60_000;
}

export function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    channelId: row.channelId,
    channelType: row.channelType,
    target: row.target,
    event: row.event,
    alertId: row.alertId,
    status: row.status,
    attempts: row.attempts,
    lastError: row.lastError,
    nextAttemptAt: row.status === 'pending' ? (row.nextAttemptAt?.toISOString() ?? null) : null,
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

type Recipient = { channelId: string | null; channelType: DeliveryRow['channelType']; target: string };

function recipientsOf(channel: ChannelRow): Recipient[] {
  if (channel.type === 'email')
    return (channel.addresses ?? []).map((to) => ({
      channelId: channel.id,
      channelType: 'email',
      target: to,
    }));
  return [{ channelId: channel.id, channelType: channel.type, target: channel.name }];
}

function deliveryRows(
  accountId: string,
  type: NotificationEventType,
  alert: Alert | null,
  recipients: Recipient[],
  now: Date,
) {
  return recipients.map((r) => {
    const id = crypto.randomUUID();
    const payload: WebhookEvent = { id, type, createdAt: now.toISOString(), accountId, alert };
    return {
      id,
      accountId,
      ...r,
      event: type,
      alertId: alert?.id ?? null,
      payload,
      nextAttemptAt: now,
      createdAt: now,
    };
  });
}

/**
 * Queue an alert event for the account's alert e-mail addresses and every enabled channel.
 * Call inside the transaction that opens or resolves the alert, so both happen or neither.
 * A read-only (closed) account is not notified: its agent is told once, and nothing else is sent.
 */
export async function enqueueAlertEvent(
  tx: DbOrTx,
  type: 'alert.opened' | 'alert.resolved',
  alert: Alert,
  accountId: string,
  now: Date,
): Promise<number> {
  // account_closings is read, not imported: closing/ sends its reminders through this folder.
  const [account] = await tx
    .select({
      alertEmails: accounts.alertEmails,
      readOnly: sql<boolean>`exists (select 1 from account_closings c where c.account_id = ${accounts.id} and c.effective_at <= ${now.toISOString()}::timestamptz)`,
      verifiedAlertEmails: accounts.verifiedAlertEmails,
    })
    .from(accounts)
    .where(eq(accounts.id, accountId));
  if (!account || account.readOnly) return 0;
  const channels = await tx
    .select()
    .from(notificationChannels)
    .where(and(eq(notificationChannels.accountId, accountId), eq(notificationChannels.enabled, true)));
  const recipients: Recipient[] = [
    // SECURITY: only to addresses that confirmed a verification link (issue 16), so nobody can
    // send alert mail to someone else's address by typing it in.
    ...account.alertEmails
      .filter((to) => account.verifiedAlertEmails.includes(to))
      .map((to) => ({ channelId: null, channelType: 'email' as const, target: to })),
    ...channels.flatMap(recipientsOf),
  ];
  if (recipients.length === 0) return 0;
  await tx.insert(notificationDeliveries).values(deliveryRows(accountId, type, alert, recipients, now));
  return recipients.length;
}

async function attempt(
  config: Config,
  row: DeliveryRow,
  channel: ChannelRow | undefined,
  context: SendContext,
): Promise<DeliveryError | null> {
  try {
    if (row.channelId && !channel)
      throw new DeliveryError('The channel was deleted before this message was delivered', {
        permanent: true,
      });
    if (channel && !channel.enabled && row.event !== 'test')
      throw new DeliveryError('The channel was disabled before this message was delivered', {
        permanent: true,
      });
    if (!row.channelId && row.channelType !== 'email')
      throw new DeliveryError('The channel was deleted before this message was delivered', {
        permanent: true,
      });
    await sendNotification(config, row, channel, context);
    return null;
  } catch (e) {
    if (e instanceof DeliveryError) return e;
    console.error('notification send failed unexpectedly', row.id, e);
    return new DeliveryError('Internal error while sending; it has been logged');
  }
}

/** Record the outcome, unless another run claimed the row since (its attempt count moved on). */
async function settle(
  db: Db,
  row: DeliveryRow,
  error: DeliveryError | null,
  now: Date,
  maxAttempts: number,
): Promise<DeliveryRow> {
  const guard = and(
    eq(notificationDeliveries.id, row.id),
    eq(notificationDeliveries.status, 'pending'),
    eq(notificationDeliveries.attempts, row.attempts),
  );
  const final = error && (error.permanent || row.attempts >= maxAttempts);
  const set = !error
    ? { status: 'delivered' as const, deliveredAt: now, nextAttemptAt: null, lastError: null }
    : final
      ? { status: 'failed' as const, nextAttemptAt: null, lastError: error.message }
      : { nextAttemptAt: new Date(now.getTime() + backoffMs(row.attempts)), lastError: error.message };
  const [updated] = await db.update(notificationDeliveries).set(set).where(guard).returning();
  return updated ?? row;
}

async function channelsById(db: Db, rows: DeliveryRow[]): Promise<Map<string, ChannelRow>> {
  const ids = [...new Set(rows.map((r) => r.channelId).filter((id): id is string => id !== null))];
  if (ids.length === 0) return new Map();
  const channels = await db.select().from(notificationChannels).where(inArray(notificationChannels.id, ids));
  return new Map(channels.map((c) => [c.id, c]));
}

/** Each delivery's account locale and alert, read once per run for all claimed rows. */
async function sendContexts(db: Db, rows: DeliveryRow[]): Promise<(row: DeliveryRow) => SendContext> {
  const accountIds = [...new Set(rows.map((r) => r.accountId))];
  const locales = new Map<string, Locale>();
  if (accountIds.length > 0) {
    const found = await db
      .select({ id: accounts.id, language: accounts.language, timeZone: accounts.timeZone })
      .from(accounts)
      .where(inArray(accounts.id, accountIds));
    for (const a of found) locales.set(a.id, { language: a.language, timeZone: a.timeZone });
  }
  const alerts = await alertSources(
    db,
    rows.map((r) => r.alertId).filter((id): id is string => id !== null),
  );
  return (row) => ({
    locale: locales.get(row.accountId) ?? DEFAULT_LOCALE,
    alert: row.alertId ? alerts.get(row.alertId) : undefined,
  });
}

async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export type DeliveryStats = { claimed: number; delivered: number; retrying: number; failed: number };

/**
 * Cron: claim due deliveries (SKIP LOCKED, so overlapping runs take disjoint rows), push their
 * due time out by a lease and count the attempt, send, then record the outcome. Bounded per run.
 */
export async function deliverDue(
  db: Db,
  config: Config,
  now: Date,
  limit = DELIVERIES_PER_RUN,
): Promise<DeliveryStats> {
  const lease = new Date(now.getTime() + CLAIM_LEASE_MS);
  const due = db
    .select({ id: notificationDeliveries.id })
    .from(notificationDeliveries)
    .where(
      and(
        eq(notificationDeliveries.status, 'pending'),
        sql`${notificationDeliveries.nextAttemptAt} <= ${now.toISOString()}::timestamptz`,
      ),
    )
    .orderBy(notificationDeliveries.nextAttemptAt)
    .limit(limit)
    .for('update', { skipLocked: true });
  const claimed = await db
    .update(notificationDeliveries)
    .set({ nextAttemptAt: lease, attempts: sql`${notificationDeliveries.attempts} + 1` })
    .where(inArray(notificationDeliveries.id, due))
    .returning();
  const stats: DeliveryStats = { claimed: claimed.length, delivered: 0, retrying: 0, failed: 0 };
  if (claimed.length === 0) return stats;
  const channels = await channelsById(db, claimed);
  const contexts = await sendContexts(db, claimed);
  await inParallel(claimed, SEND_CONCURRENCY, async (row) => {
    const channel = row.channelId ? channels.get(row.channelId) : undefined;
    const error = await attempt(config, row, channel, contexts(row));
    const settled = await settle(db, row, error, now, MAX_ATTEMPTS);
    if (settled.status === 'delivered') stats.delivered++;
    else if (settled.status === 'failed') stats.failed++;
    else stats.retrying++;
  });
  return stats;
}

/** "Send a test": one attempt per recipient right away, logged like any delivery, not retried. */
export async function sendTest(db: Db, config: Config, channel: ChannelRow, now: Date): Promise<Delivery[]> {
  const rows = await db
    .insert(notificationDeliveries)
    .values(
      deliveryRows(channel.accountId, 'test', null, recipientsOf(channel), now).map((r) => ({
        ...r,
        attempts: 1,
        nextAttemptAt: null,
      })),
    )
    .returning();
  const out: Delivery[] = [];
  const contexts = await sendContexts(db, rows);
  for (const row of rows) {
    const error = await attempt(config, row, channel, contexts(row));
    out.push(toDelivery(await settle(db, row, error, now, 1)));
  }
  return out;
}

export async function listDeliveries(
  db: Db,
  accountId: string,
  q: {
    status?: DeliveryRow['status'] | undefined;
    channelId?: string | undefined;
    alertId?: string | undefined;
    cursor?: string | undefined;
    limit?: number | undefined;
  },
): Promise<DeliveryList> {
  const limit = q.limit ?? 50;
  const where: SQL[] = [eq(notificationDeliveries.accountId, accountId)];
  if (q.status) where.push(eq(notificationDeliveries.status, q.status));
  if (q.channelId) where.push(eq(notificationDeliveries.channelId, q.channelId));
  if (q.alertId) where.push(eq(notificationDeliveries.alertId, q.alertId));
  if (q.cursor)
    where.push(afterCursor(q.cursor, notificationDeliveries.createdAt, notificationDeliveries.id));
  const rows = await db
    .select()
    .from(notificationDeliveries)
    .where(and(...where))
    .orderBy(desc(notificationDeliveries.createdAt), desc(notificationDeliveries.id))
    .limit(limit + 1);
  return toPage(rows, limit, toDelivery, (r) => [r.createdAt, r.id]);
}
