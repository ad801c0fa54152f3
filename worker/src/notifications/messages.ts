// What a notification says, rendered from the event snapshot the outbox stored.
import type { WebhookEvent } from '@resistro/contract';

type EventAlert = NonNullable<WebhookEvent['alert']>;

function when(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

function alertsLink(appOrigin: string | undefined): string | undefined {
  return appOrigin ? `${appOrigin}/alerts` : undefined;
}

export function emailSubject(event: WebhookEvent): string {
  const a = event.alert;
  if (event.type === 'test' || !a) return '[Resistro] Test notification';
  if (event.type === 'alert.resolved') return `[Resistro] Resolved: ${a.title}`;
  return `[Resistro] ${a.severity === 'critical' ? 'CRITICAL' : 'Warning'}: ${a.title}`;
}

function alertLines(a: EventAlert): string[] {
  return [
    a.detail,
    '',
    `Opened:   ${when(a.openedAt)}`,
    ...(a.resolvedAt ? [`Resolved: ${when(a.resolvedAt)}`] : []),
    `Subject:  ${a.subject.type} "${a.subject.name}"`,
    `Severity: ${a.severity}`,
  ];
}

export function emailText(event: WebhookEvent, appOrigin: string | undefined): string {
  const a = event.alert;
  const link = alertsLink(appOrigin);
  const lines =
    event.type === 'test' || !a
      ? [
          'This is a test notification from Resistro.',
          '',
          'If you can read it, this channel works and will receive your alerts.',
        ]
      : event.type === 'alert.resolved'
        ? [
            `Resolved: ${a.title}`,
            '',
            'The condition has cleared; no action is needed.',
            '',
            ...alertLines(a),
          ]
        : [`${a.title}`, '', ...alertLines(a)];
  if (link) lines.push('', `Alerts in the dashboard: ${link}`);
  lines.push('', '--', 'You receive this because the address is set for the alerts of a Resistro account.');
  return lines.join('\n');
}

/** Slack mrkdwn; the characters Slack treats as markup are escaped. */
export function slackText(event: WebhookEvent, appOrigin: string | undefined): string {
  const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  const a = event.alert;
  const link = alertsLink(appOrigin);
  const tail = link ? `\n<${link}|Open alerts in Resistro>` : '';
  if (event.type === 'test' || !a)
    return `:wave: Test notification from Resistro: this channel works.${tail}`;
  if (event.type === 'alert.resolved') return `:white_check_mark: *Resolved:* ${esc(a.title)}${tail}`;
  const icon = a.severity === 'critical' ? ':red_circle: *CRITICAL*' : ':warning: *Warning*';
  return `${icon} ${esc(a.title)}\n${esc(a.detail)}${tail}`;
}
