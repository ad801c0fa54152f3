// Microsoft Teams: a Workflows "When a Teams webhook request is received" URL (and the older
// incoming-webhook connectors, which take the same message) gets an Adaptive Card.
import type { WebhookEvent } from '@resistro/contract';
import type { Locale } from '../i18n/language.ts';
import { alertFacts, alertsLink, linkText, messageTitle } from './messages.ts';
import { post } from './notifier.ts';

export function teamsMessage(event: WebhookEvent, appOrigin: string | undefined, locale: Locale) {
  const a = event.alert;
  const link = alertsLink(appOrigin, a);
  const color = !a
    ? 'Accent'
    : event.type === 'alert.resolved'
      ? 'Good'
      : a.severity === 'critical'
        ? 'Attention'
        : 'Warning';
  const body: unknown[] = [
    {
      type: 'TextBlock',
      text: messageTitle(event, locale),
      weight: 'Bolder',
      size: 'Medium',
      wrap: true,
      color,
    },
  ];
  if (a) {
    body.push({ type: 'TextBlock', text: a.detail, wrap: true });
    body.push({ type: 'FactSet', facts: alertFacts(a, locale).map(([title, value]) => ({ title, value })) });
  }
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
          ...(link && { actions: [{ type: 'Action.OpenUrl', title: linkText(a, locale), url: link }] }),
        },
      },
    ],
  };
}

export async function sendTeams(
  url: string,
  event: WebhookEvent,
  appOrigin: string | undefined,
  locale: Locale,
): Promise<void> {
  await post(
    url,
    JSON.stringify(teamsMessage(event, appOrigin, locale)),
    { 'content-type': 'application/json' },
    'Teams webhook',
  );
}
