import {
  CHANNEL_TYPES,
  DELIVERY_STATUSES,
  NOTIFICATION_EVENTS,
  SYSLOG_TRANSPORTS,
  type WebhookEvent,
} from '@resistro/contract';
import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { accounts } from '../accounts/accounts.sql.ts';
import { alerts } from '../alerts/alerts.sql.ts';
import { ts } from '../lib/columns.ts';

export const notificationChannels = pgTable(
  'notification_channels',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    type: text('type', { enum: CHANNEL_TYPES }).notNull(),
    name: text('name').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    addresses: jsonb('addresses').$type<string[]>(),
    /** SECURITY: Slack URLs carry their credential in the path; the API shows only a hint */
    url: text('url'),
    /**
     * SECURITY: the webhook HMAC key. It must be readable to sign, so it cannot be hashed; it is
     * shown to the user once and never returned again.
     */
    signingSecret: text('signing_secret'),
    /** SECURITY: the PagerDuty integration key; needed in clear to send, never returned by the API */
    routingKey: text('routing_key'),
    /** syslog channels: the customer's collector */
    syslogHost: text('syslog_host'),
    syslogPort: integer('syslog_port'),
    syslogTransport: text('syslog_transport', { enum: SYSLOG_TRANSPORTS }),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('notification_channels_account_idx').on(t.accountId)],
);

/**
 * The outbox: one row per message and recipient. The cron claims due rows, sends them and either
 * marks them delivered or schedules the next attempt with backoff; after the last attempt they are
 * failed, and stay visible in the delivery log.
 */
export const notificationDeliveries = pgTable(
  'notification_deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    /** null for the account's own alert e-mail addresses, or when the channel was deleted */
    channelId: uuid('channel_id').references(() => notificationChannels.id, { onDelete: 'set null' }),
    channelType: text('channel_type', { enum: CHANNEL_TYPES }).notNull(),
    /** e-mail address, or the channel's name (never its URL) */
    target: text('target').notNull(),
    event: text('event', { enum: NOTIFICATION_EVENTS }).notNull(),
    alertId: uuid('alert_id').references(() => alerts.id, { onDelete: 'set null' }),
    /** the event as it was when it happened; every message is rendered from it */
    payload: jsonb('payload').$type<WebhookEvent>().notNull(),
    status: text('status', { enum: DELIVERY_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** pending: when it is due; while a run sends it, the end of that run's lease */
    nextAttemptAt: ts('next_attempt_at'),
    lastError: text('last_error'),
    deliveredAt: ts('delivered_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('notification_deliveries_due_idx').on(t.nextAttemptAt).where(sql`status = 'pending'`),
    index('notification_deliveries_account_created_idx').on(t.accountId, t.createdAt.desc(), t.id.desc()),
    index('notification_deliveries_created_idx').on(t.createdAt),
  ],
);
