// The audit log: who (a user, an API key, an agent or a system job) did what to which object, from
// which address. Append-only (the table's trigger refuses changes); every feature records its own
// actions through recordAudit / auditRequest. Details never hold secrets or customer data.
import { sql } from 'drizzle-orm';
import type { Context } from 'hono';
import type { AppEnv } from '../app-types.ts';
import type { Db, DbOrTx } from '../db.ts';
import { auditLog } from './audit.sql.ts';

export type AuditActor =
  | { kind: 'user'; userId: string }
  | { kind: 'api_key'; keyId: string }
  | { kind: 'agent'; agentId: string }
  | { kind: 'system'; name: string }; // e.g. 'retention', 'billing', 'purge'

export type AuditEntry = {
  accountId: string;
  actor: AuditActor;
  ip?: string | null;
  action: string;
  objectKind?: string;
  objectId?: string;
  details?: Record<string, unknown>;
};

function actorId(a: AuditActor): string {
  if (a.kind === 'user') return a.userId;
  if (a.kind === 'api_key') return a.keyId;
  if (a.kind === 'agent') return a.agentId;
  return a.name;
}

/**
 * The actor's name as it is now (an e-mail, a key's name and prefix, an agent's hostname), kept
 * with the entry so it still reads after the member, key or agent is gone. Read straight from the
 * tables by name: audit sits below every feature that records, so it imports none of them.
 */
function actorLabel(a: AuditActor, accountId: string) {
  if (a.kind === 'user')
    return sql`(select email from users where id = ${a.userId}::uuid and account_id = ${accountId}::uuid)`;
  if (a.kind === 'api_key')
    return sql`(select name || ' (' || prefix || '…)' from api_keys where id = ${a.keyId}::uuid and account_id = ${accountId}::uuid)`;
  if (a.kind === 'agent')
    return sql`(select hostname from agents where id = ${a.agentId}::uuid and account_id = ${accountId}::uuid)`;
  return sql`${a.name}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toRow(e: AuditEntry, at: Date) {
  const id = actorId(e.actor);
  const label = e.actor.kind === 'system' || UUID.test(id) ? actorLabel(e.actor, e.accountId) : null;
  return {
    accountId: e.accountId,
    // milliseconds, as the cursor carries them (lib/cursor.ts)
    at,
    actorKind: e.actor.kind,
    actorId: id,
    actorLabel: label,
    ip: e.ip ?? null,
    action: e.action,
    objectKind: e.objectKind ?? null,
    objectId: e.objectId ?? null,
    details: e.details ?? {},
  };
}

/** Appends one entry. In the transaction of the change it records, where there is one. */
export async function recordAudit(db: DbOrTx | Db, e: AuditEntry): Promise<void> {
  await db.insert(auditLog).values(toRow(e, new Date()));
}

/** Appends many entries in one statement (a cron job's batch, e.g. retention's deletions). */
export async function recordAuditMany(db: DbOrTx | Db, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const at = new Date();
  await db.insert(auditLog).values(entries.map((e) => toRow(e, at)));
}

/** The caller's address as Cloudflare reports it (null locally without the header). */
export function requestIp(c: Context<AppEnv>): string | null {
  return c.req.header('cf-connecting-ip') ?? null;
}

/** The request's principal as an actor: the user of a session, else the API key. */
export function principalActor(p: { userId: string | null; apiKeyId: string | null }): AuditActor | null {
  if (p.userId) return { kind: 'user', userId: p.userId };
  if (p.apiKeyId) return { kind: 'api_key', keyId: p.apiKeyId };
  return null;
}

/** Records an action of the request's caller (actor and IP from the request). */
export async function auditRequest(
  c: Context<AppEnv>,
  action: string,
  object?: { kind: string; id: string },
  details?: Record<string, unknown>,
): Promise<void> {
  const p = c.get('principal');
  const actor = p && principalActor(p);
  if (!p || !actor) return;
  await recordAudit(c.get('db'), {
    accountId: p.accountId,
    actor,
    ip: requestIp(c),
    action,
    ...(object && { objectKind: object.kind, objectId: object.id }),
    ...(details && { details }),
  });
}
