// What mysqldump/mariadb-dump need from their user, checked before the first backup: SELECT,
// SHOW VIEW, TRIGGER, EVENT and LOCK TABLES on the database, and the right to read routine bodies.
// Without TRIGGER the dump silently leaves triggers out; without EVENT or the routine right it stops
// ("has insufficient privileges to SHOW CREATE FUNCTION"). The right to read routines is named
// differently per server:
//   MariaDB 11.3+   SHOW CREATE ROUTINE (on the database or globally)
//   MariaDB < 11.3  SELECT on mysql.proc (the table the bodies live in)
//   MySQL 8.0.20+   SHOW_ROUTINE (global only)
//   MySQL 8.0.0-19  global SELECT (routines live in the data dictionary)
//   MySQL 5.7       SELECT on mysql.proc
// global SELECT covers all of them. The grants come from SHOW GRANTS, which (unlike
// information_schema's privilege tables) includes those of the active role.
import { type CheckItem, type ConnectionCheckResult, runConnectionCheck } from './check.ts';
import type { DatabaseTarget, ToolInfo } from './engine.ts';
import { isMariadbBuild } from './mysql-tools.ts';

export const DATABASE_PRIVILEGES = ['SELECT', 'SHOW VIEW', 'TRIGGER', 'EVENT', 'LOCK TABLES'] as const;
/** the check item's subject for the right to read routine bodies, whatever the server calls it */
export const ROUTINE_SUBJECT = 'SHOW CREATE ROUTINE';

/** a privilege held on some level */
export type Grant = { privileges: Set<string>; on: string };

