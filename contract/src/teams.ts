// Members, roles, invitations and the audit log: the schemas of /api/v1/members, /invitations and
// /audit (docs/teams.md, docs/audit-log.md). Browser-safe: valibot only.
import * as v from 'valibot';
import { Cursor, Limit } from './page.ts';
import { ROLES } from './roles.ts';
import { Email, Id, Password } from './schemas.ts';
import { Text, Timestamp } from './text.ts';

export const RoleSchema = v.picklist(ROLES, 'must be one of owner, admin, operator, viewer');

export const Member = v.object({
  id: Id,
  email: v.string(),
  role: RoleSchema,
  /** a viewer granted backup downloads (operator and higher always may) */
  canDownload: v.boolean(),
  createdAt: Timestamp,
});
export const Invitation = v.object({
  id: Id,
  email: v.string(),
  role: RoleSchema,
  canDownload: v.boolean(),
  invitedBy: v.nullable(v.string()),
  createdAt: Timestamp,
  expiresAt: Timestamp,
});
/** Members oldest first, a page at a time; the open invitations come with the first page only. */
export const MemberList = v.object({
  items: v.array(Member),
  invitations: v.array(Invitation),
  nextCursor: v.nullable(v.string()),
});

export const InviteBody = v.strictObject({
  email: Email,
  role: RoleSchema,
  canDownload: v.optional(v.boolean()),
});
export const CreatedInvitation = v.object({
  invitation: Invitation,
  /** false when the e-mail could not be sent; the invitation stays and can be sent again */
  mailed: v.boolean(),
});
export const UpdateMemberBody = v.strictObject({
  role: v.optional(RoleSchema),
  canDownload: v.optional(v.boolean()),
});

const Token = v.pipe(Text, v.regex(/^[A-Za-z0-9_-]{20,100}$/, 'is not an invitation link'));
export const InvitationLookupQuery = v.strictObject({ token: Token });
export const InvitationPreview = v.object({
  email: v.string(),
  role: RoleSchema,
  invitedBy: v.nullable(v.string()),
  expiresAt: Timestamp,
});
export const AcceptInvitationBody = v.strictObject({ token: Token, password: Password });

// ---------- audit log ----------
export const AUDIT_ACTOR_KINDS = ['user', 'api_key', 'agent', 'system'] as const;
export const AuditEntry = v.object({
  id: Id,
  at: Timestamp,
  actor: v.object({
    kind: v.picklist(AUDIT_ACTOR_KINDS),
    id: v.string(),
    label: v.nullable(v.string()),
  }),
  ip: v.nullable(v.string()),
  /** dotted: auth.login, member.invited, backup.downloaded … (docs/audit-log.md) */
  action: v.string(),
  object: v.nullable(v.object({ kind: v.string(), id: v.string() })),
  details: v.record(v.string(), v.unknown()),
});
const Word = v.pipe(Text, v.maxLength(100, 'is too long'), v.regex(/^[a-z0-9_.-]+$/i, 'is invalid'));
export const AuditQuery = v.strictObject({
  actorKind: v.optional(v.picklist(AUDIT_ACTOR_KINDS, 'must be one of user, api_key, agent, system')),
  /** a user, key or agent id, or the system job's name */
  actorId: v.optional(Word),
  /** an action (`backup.deleted`) or a prefix of one ending in a dot (`backup.`) */
  action: v.optional(Word),
  objectKind: v.optional(Word),
  objectId: v.optional(Word),
  from: v.optional(Timestamp),
  to: v.optional(Timestamp),
  cursor: v.optional(Cursor),
  limit: v.optional(Limit),
});
export const AuditList = v.object({ items: v.array(AuditEntry), nextCursor: v.nullable(v.string()) });
export const AuditExportQuery = v.strictObject({
  ...v.omit(AuditQuery, ['cursor', 'limit']).entries,
  format: v.optional(v.picklist(['csv', 'json'], 'must be csv or json')),
});

export type Member = v.InferOutput<typeof Member>;
export type Invitation = v.InferOutput<typeof Invitation>;
export type InviteBody = v.InferInput<typeof InviteBody>;
export type UpdateMemberBody = v.InferInput<typeof UpdateMemberBody>;
export type InvitationPreview = v.InferOutput<typeof InvitationPreview>;
export type AuditEntry = v.InferOutput<typeof AuditEntry>;
export type AuditQuery = v.InferInput<typeof AuditQuery>;
