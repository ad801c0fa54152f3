// Alerts, notification channels, the delivery log and the metrics token: the schemas of
// /api/v1/alerts, /channels, /notifications and /metrics-token. Browser-safe: valibot only.
import * as v from 'valibot';
import { Cursor, Limit } from './page.ts';
import { Email, Id } from './schemas.ts';
import { Text, Timestamp } from './text.ts';

const Name = v.pipe(Text, v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(100, 'is too long'));

// ---------- alerts ----------
/**
 * missed: a scheduled backup did not start within its grace window;
 * offline: an agent sent no heartbeat for 5 minutes; failing: consecutive failed backups;
 * size_drop: a successful backup ≥ 50 % smaller than the median of the previous ones;
 * storage_high / storage_full: usage over 80 % / 100 % of the plan's quota;
 * restore_test_failed: the newest restore test of a database failed or could not finish;
 * restore_test_stale: no restore test of a database passed for its N days (settings).
 * pitr_gap: the log of a continuously protected server has a hole (a segment never uploaded or
 * gone from storage); pitr_lag: the log reaches storage later than the RPO target;
 * pitr_slot: the server's replication slot holds back WAL close to what its disk or limit allows.
 * pitr_retention: MariaDB/MySQL: the agent's lag has used half of the server's binlog retention.
 * copy_failed: a backup's copy in the second storage location failed or is missing.
 */
