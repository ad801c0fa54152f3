// One delivery to the notifier its channel type names.
import type { Config } from '../env.ts';
import type { AlertSource } from '../i18n/alert-text.ts';
import type { Locale } from '../i18n/language.ts';
import { sendHttpEmail } from './email-http.ts';
import { sendSesEmail } from './email-ses.ts';
import { emailSubject, emailText, localizeEvent } from './messages.ts';
import type { notificationChannels, notificationDeliveries } from './notifications.sql.ts';
import { DeliveryError, type EmailMessage } from './notifier.ts';
import { sendPagerDuty } from './pagerduty.ts';
import { sendSlack } from './slack.ts';
import { sendSyslog } from './syslog.ts';
import { sendTeams } from './teams.ts';
import { sendWebhook } from './webhook.ts';

type DeliveryRow = typeof notificationDeliveries.$inferSelect;
type ChannelRow = typeof notificationChannels.$inferSelect;

export async function sendEmail(config: Config, message: EmailMessage): Promise<void> {
  switch (config.email.provider) {
    case 'ses':
      return sendSesEmail(config.email, message);
    case 'http':
      return sendHttpEmail(config.email, message);
    default:
      throw new DeliveryError(
        'This service has no e-mail provider configured (EMAIL_PROVIDER); ask its operator',
        { permanent: true },
      );
  }
}

function hookUrl(config: Config, channel: ChannelRow | undefined): string {
  const url = channel?.url;
  if (!url) throw new DeliveryError('The channel has no URL', { permanent: true });
  // SECURITY: checked again at send time: the setting may have changed since the URL was saved.
  if (!config.webhookAllowHttp && !url.toLowerCase().startsWith('https://')) {
    throw new DeliveryError('The channel URL must use https', { permanent: true });
  }
  return url;
}

/** What the outbox knows at send time: the account's locale and the alert the event is about. */
export type SendContext = { locale: Locale; alert: AlertSource | undefined };

export async function sendNotification(
  config: Config,
  row: DeliveryRow,
  channel: ChannelRow | undefined,
  context: SendContext,
): Promise<void> {
  // SECURITY: the text is rendered from the stored snapshot and the alert's own facts; nothing of
  // the channel (URL, secret) goes into it.
  const event = localizeEvent(row.payload, context.alert, context.locale);
  switch (row.channelType) {
    case 'email':
      return sendEmail(config, {
        to: row.target,
        subject: emailSubject(event, context.locale),
        text: emailText(event, config.appOrigin, context.locale),
      });
    case 'slack':
      return sendSlack(hookUrl(config, channel), event, config.appOrigin, context.locale);
    case 'webhook': {
      const url = hookUrl(config, channel);
      if (!channel?.signingSecret)
        throw new DeliveryError('The channel has no signing secret', { permanent: true });
      return sendWebhook(url, channel.signingSecret, event);
    }
    case 'teams':
      return sendTeams(hookUrl(config, channel), event, config.appOrigin, context.locale);
    case 'pagerduty': {
      const url = hookUrl(config, channel);
      if (!channel?.routingKey)
        throw new DeliveryError('The channel has no PagerDuty integration key', { permanent: true });
      return sendPagerDuty(url, channel.routingKey, event, config.appOrigin, context.locale);
    }
    case 'syslog': {
      if (!channel?.syslogHost || !channel.syslogPort || !channel.syslogTransport)
        throw new DeliveryError('The channel has no syslog collector', { permanent: true });
      return sendSyslog(
        { host: channel.syslogHost, port: channel.syslogPort, transport: channel.syslogTransport },
        event,
        config.appOrigin,
        context.locale,
      );
    }
  }
}