/** `db`, 'db', "db" or db → db (backquotes doubled inside are undone) */
function unquote(name: string): string {
  const m = /^[`'"](.*)[`'"]$/s.exec(name);
  return m ? m[1]!.replaceAll('``', '`') : name;
}

/**
 * SHOW GRANTS lines → privileges per object ("*.*", "db.*", "db.table"). Role grants
 * ("GRANT `r` TO …"), routine grants and column lists are left out.
 */
export function parseGrants(lines: string[]): Grant[] {
  const grants: Grant[] = [];
  for (const line of lines) {
    const m = /^GRANT (.+?) ON (?!FUNCTION |PROCEDURE |PACKAGE )(.+?) TO /s.exec(line.trim());
    if (!m) continue;
    const privileges = new Set(
      m[1]!
        .replace(/\([^)]*\)/g, '') // SELECT (col1, col2): column grants read no whole table
        .split(',')
        .map((p) => p.trim().toUpperCase())
        .filter(Boolean)
        .map((p) => (p === 'ALL' ? 'ALL PRIVILEGES' : p)),
    );
    const target = m[2]!.trim();
    const dot = /^((?:`(?:[^`]|``)*`|[^.]+))\.(.+)$/.exec(target);
    const on = dot ? `${unquote(dot[1]!)}.${dot[2] === '*' ? '*' : unquote(dot[2]!)}` : target;
    grants.push({ privileges, on });
  }
  return grants;
}

/** MySQL's wildcards in a database-level grant: `shop\_%` matches shop_1 but not shopX1. */
export function databasePatternMatches(pattern: string, database: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '%') re += '.*';
    else if (c === '_') re += '.';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's').test(database);
}

function holds(grants: Grant[], privilege: string, where: (on: string) => boolean): boolean {
  return grants.some(
    (g) => where(g.on) && (g.privileges.has(privilege) || g.privileges.has('ALL PRIVILEGES')),
  );
}

/** "10.11.18-MariaDB-0+deb12u1" → [10, 11]; "8.0.36" → [8, 0, 36] */
function versionNumbers(version: string): number[] {
  return (/^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version)?.slice(1) ?? []).map((n) => Number(n ?? 0));
}

function atLeast(version: string, wanted: number[]): boolean {
  const have = versionNumbers(version);
  for (let i = 0; i < wanted.length; i++) {
    const a = have[i] ?? 0;
    const b = wanted[i]!;
    if (a !== b) return a > b;
  }
  return true;
}

/** The routine right of this server: its name in a GRANT, and the statement that gives it. */
export function routinePrivilege(
  serverVersion: string,
  database: string,
  account: string,
): { privilege: string; grant: string; held: (grants: Grant[]) => boolean } {
  const db = `\`${database.replaceAll('`', '``')}\``;
  const onDb = (on: string) =>
    on === '*.*' || (on.endsWith('.*') && databasePatternMatches(on.slice(0, -2), database));
  const onProc = (on: string) =>
    on === '*.*' ||
    on === 'mysql.proc' ||
    (on.endsWith('.*') && databasePatternMatches(on.slice(0, -2), 'mysql'));
  const globalSelect = (grants: Grant[]) => holds(grants, 'SELECT', (on) => on === '*.*');
  const procSelect = (grants: Grant[]) => holds(grants, 'SELECT', onProc);
  if (isMariadbBuild(serverVersion)) {
    if (atLeast(serverVersion, [11, 3])) {
      return {
        privilege: 'SHOW CREATE ROUTINE',
        grant: `GRANT SHOW CREATE ROUTINE ON ${db}.* TO ${account};`,
        held: (g) => holds(g, 'SHOW CREATE ROUTINE', onDb) || procSelect(g),
      };
    }
    return {
      privilege: 'SELECT ON mysql.proc',
      grant: `GRANT SELECT ON mysql.proc TO ${account};`,
      held: procSelect,
    };
  }
  if (atLeast(serverVersion, [8, 0, 20])) {
    return {
      privilege: 'SHOW_ROUTINE',
      grant: `GRANT SHOW_ROUTINE ON *.* TO ${account};`,
      held: (g) => holds(g, 'SHOW_ROUTINE', (on) => on === '*.*') || globalSelect(g),
    };
  }
  if (atLeast(serverVersion, [8])) {
    // MySQL 8.0 keeps routines in its data dictionary (no mysql.proc): only global SELECT shows them
    return {
      privilege: 'SELECT ON *.*',
      grant: `GRANT SELECT ON *.* TO ${account};`,
      held: globalSelect,
    };
  }
  return {
    privilege: 'SELECT ON mysql.proc',
    grant: `GRANT SELECT ON mysql.proc TO ${account};`,
    held: procSelect,
  };
}

/** CURRENT_USER() "backup@%" → "'backup'@'%'" as a GRANT names the account */
export function accountName(currentUser: string): string {
  const at = currentUser.lastIndexOf('@');
  const quote = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  return at < 0
    ? quote(currentUser)
    : `${quote(currentUser.slice(0, at))}@${quote(currentUser.slice(at + 1))}`;
}

/** One item per privilege the dump needs; a missing one carries the GRANT that gives it. */
export function mysqlPrivilegeItems(
  grantLines: string[],
  serverVersion: string,
  database: string,
  currentUser: string,
): CheckItem[] {
  const grants = parseGrants(grantLines);
  const account = accountName(currentUser);
  const db = `\`${database.replaceAll('`', '``')}\``;
  const onDb = (on: string) =>
    on === '*.*' || (on.endsWith('.*') && databasePatternMatches(on.slice(0, -2), database));
  const items: CheckItem[] = DATABASE_PRIVILEGES.map(
    (privilege): CheckItem =>
      holds(grants, privilege, onDb)
        ? { step: 'privilege', subject: privilege, ok: true }
        : {
            step: 'privilege',
            subject: privilege,
            ok: false,
            code: 'privilege_missing',
            params: { privilege, grant: `GRANT ${privilege} ON ${db}.* TO ${account};` },
          },
  );
  const routine = routinePrivilege(serverVersion, database, account);
  items.push(
    routine.held(grants)
      ? { step: 'privilege', subject: ROUTINE_SUBJECT, ok: true }
      : {
          step: 'privilege',
          subject: ROUTINE_SUBJECT,
          ok: false,
          code: 'privilege_missing',
          params: { privilege: routine.privilege, grant: routine.grant },
        },
  );
  return items;
}

/** Undoes `mysql --batch` escaping of one output line. */
function unescapeBatch(line: string): string {
  return line.replace(/\\([0ntr\\])/g, (_, c: string) =>
    c === '0' ? '\0' : c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : '\\',
  );
}

/** The check of one MySQL/MariaDB database, over the engine's own client and dump tool selection. */
export function checkMysql(
  t: DatabaseTarget,
  engine: { query(sql: string): Promise<string>; dumpTool(): Promise<ToolInfo> },
): Promise<ConnectionCheckResult> {
  let currentUser = t.user;
  return runConnectionCheck(t, {
    async connect() {
      const [version = '', user] = (await engine.query('SELECT VERSION(), CURRENT_USER();')).split('\t');
      if (user) currentUser = unescapeBatch(user);
      return unescapeBatch(version);
    },
    async privileges(serverVersion) {
      const lines = (await engine.query('SHOW GRANTS;')).split('\n').map(unescapeBatch);
      return mysqlPrivilegeItems(lines, serverVersion, t.database, currentUser);
    },
    async dumpTool() {
      const tool = await engine.dumpTool();
      return { name: tool.name, version: tool.version };
    },
  });
}
