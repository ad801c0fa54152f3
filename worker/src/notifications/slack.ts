// Slack-compatible incoming webhooks (Slack, Mattermost, Rocket.Chat, Discord's /slack URL):
// a JSON POST of { text } with Slack's mrkdwn.
import type { WebhookEvent } from '@resistro/contract';
import type { Locale } from '../i18n/language.ts';
import { slackText } from './messages.ts';
import { post } from './notifier.ts';

export async function sendSlack(
  url: string,
  event: WebhookEvent,
  appOrigin: string | undefined,
  locale: Locale,
): Promise<void> {
  await post(
    url,
    JSON.stringify({ text: slackText(event, appOrigin, locale) }),
    { 'content-type': 'application/json' },
    'Slack webhook',
  );
}
