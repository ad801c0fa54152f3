// Before `npm test` starts a suite: are the programs its real servers and browser need on this
// machine? Without this check a missing MariaDB or Chromium shows up minutes later, deep inside one
// suite, as a failed hook. Here it stops at once, naming what is missing and the apt command that
// installs it.
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** What the check may look at: injectable so the unit test can describe any machine. */
export type Lookup = {
  /** whether an executable file of this name is in one of the PATH directories (or sbin) */
  onPath(name: string): boolean;
  exists(path: string): boolean;
  /** entries of a directory, [] if it does not exist */
  list(dir: string): string[];
  env: Record<string, string | undefined>;
};

export type Requirement = {
  /** what it is, for the message */
  what: string;
  /** the apt packages that provide it */
  apt: string[];
  /** vitest projects that need it */
  projects: string[];
  present(l: Lookup): boolean;
};

export const ALL_PROJECTS = ['unit', 'engines', 'integration', 'web'];

const SERVERS = ['engines', 'integration'];

export const REQUIREMENTS: Requirement[] = [
  {
    what: 'PostgreSQL server (/usr/lib/postgresql/<version>/bin/postgres)',
    apt: ['postgresql'],
    projects: SERVERS,
    present: (l) =>
      l.list('/usr/lib/postgresql').some((v) => l.exists(`/usr/lib/postgresql/${v}/bin/postgres`)),
  },
  {
    what: 'PostgreSQL client tools (pg_dump, psql)',
    apt: ['postgresql-client'],
    projects: SERVERS,
    present: (l) => l.onPath('pg_dump') && l.onPath('psql'),
  },
  {
    what: 'MariaDB server (mariadbd, mariadb-install-db)',
    apt: ['mariadb-server'],
    projects: SERVERS,
    present: (l) =>
      (l.onPath('mariadbd') || l.onPath('mysqld')) &&
      (l.onPath('mariadb-install-db') || l.onPath('mysql_install_db')),
  },
  {
    what: 'MariaDB client tools (mariadb, mariadb-dump)',
    apt: ['mariadb-client'],
    projects: SERVERS,
    present: (l) =>
      (l.onPath('mariadb') || l.onPath('mysql')) && (l.onPath('mariadb-dump') || l.onPath('mysqldump')),
  },
  {
    what: 'SQLite command-line shell (sqlite3; the SQLite source backs up with it)',
    apt: ['sqlite3'],
    projects: SERVERS,
    present: (l) => l.onPath('sqlite3'),
  },
  {
    what: 'Redis server and client (redis-server, redis-cli; the Redis source tests start one)',
    apt: ['redis-server', 'redis-tools'],
    projects: SERVERS,
    present: (l) => l.onPath('redis-server') && l.onPath('redis-cli'),
  },
  {
    what: 'openssl (issues the local syslog stand-in its TLS certificate)',
    apt: ['openssl'],
    projects: ['integration'],
    present: (l) => l.onPath('openssl'),
  },
  {
    what: 'zstd (the agent compresses with it where installed, as on a customer server)',
    apt: ['zstd'],
    projects: ['integration'],
    present: (l) => l.onPath('zstd'),
  },
  {
    what: 'debootstrap (a Debian root filesystem without Node.js for the agent executable tests)',
    apt: ['debootstrap'],
    projects: ['integration'],
    present: (l) => l.onPath('debootstrap'),
  },
  {
    what: 'qemu-user-static (runs the linux-arm64 agent executable on this machine)',
    apt: ['qemu-user-static'],
    projects: ['integration'],
    present: (l) => l.onPath('qemu-aarch64-static'),
  },
  {
    what: 'Chromium for the browser tests (/usr/bin/chromium, or CHROMIUM_PATH)',
    apt: ['chromium'],
    projects: ['integration'],
    present: (l) => l.exists(l.env.CHROMIUM_PATH || '/usr/bin/chromium'),
  },
];

/** The vitest projects a command line selects (`--project x`, `--project=x`); all when none. */
export function selectedProjects(args: string[]): string[] {
  const picked: string[] = [];
  args.forEach((a, i) => {
    if (a === '--project' && args[i + 1]) picked.push(args[i + 1]!);
    else if (a.startsWith('--project=')) picked.push(a.slice('--project='.length));
  });
  return picked.length > 0 ? picked : ALL_PROJECTS;
}

export function missingRequirements(projects: string[], lookup: Lookup): Requirement[] {
  return REQUIREMENTS.filter((r) => r.projects.some((p) => projects.includes(p)) && !r.present(lookup));
}

/** The message `npm test` prints when something is missing, or undefined when all is there. */
export function preflightMessage(projects: string[], lookup: Lookup): string | undefined {
  const missing = missingRequirements(projects, lookup);
  if (missing.length === 0) return undefined;
  const packages = [...new Set(missing.flatMap((r) => r.apt))];
  return [
    'npm test needs programs this machine does not have:',
    ...missing.map((r) => `  - ${r.what}`),
    'Install them with (Debian/Ubuntu, as root):',
    `  apt-get install -y ${packages.join(' ')}`,
    'Or run only the suites that need none of them: npm test -- --project unit --project web',
  ].join('\n');
}

/** This machine, as the check sees it. */
export function systemLookup(
  env: Record<string, string | undefined> = process.env,
  // sbin too: a non-root PATH often lacks it, but mariadbd lives there and the stack finds it.
  alsoSearched = ['/usr/sbin', '/usr/local/sbin', '/sbin'],
): Lookup {
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...alsoSearched];
  return {
    onPath: (name) => dirs.some((d) => existsSync(join(d, name))),
    exists: (path) => existsSync(path),
    list: (dir) => {
      try {
        return readdirSync(dir);
      } catch {
        return [];
      }
    },
    env,
  };
}
