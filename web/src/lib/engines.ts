import type { Engine } from '@resistro/contract/schemas';

export const ENGINE_LABELS: Record<Engine, string> = {
  postgres: 'PostgreSQL',
  mysql: 'MySQL',
  mariadb: 'MariaDB',
  sqlite: 'SQLite',
  redis: 'Redis',
  directory: 'Directories',
};
