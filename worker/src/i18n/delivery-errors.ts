// Why a notification was not delivered, as the delivery log shows it: stored in English when the
// send failed, shown in the reader's language. The receiver's own answer (in parentheses) stays
// as it came.
import type { Delivery } from '@resistro/contract';
import { type CatalogEntry, createCatalog } from './api-messages.ts';
import type { Language } from './language.ts';

const WHAT_DE: Record<string, string> = {
  webhook: 'Webhook',
  'Slack webhook': 'Slack-Webhook',
  'e-mail provider': 'E-Mail-Anbieter',
  'Amazon SES': 'Amazon SES',
  PagerDuty: 'PagerDuty',
  'Teams webhook': 'Teams-Webhook',
  'syslog over TCP': 'Syslog über TCP',
  'syslog over TLS': 'Syslog über TLS',
};
const what = (w: string | undefined) => (w && WHAT_DE[w]) ?? w ?? '';

const DELIVERY_ERRORS: Record<string, CatalogEntry> = {
  'The channel was deleted before this message was delivered': {
    de: 'Der Kanal wurde gelöscht, bevor diese Nachricht zugestellt war',
  },
  'The channel was disabled before this message was delivered': {
    de: 'Der Kanal wurde deaktiviert, bevor diese Nachricht zugestellt war',
  },
  'Internal error while sending; it has been logged': {
    de: 'Interner Fehler beim Senden; er wurde protokolliert',
  },
  'The channel has no URL': { de: 'Der Kanal hat keine URL' },
  'The channel URL must use https': { de: 'Die URL des Kanals muss https verwenden' },
  'The channel has no signing secret': { de: 'Der Kanal hat kein Signatur-Geheimnis' },
  'The channel has no PagerDuty integration key': {
    de: 'Der Kanal hat keinen PagerDuty-Integrationsschlüssel',
  },
  'The channel has no syslog collector': { de: 'Der Kanal hat keinen Syslog-Collector' },
  'This service has no e-mail provider configured (EMAIL_PROVIDER); ask its operator': {
    de: 'Für diesen Dienst ist kein E-Mail-Anbieter eingerichtet (EMAIL_PROVIDER); wenden Sie sich an den Betreiber',
  },
  '{what}: connection failed': { de: (p) => `${what(p.what)}: Verbindung fehlgeschlagen` },
  '{what}: no answer within 10 s': { de: (p) => `${what(p.what)}: keine Antwort innerhalb von 10 s` },
  '{what}: HTTP {rest}': { de: (p) => `${what(p.what)}: HTTP ${p.rest}` },
};

const lookup = createCatalog(DELIVERY_ERRORS);

export function localizeDeliveryError(message: string, language: Language): string {
  return lookup(message, language) ?? message;
}

export function localizeDeliveries<D extends Delivery>(items: D[], language: Language): D[] {
  return items.map((d) =>
    d.lastError ? { ...d, lastError: localizeDeliveryError(d.lastError, language) } : d,
  );
}
