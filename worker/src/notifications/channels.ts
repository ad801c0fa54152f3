// Notification channels: extra e-mail recipients, Slack-compatible webhooks, signed JSON webhooks,
// PagerDuty services, Microsoft Teams workflows and syslog collectors.
import {
  type Channel,
  type CreateChannelBody,
  type CreatedChannel,
  PAGERDUTY_EVENTS_URL,
  type UpdateChannelBody,
} from '@resistro/contract';
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
    // SECURITY: enough to tell two keys apart, not enough to use one.
    routingKeyHint: row.routingKey ? `…${row.routingKey.slice(-4)}` : null,
    syslog:
      row.type === 'syslog' && row.syslogHost && row.syslogPort && row.syslogTransport
        ? { host: row.syslogHost, port: row.syslogPort, transport: row.syslogTransport }
        : null,
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

type CreateInput = CreateChannelBody;

/** The channel types that post to a URL. */
const URL_TYPES: ReadonlySet<string> = new Set(['slack', 'webhook', 'teams', 'pagerduty']);

function fieldFor(type: string, field: 'addresses' | 'url' | 'routingKey' | 'syslog'): boolean {
  if (field === 'addresses') return type === 'email';
  if (field === 'url') return URL_TYPES.has(type);
  if (field === 'routingKey') return type === 'pagerduty';
  return type === 'syslog';
}

const FIELD_OWNERS = {
  addresses: 'only for e-mail channels',
  url: 'only for Slack, webhook, Teams and PagerDuty channels',
} as const;

export async function createChannel(
  db: Db,
  config: Config,
  accountId: string,
  input: CreateInput,
  now: Date,
): Promise<CreatedChannel> {
  const url =
    input.type === 'pagerduty' ? (input.url ?? PAGERDUTY_EVENTS_URL) : 'url' in input ? input.url : null;
  if (url) checkHookUrl(config, url);
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
      url,
      signingSecret: secret,
      routingKey: input.type === 'pagerduty' ? input.routingKey : null,
      syslogHost: input.type === 'syslog' ? input.host : null,
      syslogPort: input.type === 'syslog' ? input.port : null,
      syslogTransport: input.type === 'syslog' ? input.transport : null,
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
  patch: UpdateChannelBody,
  now: Date,
): Promise<Channel> {
  const current = await findChannel(db, accountId, id);
  const given = {
    addresses: patch.addresses !== undefined,
    url: patch.url !== undefined,
    routingKey: patch.routingKey !== undefined,
    syslog: patch.host !== undefined || patch.port !== undefined || patch.transport !== undefined,
  };
  // The integration key and the collector of another type's channel: the request is fine, the
  // channel is the wrong one (409, as a state); addresses and url keep their field errors.
  for (const field of ['routingKey', 'syslog'] as const) {
    if (given[field] && !fieldFor(current.type, field))
      throw new ApiError(
        'conflict',
        field === 'syslog'
          ? 'host, port and transport belong to syslog channels; this channel is of another type'
          : 'routingKey belongs to PagerDuty channels; this channel is of another type',
      );
  }
  for (const field of ['addresses', 'url'] as const) {
    if (given[field] && !fieldFor(current.type, field)) {
      throw new ApiError('validation_failed', `Invalid input: ${field} ${FIELD_OWNERS[field]}`, {
        [field]: FIELD_OWNERS[field],
      });
    }
  }
  if (patch.url !== undefined) checkHookUrl(config, patch.url);
  const [row] = await db
    .update(notificationChannels)
    .set({
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.enabled !== undefined && { enabled: patch.enabled }),
      ...(patch.addresses !== undefined && { addresses: [...new Set(patch.addresses)] }),
      ...(patch.url !== undefined && { url: patch.url }),
      ...(patch.routingKey !== undefined && { routingKey: patch.routingKey }),
      ...(patch.host !== undefined && { syslogHost: patch.host }),
      ...(patch.port !== undefined && { syslogPort: patch.port }),
      ...(patch.transport !== undefined && { syslogTransport: patch.transport }),
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