export const ALERT_KINDS = [
  'missed',
  'offline',
  'failing',
  'size_drop',
  'storage_high',
  'storage_full',
  'restore_test_failed',
  'restore_test_stale',
  'pitr_gap',
  'pitr_lag',
  'pitr_slot',
  'pitr_retention',
  'copy_failed',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export const ALERT_SEVERITIES = ['warning', 'critical'] as const;
export const ALERT_SUBJECT_TYPES = ['database', 'agent', 'account'] as const;

export const Alert = v.object({
  id: Id,
  kind: v.picklist(ALERT_KINDS),
  severity: v.picklist(ALERT_SEVERITIES),
  subject: v.object({ type: v.picklist(ALERT_SUBJECT_TYPES), id: Id, name: v.string() }),
  title: v.string(),
  detail: v.string(),
  openedAt: Timestamp,
  resolvedAt: v.nullable(Timestamp),
  acknowledgedAt: v.nullable(Timestamp),
});
export const AlertList = v.object({ items: v.array(Alert), nextCursor: v.nullable(v.string()) });
export const ALERT_STATUS_FILTERS = ['open', 'resolved', 'all'] as const;
export const ListAlertsQuery = v.strictObject({
  status: v.optional(v.picklist(ALERT_STATUS_FILTERS, 'must be open, resolved or all')),
  kind: v.optional(v.picklist(ALERT_KINDS, `must be one of ${ALERT_KINDS.join(', ')}`)),
  /** the database, agent or account the alerts are about */
  subjectId: v.optional(Id),
  cursor: v.optional(Cursor),
  limit: v.optional(Limit),
});
export type ListAlertsQuery = v.InferInput<typeof ListAlertsQuery>;
export const AlertResponse = v.object({ alert: Alert });

// ---------- notification channels ----------
export const CHANNEL_TYPES = ['email', 'slack', 'webhook', 'pagerduty', 'teams', 'syslog'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];
/** Workers can open TCP (and TLS over it) but no UDP sockets: syslog goes over TCP or TLS. */
export const SYSLOG_TRANSPORTS = ['tcp', 'tls'] as const;
export type SyslogTransport = (typeof SYSLOG_TRANSPORTS)[number];
/** PagerDuty's Events API v2 endpoint (the EU service uses events.eu.pagerduty.com). */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

const HookUrl = v.pipe(
  Text,
  v.trim(),
  v.maxLength(2000, 'is too long'),
  v.url('must be a URL'),
  v.regex(/^https?:\/\//i, 'must be an http(s) URL'),
);
const Addresses = v.pipe(
  v.array(Email),
  v.minLength(1, 'must list at least one address'),
  v.maxLength(10, 'at most 10 addresses'),
);
const Enabled = v.optional(v.boolean('must be true or false'));
/** SECURITY: the integration key of a PagerDuty service; whoever has it can open incidents there. */
const RoutingKey = v.pipe(
  Text,
  v.trim(),
  v.regex(/^[A-Za-z0-9]{32}$/, 'must be the 32-character integration key of a PagerDuty service'),
);
const SyslogHost = v.pipe(
  Text,
  v.trim(),
  v.minLength(1, 'must not be empty'),
  v.maxLength(253, 'is too long'),
  v.regex(/^[A-Za-z0-9._:[\]-]+$/, 'must be a host name or IP address'),
);
const SyslogPort = v.pipe(
  v.number('must be a number'),
  v.integer('must be a whole number'),
  v.minValue(1, 'must be 1–65535'),
  v.maxValue(65535, 'must be 1–65535'),
);
const SyslogTransportSchema = v.picklist(
  SYSLOG_TRANSPORTS,
  'must be tcp or tls (Cloudflare Workers cannot send UDP)',
);

export const CreateChannelBody = v.variant(
  'type',
  [
    v.strictObject({ type: v.literal('email'), name: Name, enabled: Enabled, addresses: Addresses }),
    v.strictObject({ type: v.literal('slack'), name: Name, enabled: Enabled, url: HookUrl }),
    v.strictObject({ type: v.literal('webhook'), name: Name, enabled: Enabled, url: HookUrl }),
    v.strictObject({
      type: v.literal('pagerduty'),
      name: Name,
      enabled: Enabled,
      routingKey: RoutingKey,
      /** the Events API v2 endpoint; PAGERDUTY_EVENTS_URL when absent */
      url: v.optional(HookUrl),
    }),
    v.strictObject({ type: v.literal('teams'), name: Name, enabled: Enabled, url: HookUrl }),
    v.strictObject({
      type: v.literal('syslog'),
      name: Name,
      enabled: Enabled,
      host: SyslogHost,
      port: SyslogPort,
      transport: SyslogTransportSchema,
    }),
  ],
  'must be an email, slack, webhook, pagerduty, teams or syslog channel',
);
/**
 * `addresses` only for e-mail channels, `url` for Slack, webhook, Teams and PagerDuty channels,
 * `routingKey` for PagerDuty, `host`/`port`/`transport` for syslog.
 */
export const UpdateChannelBody = v.strictObject({
  name: v.optional(Name),
  enabled: Enabled,
  addresses: v.optional(Addresses),
  url: v.optional(HookUrl),
  routingKey: v.optional(RoutingKey),
  host: v.optional(SyslogHost),
  port: v.optional(SyslogPort),
  transport: v.optional(SyslogTransportSchema),
});
export const SyslogTarget = v.object({
  host: v.string(),
  port: v.number(),
  transport: v.picklist(SYSLOG_TRANSPORTS),
});
export const Channel = v.object({
  id: Id,
  type: v.picklist(CHANNEL_TYPES),
  name: v.string(),
  enabled: v.boolean(),
  /** e-mail channels: the recipients */
  addresses: v.nullable(v.array(v.string())),
  /** Slack, webhook, Teams and PagerDuty channels: the URL with its path hidden (it often carries a secret) */
  urlHint: v.nullable(v.string()),
  /** PagerDuty channels: the last 4 characters of the integration key, e.g. "…a1b2" */
  routingKeyHint: v.optional(v.nullable(v.string()), null),
  /** syslog channels: where the messages go */
  syslog: v.optional(v.nullable(SyslogTarget), null),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export const ChannelList = v.object({ items: v.array(Channel) });
/** `secret` is the webhook signing secret, shown once at creation (null for other types). */
export const CreatedChannel = v.object({ channel: Channel, secret: v.nullable(v.string()) });

// ---------- delivery log ----------
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export const NOTIFICATION_EVENTS = ['alert.opened', 'alert.resolved', 'test'] as const;
export type NotificationEventType = (typeof NOTIFICATION_EVENTS)[number];

export const Delivery = v.object({
  id: Id,
  channelId: v.nullable(Id),
  channelType: v.picklist(CHANNEL_TYPES),
  /** the e-mail address, or the channel's name for Slack and webhooks */
  target: v.string(),
  event: v.picklist(NOTIFICATION_EVENTS),
  alertId: v.nullable(Id),
  status: v.picklist(DELIVERY_STATUSES),
  attempts: v.number(),
  lastError: v.nullable(v.string()),
  nextAttemptAt: v.nullable(Timestamp),
  deliveredAt: v.nullable(Timestamp),
  createdAt: Timestamp,
});
export const DeliveryList = v.object({ items: v.array(Delivery), nextCursor: v.nullable(v.string()) });
export const ListDeliveriesQuery = v.strictObject({
  status: v.optional(v.picklist(DELIVERY_STATUSES, 'must be pending, delivered or failed')),
  channelId: v.optional(Id),
  /** the notifications of one alert */
  alertId: v.optional(Id),
  cursor: v.optional(Cursor),
  limit: v.optional(Limit),
});
export const TestChannelResponse = v.object({ deliveries: v.array(Delivery) });

/** The JSON body of a webhook delivery; see docs/webhooks.md for the signature. */
export const WebhookEvent = v.object({
  id: Id,
  type: v.picklist(NOTIFICATION_EVENTS),
  createdAt: Timestamp,
  accountId: Id,
  alert: v.nullable(Alert),
});

// ---------- metrics token ----------
export const MetricsToken = v.object({
  prefix: v.string(),
  createdAt: Timestamp,
  lastUsedAt: v.nullable(Timestamp),
});
export const MetricsTokenInfo = v.object({ token: v.nullable(MetricsToken) });
/** `secret` is shown once; creating again rotates (the old token stops working at once). */
export const CreatedMetricsToken = v.object({ token: MetricsToken, secret: v.string() });

export type Alert = v.InferOutput<typeof Alert>;
export type AlertList = v.InferOutput<typeof AlertList>;
export type CreateChannelBody = v.InferInput<typeof CreateChannelBody>;
export type UpdateChannelBody = v.InferInput<typeof UpdateChannelBody>;
export type Channel = v.InferOutput<typeof Channel>;
export type CreatedChannel = v.InferOutput<typeof CreatedChannel>;
export type Delivery = v.InferOutput<typeof Delivery>;
export type DeliveryList = v.InferOutput<typeof DeliveryList>;
export type WebhookEvent = v.InferOutput<typeof WebhookEvent>;
export type MetricsToken = v.InferOutput<typeof MetricsToken>;
export type CreatedMetricsToken = v.InferOutput<typeof CreatedMetricsToken>;
