// PagerDuty Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/overview/): one
// incident per alert. Its dedup key is derived from the alert id, so "alert.opened" triggers the
// incident and "alert.resolved" resolves that same incident, and a retried trigger does not open a
// second one. A test send triggers an info incident and resolves it right away.
import type { WebhookEvent } from '@resistro/contract';
import type { Locale } from '../i18n/language.ts';
import { alertsLink, messageTitle } from './messages.ts';
import { post } from './notifier.ts';

type Severity = 'critical' | 'error' | 'warning' | 'info';

export type PagerDutyEvent = {
  routing_key: string;
  event_action: 'trigger' | 'resolve';
  dedup_key: string;
  client: string;
  client_url?: string;
  payload?: {
    summary: string;
    source: string;
    severity: Severity;
    timestamp: string;
    component: string;
    group: string;
    class: string;
    custom_details: Record<string, string>;
  };
  links?: Array<{ href: string; text: string }>;
};

/** The same key for every event about one alert; a test gets a key of its own. */
export function pagerDutyDedupKey(event: WebhookEvent): string {
  return event.alert ? `resistro-alert-${event.alert.id}` : `resistro-test-${event.id}`;
}

/** SECURITY: the routing key goes only into the body sent to the configured Events API URL. */
export function pagerDutyEvents(
  routingKey: string,
  event: WebhookEvent,
  appOrigin: string | undefined,
  locale: Locale,
): PagerDutyEvent[] {
  const dedup = pagerDutyDedupKey(event);
  const link = alertsLink(appOrigin, event.alert);
  const base = {
    routing_key: routingKey,
    dedup_key: dedup,
    client: 'Resistro',
    ...(link && { client_url: link }),
  };
  const resolve: PagerDutyEvent = { ...base, event_action: 'resolve' };
  if (event.type === 'alert.resolved') return [resolve];
  const a = event.alert;
  const trigger: PagerDutyEvent = {
    ...base,
    event_action: 'trigger',
    payload: {
      // PagerDuty cuts summaries at 1024 characters; we keep to it rather than be cut mid-word.
      summary: messageTitle(event, locale).slice(0, 1024),
      source: a ? a.subject.name : 'Resistro',
      severity: !a ? 'info' : a.severity === 'critical' ? 'critical' : 'warning',
      timestamp: a?.openedAt ?? event.createdAt,
      component: a ? `${a.subject.type}:${a.subject.id}` : 'resistro',
      group: event.accountId,
      class: a?.kind ?? 'test',
      custom_details: a ? { detail: a.detail, alert_id: a.id, kind: a.kind } : {},
    },
    ...(link && { links: [{ href: link, text: 'Resistro' }] }),
  };
  // A test shows up in PagerDuty and closes itself, so nobody is left with an open incident.
  return event.type === 'test' ? [trigger, resolve] : [trigger];
}

export async function sendPagerDuty(
  url: string,
  routingKey: string,
  event: WebhookEvent,
  appOrigin: string | undefined,
  locale: Locale,
): Promise<void> {
  for (const body of pagerDutyEvents(routingKey, event, appOrigin, locale)) {
    await post(url, JSON.stringify(body), { 'content-type': 'application/json' }, 'PagerDuty');
  }
}
