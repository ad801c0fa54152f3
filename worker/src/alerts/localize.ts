// Alerts as the API returns them and notifications carry them, in the account's language: the
// text is rendered from each alert's kind and facts (see i18n/alert-text.ts), read by id. It lives
// with the alerts, which own the rows; i18n/ depends on no feature folder.
import type { Alert } from '@resistro/contract';
import { inArray } from 'drizzle-orm';
import type { DbOrTx } from '../db.ts';
import { type AlertSource, alertText } from '../i18n/alert-text.ts';
import type { Locale } from '../i18n/language.ts';
import { alerts } from './alerts.sql.ts';

export async function alertSources(db: DbOrTx, ids: string[]): Promise<Map<string, AlertSource>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await db
    .select({
      id: alerts.id,
      kind: alerts.kind,
      subjectType: alerts.subjectType,
      subjectName: alerts.subjectName,
      facts: alerts.facts,
      title: alerts.title,
      detail: alerts.detail,
    })
    .from(alerts)
    .where(inArray(alerts.id, unique));
  return new Map(rows.map((r) => [r.id, r]));
}

/** The alert with its title, detail and subject name in `locale`; other fields unchanged. */
export function localizeAlert<A extends Alert>(alert: A, source: AlertSource | undefined, locale: Locale): A {
  const text = alertText(
    source ?? {
      kind: alert.kind,
      subjectType: alert.subject.type,
      subjectName: alert.subject.name,
      facts: {},
      title: alert.title,
      detail: alert.detail,
    },
    locale,
  );
  return {
    ...alert,
    title: text.title,
    detail: text.detail,
    subject: { ...alert.subject, name: text.subjectName },
  };
}

/** Alerts the caller's account reads (ids come from its own, account-filtered query). */
export async function localizeAlerts<A extends Alert>(db: DbOrTx, locale: Locale, list: A[]): Promise<A[]> {
  const sources = await alertSources(
    db,
    list.map((a) => a.id),
  );
  return list.map((a) => localizeAlert(a, sources.get(a.id), locale));
}
