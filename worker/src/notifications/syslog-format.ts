// An alert as one RFC 5424 syslog message, framed by octet counting (RFC 6587 §3.4.1 for TCP,
// RFC 5425 §4.3 for TLS): "<length> <message>", so a message may hold any byte, newlines included.
import type { WebhookEvent } from '@resistro/contract';
import type { Locale } from '../i18n/language.ts';
import { alertsLink, messageTitle } from './messages.ts';

/** local0: the facility collectors conventionally leave to applications. */
export const SYSLOG_FACILITY = 16;
/**
 * The SD-ID's enterprise number. 32473 is the number RFC 5612 reserves for documentation; we have
 * no number of our own, and a collector matches on the whole "resistro@32473" anyway.
 */
export const SD_ID = 'resistro@32473';

/** RFC 5424 severities: 2 critical, 4 warning, 5 notice, 6 informational. */
export function syslogSeverity(event: WebhookEvent): number {
  if (event.type === 'test' || !event.alert) return 6;
  if (event.type === 'alert.resolved') return 5;
  return event.alert.severity === 'critical' ? 2 : 4;
}

/** PARAM-VALUE escaping (RFC 5424 §6.3.3): '"', '\' and ']' get a backslash. */
function sdValue(s: string): string {
  return s.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** HOSTNAME, APP-NAME and MSGID are printable US-ASCII without spaces, at most 255/48/32 long. */
function token(s: string, max: number): string {
  const clean = s.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return clean || '-';
}

export function syslogMessage(
  event: WebhookEvent,
  appOrigin: string | undefined,
  locale: Locale,
  hostname: string,
): string {
  const pri = SYSLOG_FACILITY * 8 + syslogSeverity(event);
  const a = event.alert;
  const params: Array<[string, string]> = [
    ['event', event.type],
    ['eventId', event.id],
    ['account', event.accountId],
  ];
  if (a) {
    params.push(
      ['alertId', a.id],
      ['kind', a.kind],
      ['severity', a.severity],
      ['subjectType', a.subject.type],
      ['subjectId', a.subject.id],
      ['subject', a.subject.name],
    );
  }
  const sd = `[${SD_ID} ${params.map(([k, v]) => `${k}="${sdValue(v)}"`).join(' ')}]`;
  const link = alertsLink(appOrigin, a);
  const text = [messageTitle(event, locale), a?.detail, link].filter(Boolean).join(' — ');
  // The BOM tells the collector the MSG is UTF-8 (RFC 5424 §6.4).
  return `<${pri}>1 ${event.createdAt} ${token(hostname, 255)} resistro - ${token(event.type, 32)} ${sd} \uFEFF${text}`;
}

/** Octet-counting frame: the byte length of the UTF-8 message, a space, the message. */
export function frameOctetCounted(message: string): Uint8Array {
  const body = new TextEncoder().encode(message);
  const head = new TextEncoder().encode(`${body.length} `);
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}
