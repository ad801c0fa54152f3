// What a notification says, rendered at send time from the event snapshot the outbox stored, in
// the account's language, with times in its time zone. The alert's own title and detail come from
// its kind and facts (i18n/alert-text.ts); this file writes the frame around them.
import type { WebhookEvent } from '@resistro/contract';
import { localizeAlert } from '../alerts/localize.ts';
import type { AlertSource } from '../i18n/alert-text.ts';
import { formatDateTime } from '../i18n/format.ts';
import type { Language, Locale } from '../i18n/language.ts';

type EventAlert = NonNullable<WebhookEvent['alert']>;

const TEXT = {
  en: {
    testSubject: 'Test notification',
    resolved: 'Resolved',
    critical: 'CRITICAL',
    warning: 'Warning',
    testBody: [
      'This is a test notification from Resistro.',
      '',
      'If you can read it, this channel works and will receive your alerts.',
    ],
    cleared: 'The condition has cleared; no action is needed.',
    opened: 'Opened:  ',
    resolvedAt: 'Resolved:',
    subject: 'Subject: ',
    severity: 'Severity:',
    subjectTypes: { database: 'database', agent: 'agent', account: 'account' },
    severities: { critical: 'critical', warning: 'warning' },
    openAlert: 'Open the alert in the dashboard',
    openAlerts: 'Alerts in the dashboard',
    footer: 'You receive this because the address is set for the alerts of a Resistro account.',
    slackTest: 'Test notification from Resistro: this channel works.',
    slackOpenAlert: 'Open the alert in Resistro',
    slackOpenAlerts: 'Open alerts in Resistro',
  },
  de: {
    testSubject: 'Testbenachrichtigung',
    resolved: 'Behoben',
    critical: 'KRITISCH',
    warning: 'Warnung',
    testBody: [
      'Dies ist eine Testbenachrichtigung von Resistro.',
      '',
      'Wenn Sie sie lesen können, funktioniert dieser Kanal und erhält Ihre Alarme.',
    ],
    cleared: 'Die Ursache besteht nicht mehr; Sie müssen nichts tun.',
    opened: 'Ausgelöst:',
    resolvedAt: 'Behoben:  ',
    subject: 'Betrifft:  ',
    severity: 'Schwere:   ',
    subjectTypes: { database: 'Datenbank', agent: 'Agent', account: 'Konto' },
    severities: { critical: 'kritisch', warning: 'Warnung' },
    openAlert: 'Den Alarm im Dashboard öffnen',
    openAlerts: 'Alarme im Dashboard',
    footer:
      'Sie erhalten diese Nachricht, weil die Adresse für die Alarme eines Resistro-Kontos eingetragen ist.',
    slackTest: 'Testbenachrichtigung von Resistro: Dieser Kanal funktioniert.',
    slackOpenAlert: 'Den Alarm in Resistro öffnen',
    slackOpenAlerts: 'Alarme in Resistro öffnen',
  },
} satisfies Record<Language, unknown>;

/** The event as this account reads it: the alert's title, detail and subject in its language. */
export function localizeEvent(
  event: WebhookEvent,
  source: AlertSource | undefined,
  locale: Locale,
): WebhookEvent {
  return event.alert ? { ...event, alert: localizeAlert(event.alert, source, locale) } : event;
}

/** The alert's own page in the dashboard (the alerts list for a test message). */
export function alertsLink(appOrigin: string | undefined, alert?: EventAlert | null): string | undefined {
  if (!appOrigin) return undefined;
  return alert ? `${appOrigin}/alerts/${alert.id}` : `${appOrigin}/alerts`;
}

/** One line naming what happened, for channels with a title (PagerDuty, Teams, syslog). */
export function messageTitle(event: WebhookEvent, locale: Locale): string {
  const t = TEXT[locale.language];
  const a = event.alert;
  if (event.type === 'test' || !a) return t.slackTest;
  if (event.type === 'alert.resolved') return `${t.resolved}: ${a.title}`;
  return `${a.severity === 'critical' ? t.critical : t.warning}: ${a.title}`;
}

/** The alert's facts as label/value pairs (Teams shows them as a table). */
export function alertFacts(a: EventAlert, locale: Locale): Array<[string, string]> {
  const t = TEXT[locale.language];
  const when = (iso: string) => formatDateTime(new Date(iso), locale);
  const label = (s: string) => s.replace(/:\s*$/, '').trim();
  return [
    [label(t.opened), when(a.openedAt)],
    ...(a.resolvedAt ? [[label(t.resolvedAt), when(a.resolvedAt)] as [string, string]] : []),
    [label(t.subject), `${t.subjectTypes[a.subject.type]} ${a.subject.name}`],
    [label(t.severity), t.severities[a.severity]],
  ];
}

/** The words of the dashboard link. */
export function linkText(a: EventAlert | null | undefined, locale: Locale): string {
  const t = TEXT[locale.language];
  return a ? t.slackOpenAlert : t.slackOpenAlerts;
}

export function emailSubject(event: WebhookEvent, locale: Locale): string {
  const t = TEXT[locale.language];
  const a = event.alert;
  if (event.type === 'test' || !a) return `[Resistro] ${t.testSubject}`;
  if (event.type === 'alert.resolved') return `[Resistro] ${t.resolved}: ${a.title}`;
  return `[Resistro] ${a.severity === 'critical' ? t.critical : t.warning}: ${a.title}`;
}

function alertLines(a: EventAlert, locale: Locale): string[] {
  const t = TEXT[locale.language];
  const when = (iso: string) => formatDateTime(new Date(iso), locale);
  return [
    a.detail,
    '',
    `${t.opened} ${when(a.openedAt)}`,
    ...(a.resolvedAt ? [`${t.resolvedAt} ${when(a.resolvedAt)}`] : []),
    `${t.subject} ${t.subjectTypes[a.subject.type]} ${locale.language === 'de' ? `„${a.subject.name}“` : `"${a.subject.name}"`}`,
    `${t.severity} ${t.severities[a.severity]}`,
  ];
}

export function emailText(event: WebhookEvent, appOrigin: string | undefined, locale: Locale): string {
  const t = TEXT[locale.language];
  const a = event.alert;
  const link = alertsLink(appOrigin, a);
  const lines =
    event.type === 'test' || !a
      ? [...t.testBody]
      : event.type === 'alert.resolved'
        ? [`${t.resolved}: ${a.title}`, '', t.cleared, '', ...alertLines(a, locale)]
        : [a.title, '', ...alertLines(a, locale)];
  if (link) lines.push('', `${a ? t.openAlert : t.openAlerts}: ${link}`);
  lines.push('', '--', t.footer);
  return lines.join('\n');
}

/** Slack mrkdwn; the characters Slack treats as markup are escaped. */
export function slackText(event: WebhookEvent, appOrigin: string | undefined, locale: Locale): string {
  const t = TEXT[locale.language];
  const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  const a = event.alert;
  const link = alertsLink(appOrigin, a);
  const tail = link ? `\n<${link}|${a ? t.slackOpenAlert : t.slackOpenAlerts}>` : '';
  if (event.type === 'test' || !a) return `:wave: ${t.slackTest}${tail}`;
  if (event.type === 'alert.resolved') return `:white_check_mark: *${t.resolved}:* ${esc(a.title)}${tail}`;
  const icon = a.severity === 'critical' ? `:red_circle: *${t.critical}*` : `:warning: *${t.warning}*`;
  return `${icon} ${esc(a.title)}\n${esc(a.detail)}${tail}`;
}
