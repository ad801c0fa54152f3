// Open alerts for the start page, from GET /alerts (missed backups, failing databases, silent
// agents, size drops, storage). Each links to its own page, which explains it.
import type { Alert, AlertKind } from '@resistro/contract/alerts';
import type { Agent, Database } from '@resistro/contract/schemas';
import { ApiClientError, api } from '../api.ts';
import { type MessageKey, t } from '../i18n/index.ts';

export type OpenAlert = {
  id: string;
  tone: 'error' | 'warn';
  title: string;
  detail?: string | undefined;
  href: string;
  at?: string | undefined;
  /** present for alerts the API keeps, which can be acknowledged */
  alert?: Alert;
  subjectId?: string;
};

/** Every alert the API keeps has its own page (the one its e-mail links to). */
export function alertHref(a: Alert): string {
  return `/alerts/${a.id}`;
}

/** Where the alert's subject lives in the dashboard. */
export function subjectHref(a: Alert): string {
  if (a.subject.type === 'database') return `/databases/${a.subject.id}#errors`;
  if (a.subject.type === 'agent') return '/agents';
  return '/settings#plan';
}

export function kindLabel(kind: AlertKind): string {
  return t(`alertKind.${kind}` as MessageKey);
}

/** What to do about an alert of this kind. */
export function kindAdvice(kind: AlertKind): string {
  return t(`alertAdvice.${kind}` as MessageKey);
}

function fromApi(a: Alert): OpenAlert {
  return {
    id: a.id,
    tone: a.severity === 'critical' ? 'error' : 'warn',
    title: a.title,
    detail: a.detail,
    href: alertHref(a),
    at: a.openedAt,
    alert: a,
  };
}

/** The same facts derived from the lists of databases and agents. */
function derived(databases: Database[], agents: Agent[]): OpenAlert[] {
  const out: OpenAlert[] = [];
  for (const d of databases) {
    if (d.status !== 'error') continue;
    out.push({
      id: `db-${d.id}`,
      tone: 'error',
      title: t('alerts.backupFailed', { name: d.name }),
      detail: d.lastError ?? undefined,
      href: `/databases/${d.id}#errors`,
      at: d.lastBackupAt ?? undefined,
      subjectId: d.id,
    });
  }
  for (const a of agents) {
    if (a.online) continue;
    out.push({
      id: `agent-${a.id}`,
      tone: 'warn',
      title: t('alerts.agentOffline', { host: a.hostname }),
      href: '/agents',
      at: a.lastSeenAt,
      subjectId: a.id,
    });
  }
  return out;
}

/**
 * The API's open alerts, plus what the lists already show and no alert covers yet (the alert
 * cron runs once a minute, a failed backup is visible at once).
 */
export async function openAlerts(databases: Database[], agents: Agent[]): Promise<OpenAlert[]> {
  let items: Alert[] = [];
  try {
    items = (await api.listAlerts({ status: 'open', limit: 20 })).items;
  } catch (e) {
    // A control plane without the alerts routes still gets the derived alerts.
    if (!(e instanceof ApiClientError && e.code === 'not_found')) throw e;
  }
  const covered = new Set(items.map((a) => a.subject.id));
  const extra = derived(databases, agents).filter((a) => !covered.has(a.subjectId ?? ''));
  return [...items.map(fromApi), ...extra];
}
