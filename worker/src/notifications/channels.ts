// Notification channels: extra e-mail recipients, Slack-compatible webhooks, signed JSON webhooks.
import type { Channel, CreatedChannel } from '@resistro/contract';
import { and, asc, count, eq } from 'drizzle-orm';
import type { Db } from '../db.ts';
import type { Config } from '../env.ts';
import { ApiError, notFound } from '../errors.ts';
import { randomToken } from '../lib/crypto.ts';
import { notificationChannels, notificationDeliveries } from './notifications.sql.ts';

type Row = typeof notificationChannels.$inferSelect;

export const MAX_CHANNELS = 20;

/** SECURITY: Slack URLs and many webhook URLs carry a credential; show only where they point. */
export function urlHint(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return '…';
  }
}

export function toChannel(row: Row): Channel {
  return {
    id: row.id,
    type: row.type,
    name: row.name,
    enabled: row.enabled,
    addresses: row.type === 'email' ? (row.addresses ?? []) : null,
    urlHint: row.url ? urlHint(row.url) : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** SECURITY: outside local development a webhook must use TLS; its body is signed, not secret. */
export function checkHookUrl(config: Config, url: string): void {
  if (!config.webhookAllowHttp && !url.toLowerCase().startsWith('https://')) {
    throw new ApiError('validation_failed', 'Invalid input: url must use https', { url: 'must use https' });
  }
}

export async function listChannels(db: Db, accountId: string): Promise<Channel[]> {
  const rows = await db
    .select()
    .from(notificationChannels)
    .where(eq(notificationChannels.accountId, accountId))
    .orderBy(asc(notificationChannels.createdAt), asc(notificationChannels.id));
  return rows.map(toChannel);
}

export async function findChannel(db: Db, accountId: string, id: string): Promise<Row> {
  const [row] = await db
    .select()
    .from(notificationChannels)
    .where(and(eq(notificationChannels.id, id), eq(notificationChannels.accountId, accountId)));
  if (!row) throw notFound('channel');
  return row;
}

type CreateInput =
  | { type: 'email'; name: string; enabled?: boolean | undefined; addresses: string[] }
  | { type: 'slack' | 'webhook'; name: string; enabled?: boolean | undefined; url: string };

export async function createChannel(
  db: Db,
  config: Config,
  accountId: string,
  input: CreateInput,
  now: Date,
): Promise<CreatedChannel> {
  if (input.type !== 'email') checkHookUrl(config, input.url);
  const [n] = await db
    .select({ n: count() })
    .from(notificationChannels)
    .where(eq(notificationChannels.accountId, accountId));
  if ((n?.n ?? 0) >= MAX_CHANNELS)
    throw new ApiError('conflict', `An account can have at most ${MAX_CHANNELS} channels; delete one first`);
  // SECURITY: 256 random bits, shown once; the receiver keys its HMAC check with it.
  const secret = input.type === 'webhook' ? `whsec_${randomToken()}` : null;
  const [row] = await db
    .insert(notificationChannels)
    .values({
      accountId,
      type: input.type,
      name: input.name,
      enabled: input.enabled ?? true,
      addresses: input.type === 'email' ? [...new Set(input.addresses)] : null,
      url: input.type === 'email' ? null : input.url,
      signingSecret: secret,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return { channel: toChannel(row!), secret };
}

export async function updateChannel(
  db: Db,
  config: Config,
  accountId: string,
  id: string,
  patch: {
    name?: string | undefined;
    enabled?: boolean | undefined;
    addresses?: string[] | undefined;
    url?: string | undefined;
  },
  now: Date,
): Promise<Channel> {
  const current = await findChannel(db, accountId, id);
  if (patch.addresses !== undefined && current.type !== 'email') {
    throw new ApiError('validation_failed', 'Invalid input: addresses belong to e-mail channels', {
      addresses: 'only for e-mail channels',
    });
  }
  if (patch.url !== undefined) {
    if (current.type === 'email')
      throw new ApiError('validation_failed', 'Invalid input: url belongs to Slack and webhook channels', {
        url: 'only for Slack and webhook channels',
      });
    checkHookUrl(config, patch.url);
  }
  const [row] = await db
    .update(notificationChannels)
    .set({
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.enabled !== undefined && { enabled: patch.enabled }),
      ...(patch.addresses !== undefined && { addresses: [...new Set(patch.addresses)] }),
      ...(patch.url !== undefined && { url: patch.url }),
      updatedAt: now,
    })
    .where(and(eq(notificationChannels.id, current.id), eq(notificationChannels.accountId, accountId)))
    .returning();
  if (!row) throw notFound('channel');
  return toChannel(row);
}

/** Its pending messages fail with a reason the user can read; the log keeps them. */
export async function deleteChannel(db: Db, accountId: string, id: string): Promise<void> {
  const current = await findChannel(db, accountId, id);
  await db.transaction(async (tx) => {
    await tx
      .update(notificationDeliveries)
      .set({
        status: 'failed',
        lastError: 'The channel was deleted before this message was delivered',
        nextAttemptAt: null,
      })
      .where(
        and(eq(notificationDeliveries.channelId, current.id), eq(notificationDeliveries.status, 'pending')),
      );
    await tx
      .delete(notificationChannels)
      .where(and(eq(notificationChannels.id, current.id), eq(notificationChannels.accountId, accountId)));
  });
}
