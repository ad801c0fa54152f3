// What pg_dump needs from its user, checked before the first backup: USAGE on every schema that
// holds data, SELECT on every table and sequence (pg_dump locks and reads each one), and SELECT on
// every large object. Objects of extensions are left out: pg_dump writes CREATE EXTENSION for them.
import { type CheckItem, type ConnectionCheckResult, runConnectionCheck } from './check.ts';
import type { DatabaseTarget } from './engine.ts';
import { type PgTool, pgMajorFromVersionNum, selectPgDump } from './postgres-tools.ts';

/** Shown at most per kind; the count says how many there are in all. */
const SHOWN = 5;

/**
 * One row per kind of object the user cannot read: kind, count, the first names, their schemas.
 * Large objects: PostgreSQL 15 has no has_largeobject_privilege, so the ACL is read as the server
 * does (owner, an explicit grant to a role of ours or PUBLIC, lo_compat_privileges; superusers
 * pass pg_has_role).
 */
export const PG_PRIVILEGES_SQL = `
WITH objs AS (
  SELECT CASE c.relkind WHEN 'S' THEN 'sequences' ELSE 'tables' END AS kind,
         format('%I.%I', n.nspname, c.relname) AS name,
         format('%I', n.nspname) AS schema,
         has_schema_privilege(n.oid, 'USAGE') AS usable,
         CASE c.relkind WHEN 'S' THEN has_sequence_privilege(c.oid, 'SELECT')
                        ELSE has_table_privilege(c.oid, 'SELECT') END AS readable
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'S') AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
), bad AS (
  SELECT kind, name, schema FROM objs WHERE NOT readable
  UNION ALL
  SELECT DISTINCT 'schemas', schema, schema FROM objs WHERE NOT usable
  UNION ALL
  SELECT 'large_objects', m.oid::text, '' FROM pg_largeobject_metadata m
  WHERE current_setting('lo_compat_privileges') <> 'on'
    AND NOT pg_has_role(m.lomowner, 'USAGE')
    AND NOT EXISTS (SELECT 1 FROM aclexplode(coalesce(m.lomacl, acldefault('L', m.lomowner))) a
                    WHERE a.privilege_type = 'SELECT' AND (a.grantee = 0 OR pg_has_role(a.grantee, 'USAGE')))
)
SELECT concat_ws(chr(31), kind, count(*),
         array_to_string((array_agg(name ORDER BY name))[1:${SHOWN}], chr(30)),
         array_to_string(array_agg(DISTINCT schema), chr(30)))
FROM bad GROUP BY kind`;

const KINDS = ['schemas', 'tables', 'sequences', 'large_objects'] as const;
type Kind = (typeof KINDS)[number];

const CODES = {
  schemas: 'schemas_unusable',
  tables: 'tables_unreadable',
  sequences: 'sequences_unreadable',
  large_objects: 'large_objects_unreadable',
} as const;

/** A role name as psql would need it in a GRANT: quoted unless it is a plain lower-case word. */
export function pgIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

function grantFor(kind: Kind, schemas: string[], objects: string[], user: string): string {
  const to = `TO ${pgIdent(user)};`;
  switch (kind) {
    case 'schemas':
      return schemas.map((s) => `GRANT USAGE ON SCHEMA ${s} ${to}`).join('\n');
    case 'tables':
      return schemas.map((s) => `GRANT SELECT ON ALL TABLES IN SCHEMA ${s} ${to}`).join('\n');
    case 'sequences':
      return schemas.map((s) => `GRANT SELECT ON ALL SEQUENCES IN SCHEMA ${s} ${to}`).join('\n');
    case 'large_objects':
      return objects.map((oid) => `GRANT SELECT ON LARGE OBJECT ${oid} ${to}`).join('\n');
  }
}

/**
 * psql -A -t output of PG_PRIVILEGES_SQL (fields split by U+001F, lists by U+001E: names may hold
 * any other character) → one item per kind, failed ones with the GRANTs to run.
 */
export function pgPrivilegeItems(output: string, user: string): CheckItem[] {
  const bad = new Map<string, string[]>();
  for (const line of output.split('\n')) {
    const fields = line.split('\x1f');
    if (fields.length === 4 && fields[0]) bad.set(fields[0], fields);
  }
  return KINDS.map((kind): CheckItem => {
    const row = bad.get(kind);
    if (!row) return { step: 'privilege', subject: kind, ok: true };
    const [, count = '0', names = '', schemaList = ''] = row;
    const objects = names.split('\x1e').filter(Boolean);
    const schemas = schemaList.split('\x1e').filter(Boolean);
    return {
      step: 'privilege',
      subject: kind,
      ok: false,
      code: CODES[kind],
      params: { count, objects: objects.join(', '), grant: grantFor(kind, schemas, objects, user) },
    };
  });
}

/** The check of one PostgreSQL database, over the engine's own psql and pg_dump selection. */
export function checkPostgres(
  t: DatabaseTarget,
  engine: {
    serverInfo(): Promise<{ num: number; version: string }>;
    query(sql: string): Promise<string>;
    pgDumps(): Promise<PgTool[]>;
  },
): Promise<ConnectionCheckResult> {
  let serverNum = 0;
  return runConnectionCheck(t, {
    async connect() {
      const info = await engine.serverInfo();
      serverNum = info.num;
      return info.version;
    },
    privileges: async () => pgPrivilegeItems(await engine.query(PG_PRIVILEGES_SQL), t.user),
    async dumpTool() {
      const tool = selectPgDump(await engine.pgDumps(), pgMajorFromVersionNum(serverNum));
      return { name: 'pg_dump', version: tool.version };
    },
  });
}
