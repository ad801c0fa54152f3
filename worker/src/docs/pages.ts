// The documentation served at /docs: its pages in both languages. The build (scripts/docs/) renders
// each page's Markdown from docs/ (English) and docs/de/ (German) into static assets; the worker
// answers /docs itself only to pick the language and to refuse pages that do not exist.
export const DOC_LANGUAGES = ['en', 'de'] as const;
export type DocLanguage = (typeof DOC_LANGUAGES)[number];

export type DocPage = {
  /** the URL path under /docs/<lang>/ ('' is the language's start page) */
  slug: string;
  title: Record<DocLanguage, string>;
  /** Markdown file name in docs/ and docs/de/, or 'openapi' for the rendered API document */
  source: string;
};

export const DOC_PAGES: DocPage[] = [
  { slug: '', source: 'getting-started.md', title: { en: 'Getting started', de: 'Erste Schritte' } },
  {
    slug: 'install-agent',
    source: 'install-agent.md',
    title: { en: 'Installing the agent', de: 'Agent installieren' },
  },
  {
    slug: 'container',
    source: 'container.md',
    title: { en: 'Docker and Kubernetes', de: 'Docker und Kubernetes' },
  },
  {
    slug: 'supported-versions',
    source: 'supported-versions.md',
    title: { en: 'Supported versions, tested', de: 'Unterstützte Versionen, getestet' },
  },
  {
    slug: 'privileges',
    source: 'privileges.md',
    title: { en: 'Database privileges', de: 'Datenbankrechte' },
  },
  {
    slug: 'sources',
    source: 'sources.md',
    title: { en: 'SQLite, Redis and directories', de: 'SQLite, Redis und Verzeichnisse' },
  },
  {
    slug: 'restore',
    source: 'restore.md',
    title: { en: 'Restoring a backup', de: 'Backup wiederherstellen' },
  },
  {
    slug: 'pitr-postgres',
    source: 'pitr-postgres.md',
    title: {
      en: 'Point-in-time recovery: PostgreSQL',
      de: 'Point-in-time-Wiederherstellung: PostgreSQL',
    },
  },
  {
    slug: 'pitr-mariadb',
    source: 'pitr-mariadb.md',
    title: {
      en: 'Point-in-time recovery: MariaDB and MySQL',
      de: 'Point-in-time-Wiederherstellung: MariaDB und MySQL',
    },
  },
  {
    slug: 'restore-dashboard',
    source: 'restore-dashboard.md',
    title: { en: 'Restoring from the dashboard', de: 'Wiederherstellen im Dashboard' },
  },
  {
    slug: 'restore-tests',
    source: 'restore-tests.md',
    title: { en: 'Restore tests and the monthly report', de: 'Wiederherstellungstests und Monatsbericht' },
  },
  {
    slug: 'alerts',
    source: 'alerts-retention.md',
    title: { en: 'Alerts, retention and metrics', de: 'Alarme, Aufbewahrung und Metriken' },
  },
  { slug: 'webhooks', source: 'webhooks.md', title: { en: 'Webhooks', de: 'Webhooks' } },
  {
    slug: 'on-call-channels',
    source: 'on-call-channels.md',
    title: { en: 'PagerDuty, Teams and syslog', de: 'PagerDuty, Teams und Syslog' },
  },
  {
    slug: 'object-lock',
    source: 'object-lock.md',
    title: {
      en: 'Retention tiers, object lock, audit export',
      de: 'Aufbewahrungsstufen, Object Lock, Prüfexport',
    },
  },
  {
    slug: 'dedup',
    source: 'dedup.md',
    title: { en: 'Deduplicated storage', de: 'Deduplizierte Speicherung' },
  },
  {
    slug: 'second-location',
    source: 'second-location.md',
    title: { en: 'A second storage location (3-2-1)', de: 'Ein zweiter Speicherort (3-2-1)' },
  },
  {
    slug: 'checksums',
    source: 'checksums.md',
    title: { en: 'Upload checksums', de: 'Prüfsummen beim Upload' },
  },
  {
    slug: 'teams',
    source: 'teams.md',
    title: { en: 'Teams, roles and the audit log', de: 'Teams, Rollen und Audit-Log' },
  },
  {
    slug: 'closing',
    source: 'closing.md',
    title: { en: 'Cancelling, export and deletion', de: 'Kündigen, Export und Löschen' },
  },
  {
    slug: 'account-security',
    source: 'account-security.md',
    title: { en: 'Account security and SSO', de: 'Kontosicherheit und SSO' },
  },
  { slug: 'api', source: 'openapi', title: { en: 'API reference', de: 'API-Referenz' } },
  { slug: 'format', source: 'format.md', title: { en: 'File format', de: 'Dateiformat' } },
  { slug: 'faq', source: 'faq.md', title: { en: 'FAQ', de: 'Häufige Fragen' } },
];

/** The language a browser asks for first among ours (Accept-Language with q-values); English otherwise. */
export function pickDocLanguage(acceptLanguage: string | null | undefined): DocLanguage {
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const weight = q ? Number(q.slice(2)) : 1;
      return {
        base: tag.toLowerCase().split('-')[0] ?? '',
        weight: Number.isFinite(weight) ? weight : 0,
        index,
      };
    })
    .filter((l) => l.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.index - b.index);
  for (const l of ranked)
    if ((DOC_LANGUAGES as readonly string[]).includes(l.base)) return l.base as DocLanguage;
  return 'en';
}
