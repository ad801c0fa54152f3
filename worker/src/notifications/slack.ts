// Slack-compatible incoming webhooks (Slack, Mattermost, Rocket.Chat, Discord's /slack URL):
// a JSON POST of { text } with Slack's mrkdwn.
import type { WebhookEvent } from '@resistro/contract';
import { slackText } from './messages.ts';
import { post } from './notifier.ts';

export async function sendSlack(
  url: string,
  event: WebhookEvent,
  appOrigin: string | undefined,
): Promise<void> {
  await post(
    url,
    JSON.stringify({ text: slackText(event, appOrigin) }),
    { 'content-type': 'application/json' },
    'Slack webhook',
  );
}
