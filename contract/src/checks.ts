// Connection checks: when a database is added or edited, its agent tests at the next heartbeat
// whether a backup could run (server reachable, login, database, the dump's privileges, a fitting
// dump tool) and reports each step as a code with parameters. The dashboard turns the codes into
// text in the user's language; `detail` carries the server's own message, untranslated.
import * as v from 'valibot';
import { Text, Timestamp } from './text.ts';

const Str = (max: number) => v.pipe(Text, v.maxLength(max, 'is too long'));

/** the steps of a check, in the order the agent runs them; a failed connection, login or database ends it */
export const CHECK_STEPS = ['connection', 'authentication', 'database', 'privilege', 'version'] as const;
export type CheckStep = (typeof CHECK_STEPS)[number];

/**
 * What went wrong, one code per kind of fix. Parameters (all strings) by code:
 * - unreachable, wrong_protocol: host, port
 * - auth_failed, host_not_allowed: user
 * - database_missing, database_denied: database (+ user)
 * - privilege_missing: privilege, grant (the statement to run)
 * - tables_unreadable, sequences_unreadable, large_objects_unreadable, schemas_unusable:
 *   count, objects (the first few names), grant
 * - tool_missing: tool, install; tool_too_old: tool, toolVersion, serverVersion, install
 * - password_unsealable, check_failed: none (see detail)
 */
export const CHECK_CODES = [
  'unreachable',
  'wrong_protocol',
  'auth_failed',
  'host_not_allowed',
  'database_missing',
  'database_denied',
  'privilege_missing',
  'tables_unreadable',
  'sequences_unreadable',
  'large_objects_unreadable',
  'schemas_unusable',
  'tool_missing',
  'tool_too_old',
  'password_unsealable',
  'check_failed',
] as const;
export type CheckCode = (typeof CHECK_CODES)[number];

export const CheckItem = v.strictObject({
  step: v.picklist(CHECK_STEPS, `must be one of ${CHECK_STEPS.join(', ')}`),
  /** what within the step: a privilege ("SHOW VIEW"), an object kind ("tables"), a tool ("pg_dump") */
  subject: v.optional(v.pipe(Str(100), v.minLength(1, 'must not be empty'))),
  ok: v.boolean('must be true or false'),
  code: v.optional(v.picklist(CHECK_CODES, 'is not a known check code')),
  params: v.optional(
    v.pipe(
      v.record(v.pipe(v.string(), v.regex(/^[a-zA-Z]{1,40}$/, 'must be a parameter name')), Str(2000)),
      v.check((p) => Object.keys(p).length <= 12, 'has too many parameters'),
    ),
  ),
  /** the server's or tool's own message, untranslated */
  detail: v.optional(Str(4000)),
});
export type CheckItem = v.InferOutput<typeof CheckItem>;

/** The agent's report of one requested check. */
export const CheckReportBody = v.strictObject({
  /** the request it answers (from the heartbeat); a report for an older request is refused */
  requestedAt: Timestamp,
  /** the reporting agent (from its heartbeat) */
  agentId: v.optional(v.pipe(v.string(), v.uuid('must be a UUID'))),
  serverVersion: v.optional(Str(200)),
  toolVersion: v.optional(Str(200)),
  items: v.pipe(
    v.array(CheckItem),
    v.minLength(1, 'must list at least one step'),
    v.maxLength(60, 'at most 60 items'),
  ),
});
export type CheckReportBody = v.InferInput<typeof CheckReportBody>;

export const CHECK_STATUSES = ['pending', 'ok', 'failed'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** The latest check of a database as the dashboard sees it. */
export const ConnectionCheck = v.object({
  /** pending: asked for, the agent has not answered yet (items then hold the previous result) */
  status: v.picklist(CHECK_STATUSES),
  requestedAt: Timestamp,
  checkedAt: v.nullable(Timestamp),
  serverVersion: v.nullable(v.string()),
  toolVersion: v.nullable(v.string()),
  items: v.array(CheckItem),
});
export type ConnectionCheck = v.InferOutput<typeof ConnectionCheck>;

/** In the heartbeat answer: a database whose connection the agent should test now. */
export const CheckRequest = v.object({ databaseId: v.pipe(v.string(), v.uuid()), requestedAt: Timestamp });
export type CheckRequest = v.InferOutput<typeof CheckRequest>;
