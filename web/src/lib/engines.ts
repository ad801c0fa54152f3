import type { Engine, SourceSettings } from '@resistro/contract/schemas';
import { t } from '../i18n/index.ts';

const PRODUCT_NAMES: Record<Exclude<Engine, 'directory'>, string> = {
  postgres: 'PostgreSQL',
  mysql: 'MySQL',
  mariadb: 'MariaDB',
  sqlite: 'SQLite',
  redis: 'Redis',
};

export const ENGINES_IN_FORM: Engine[] = ['postgres', 'mysql', 'mariadb', 'sqlite', 'redis', 'directory'];

/** The engine's name as the dashboard shows it ("Directories" follows the language). */
export function engineLabel(engine: Engine): string {
  return engine === 'directory' ? t('engine.directory') : PRODUCT_NAMES[engine];
}

/** Where a source's data is: host:port/database for servers, the file or paths for the rest. */
export function sourceWhere(d: {
  engine: Engine;
  host: string;
  port: number;
  database: string;
  source?: SourceSettings | null | undefined;
}): string {
  if (d.source?.kind === 'sqlite') return d.source.path;
  if (d.source?.kind === 'directory') return d.source.paths.join(', ');
  if (d.engine === 'redis')
    return `${d.host}:${d.port}${d.source?.kind === 'redis' && d.source.tls ? ' (TLS)' : ''}`;
  return `${d.host}:${d.port}/${d.database}`;
}
