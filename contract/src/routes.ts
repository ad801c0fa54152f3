// The route table of /api/v1: one entry per operation, with the schemas it takes and returns.
// The OpenAPI document is generated from it, so the document cannot drift from validation.
import type { GenericSchema } from 'valibot';
import * as al from './alerts.ts';
import * as bl from './billing.ts';
import * as ck from './checks.ts';
import * as dd from './dedup.ts';
import * as id from './identity.ts';
import { PageQuery } from './page.ts';
import * as pt from './pitr.ts';
import * as rtt from './restore-tests.ts';
import * as rs from './restores.ts';
import * as rt from './retention.ts';
import { type Role, roleAtLeast } from './roles.ts';
import * as s from './schemas.ts';
import * as tm from './teams.ts';

export { ROLES, type Role, roleAtLeast } from './roles.ts';

export type RouteAccess = 'public' | 'read' | 'write' | 'agent' | 'download';
export type RouteSpec = {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  access: RouteAccess;
  /** the lowest role allowed; when absent it follows `access` (requiredRole) */
  role?: Role;
  body?: GenericSchema;
  query?: GenericSchema;
  response?: GenericSchema;
  status?: number;
  /** on a read-only (closed) account; default: every non-GET 'write' route is refused */
  whenReadOnly?: 'allowed' | 'refused';
};

/**
 * The lowest role a route needs: its own `role`, else read → viewer, write → operator,
 * download → viewer with the download grant (operator and higher always may). Public and agent
 * routes need none (an agent route takes only agent keys).
 */
export function requiredRole(route: Pick<RouteSpec, 'access' | 'role'>): {
  role: Role;
  downloadGrant: boolean;
} | null {
  if (route.access === 'public' || route.access === 'agent') return null;
  if (route.role) return { role: route.role, downloadGrant: false };
  if (route.access === 'read') return { role: 'viewer', downloadGrant: false };
  if (route.access === 'download') return { role: 'viewer', downloadGrant: true };
  return { role: 'operator', downloadGrant: false };
}

/** May `who` call `route`? (`canDownload`: a viewer granted backup downloads.) */
export function roleAllows(
  route: Pick<RouteSpec, 'access' | 'role'>,
  who: { role: Role; canDownload: boolean },
): boolean {
  const need = requiredRole(route);
  if (!need) return true;
  if (!roleAtLeast(who.role, need.role)) return false;
  return !need.downloadGrant || who.canDownload || roleAtLeast(who.role, 'operator');
}

const ROUTE_PATTERNS = new Map<RouteSpec, RegExp>();
/** The route table's entry for a request (`path` below /api/v1), or undefined. */
export function findRoute(method: string, path: string): RouteSpec | undefined {
  const m = method.toLowerCase();
  for (const r of ROUTES) {
    if (r.method !== m) continue;
    let re = ROUTE_PATTERNS.get(r);
    if (!re) {
      re = new RegExp(`^${r.path.replace(/\{\w+\}/g, '[^/]+')}/?$`);
      ROUTE_PATTERNS.set(r, re);
    }
    if (re.test(path)) return r;
  }
  return undefined;
}

/** Whether a read-only account may call the route (one rule for the worker's middleware, the tests and the UI). */
export function refusedWhenReadOnly(r: Pick<RouteSpec, 'method' | 'access' | 'whenReadOnly'>): boolean {
  return r.whenReadOnly ? r.whenReadOnly === 'refused' : r.access === 'write' && r.method !== 'get';
}

export const ROUTES: RouteSpec[] = [
  { method: 'get', path: '/health', summary: 'Liveness', access: 'public' },
  {
    method: 'post',
    path: '/auth/signup',
    summary: 'Create an account and log in',
    access: 'public',
    body: s.SignupBody,
    response: s.MeResponse,
    status: 201,
  },
  {
    method: 'post',
    path: '/auth/login',
    summary: 'Log in (sets the session cookie, or asks for the second factor)',
    access: 'public',
    body: s.LoginBody,
    response: id.LoginResponse,
  },
  { method: 'post', path: '/auth/logout', summary: 'Log out', access: 'public', status: 204 },
  {
    method: 'get',
    path: '/auth/me',
    summary: 'The logged-in user and account',
    access: 'read',
    response: s.MeResponse,
  },
  { method: 'get', path: '/account', summary: 'Plan, limits, usage', access: 'read' },
  {
    method: 'patch',
    path: '/account',
    summary: 'Change plan (owner) or alert e-mails, language, time zone (admin)',
    access: 'write',
    role: 'admin',
    body: s.UpdateAccountBody,
  },
  {
    method: 'delete',
    path: '/account',
    summary:
      'Cancel the account: read-only at the end of the paid period, backups downloadable 30 days more, then deleted',
    access: 'write',
    role: 'owner',
    response: s.ClosingResponse,
    status: 202,
    whenReadOnly: 'allowed',
  },
  {
    method: 'post',
    path: '/account/deletion',
    summary:
      'Delete the account and everything in it (GDPR): the same 30 days as a cancellation; asks for the password',
    access: 'write',
    role: 'owner',
    body: s.DeleteAccountBody,
    response: s.ClosingResponse,
    status: 202,
    whenReadOnly: 'allowed',
  },
  {
    method: 'post',
    path: '/account/reopen',
    summary: 'Take back a cancellation or deletion before the purge',
    access: 'write',
    role: 'owner',
    response: s.ClosingResponse,
    whenReadOnly: 'allowed',
  },
  {
    method: 'get',
    path: '/export/manifest',
    summary:
      "Every backup (or one database's) with its checksum and a download link valid 7 days, newest first (cursor pagination)",
    access: 'download',
    query: s.ExportManifestQuery,
    response: s.ExportManifest,
  },
  // ---------- billing (Paddle) ----------
  {
    method: 'get',
    path: '/billing',
    summary: 'The subscription: plan, state, period, scheduled changes',
    access: 'read',
    role: 'owner',
    response: bl.BillingResponse,
  },
  {
    method: 'post',
    path: '/billing/checkout',
    summary: 'Start a Paddle checkout for a plan (the plan applies once Paddle confirms the payment)',
    access: 'write',
    role: 'owner',
    // resubscribing is how a cancelled account reopens
    whenReadOnly: 'allowed',
    body: bl.CheckoutBody,
    response: bl.CheckoutResponse,
    status: 201,
  },
  {
    method: 'post',
    path: '/billing/plan/preview',
    summary: 'What a plan change costs now, when it applies, and what must change first',
    access: 'write',
    role: 'owner',
    body: bl.ChangePlanBody,
    response: bl.PlanPreviewResponse,
  },
  {
    method: 'post',
    path: '/billing/plan',
    summary: 'Change plan: an upgrade is charged prorated now, a downgrade applies at the period end',
    access: 'write',
    role: 'owner',
    body: bl.ChangePlanBody,
    response: bl.BillingResponse,
    status: 202,
  },
  {
    method: 'get',
    path: '/billing/transactions',
    summary: 'Payments and their invoices, newest first (cursor pagination)',
    access: 'read',
    role: 'owner',
    query: PageQuery,
    response: bl.TransactionList,
  },
  {
    method: 'get',
    path: '/billing/transactions/{id}/invoice',
    summary: "A link to the transaction's invoice PDF (from Paddle; short-lived)",
    access: 'read',
    role: 'owner',
    response: bl.InvoiceResponse,
  },
  {
    method: 'post',
    path: '/billing/payment-method',
    summary: 'A Paddle checkout to update the payment method',
    access: 'write',
    role: 'owner',
    whenReadOnly: 'allowed',
    response: bl.PaymentMethodResponse,
  },
  {
    method: 'post',
    path: '/billing/cancel',
    summary: 'Cancel the subscription at the end of the paid period',
    access: 'write',
    role: 'owner',
    response: bl.BillingResponse,
  },
  {
    method: 'post',
    path: '/billing/webhook',
    summary: 'Paddle webhooks (verified by the Paddle-Signature header)',
    access: 'public',
  },
  // ---------- identity (issue 16): verification, reset, 2FA, sessions, SSO ----------
  {
    method: 'post',
    path: '/auth/login/2fa',
    summary: 'Second step of a log-in: the authenticator code or a recovery code',
    access: 'public',
    body: id.Login2faBody,
    response: s.MeResponse,
  },
  {
    method: 'post',
    path: '/auth/verify-email',
    summary: 'Confirm an e-mail address with the token from its link',
    access: 'public',
    body: id.VerifyEmailBody,
    response: id.VerifyEmailResponse,
  },
  {
    method: 'post',
    path: '/auth/verify-email/resend',
    summary: 'Send the verification link again',
    access: 'write',
    status: 202,
    // about the caller's own login: every member, also of a closed account
    role: 'viewer',
    whenReadOnly: 'allowed',
  },
  {
    method: 'post',
    path: '/auth/password-reset/request',
    summary: 'E-mail a password reset link (the same answer whether or not the address exists)',
    access: 'public',
    body: id.PasswordResetRequestBody,
    status: 202,
  },
  {
    method: 'post',
    path: '/auth/password-reset',
    summary: 'Set a new password with the token from the link; ends every session',
    access: 'public',
    body: id.PasswordResetBody,
    status: 204,
  },
  {
    method: 'post',
    path: '/auth/password',
    summary: 'Change the password; ends every other session',
    access: 'write',
    body: id.ChangePasswordBody,
    status: 204,
    // about the caller's own login: every member, also of a closed account
    role: 'viewer',
    whenReadOnly: 'allowed',
  },
  {
    method: 'post',
    path: '/auth/email',
    summary: 'Change the e-mail address (after the new address confirms its link)',
    access: 'write',
    body: id.ChangeEmailBody,
    status: 202,
    // about the caller's own login: every member, also of a closed account
    role: 'viewer',
    whenReadOnly: 'allowed',
  },
  {
    method: 'post',
    path: '/auth/2fa/setup',
    summary: 'Start two-factor setup: a new secret and its otpauth URI',
    access: 'write',
    body: id.TwoFactorSetupBody,
    response: id.TwoFactorSetup,
    // about the caller's own login: every member, also of a closed account
    role: 'viewer',
    whenReadOnly: 'allowed',
  },
  {
    method: 'post',
    path: '/auth/2fa/enable',
    summary: 'Turn two-factor authentication on with a first code; returns recovery codes once',
    access: 'write',
    body: id.TwoFactorEnableBody,
    response: id.RecoveryCodes,
    // about the caller's own login: every member, also of a closed account
    role: 'viewer',
    whenReadOnly: 'allowed',
  },
  {
    method: 'post',
    path: '/auth/2fa/disable',
    summary: 'Turn two-factor authentication off (password and a code)',
    access: 'write',
    body: id.TwoFactorDisableBody,
    status: 204,
    // about the caller's own login: every member, also of a closed account
    role: 'viewer',
    whenReadOnly: 'allowed',
  },
  {
    method: 'post',
    path: '/auth/2fa/recovery-codes',
    summary: 'New recovery codes (the old ones stop working)',
    access: 'write',
    body: id.RecoveryCodesBody,
    response: id.RecoveryCodes,
    // about the caller's own login: every member, also of a closed account
    role: 'viewer',
    whenReadOnly: 'allowed',
  },
  {
    method: 'get',
    path: '/auth/sessions',
    summary: "The logged-in user's sessions",
    access: 'read',
    response: id.SessionList,
    // about the caller's own login: every member, also of a closed account
    role: 'viewer',
    whenReadOnly: 'allowed',
  },
  {
    method: 'delete',
    path: '/auth/sessions/{id}',
    summary: 'End one session',
    access: 'write',
    status: 204,
    // about the caller's own login: every member, also of a closed account
    role: 'viewer',
    whenReadOnly: 'allowed',
  },
  {
    method: 'post',
    path: '/auth/sessions/revoke-all',
    summary: 'Log out everywhere (every session of the user, this one included)',
    access: 'write',
    response: id.RevokedSessions,
    // about the caller's own login: every member, also of a closed account
    role: 'viewer',
    whenReadOnly: 'allowed',
  },
  {
    method: 'patch',
    path: '/account/security',
    summary: 'Require two-factor authentication for every member',
    access: 'write',
    body: id.SecuritySettingsBody,
    role: 'owner',
    whenReadOnly: 'allowed',
  },
  {
    method: 'get',
    path: '/account/sso',
    summary: 'The OIDC single sign-on settings (Enterprise; owners)',
    access: 'read',
    role: 'owner',
    response: id.SsoConfigResponse,
  },
  {
    method: 'patch',
    path: '/account/sso',
    summary: 'Set up OIDC single sign-on (Enterprise; owners: it decides who can log in)',
    access: 'write',
    role: 'owner',
    body: id.SsoConfigBody,
    response: id.SsoConfigResponse,
  },
  {
    method: 'delete',
    path: '/account/sso',
    summary: 'Turn single sign-on off (owners)',
    access: 'write',
    role: 'owner',
    status: 204,
  },
  {
    method: 'get',
    path: '/auth/sso/start',
    summary: "Where to send the browser to log in at the account's OIDC provider",
    access: 'public',
    query: id.SsoStartQuery,
    response: id.SsoStartResponse,
  },
  {
    method: 'get',
    path: '/auth/sso/callback',
    summary: "The OIDC provider's redirect back (authorization code); sets the session cookie",
    access: 'public',
    query: id.SsoCallbackQuery,
    status: 302,
  },
  {
    method: 'get',
    path: '/api-keys',
    summary: 'List API keys, newest first (cursor pagination)',
    access: 'write',
    query: PageQuery,
    response: s.ApiKeyList,
  },
  {
    method: 'post',
    path: '/api-keys',
    summary: 'Create an API key (the secret is shown once)',
    access: 'write',
    body: s.CreateApiKeyBody,
    response: s.CreatedApiKey,
    status: 201,
    // a closed account still needs a key for `resistro export --all`
    whenReadOnly: 'allowed',
  },
  {
    method: 'delete',
    path: '/api-keys/{id}',
    summary: 'Revoke an API key',
    access: 'write',
    status: 204,
    whenReadOnly: 'allowed',
  },
  // ---------- members, invitations, audit log (teams) ----------
  {
    method: 'get',
    path: '/members',
    summary: "The account's members, oldest first (cursor pagination), and open invitations (first page)",
    access: 'read',
    query: PageQuery,
    response: tm.MemberList,
  },
  {
    method: 'patch',
    path: '/members/{id}',
    summary: "Change a member's role or download grant (owner role: owners only)",
    access: 'write',
    role: 'admin',
    body: tm.UpdateMemberBody,
  },
  {
    method: 'delete',
    path: '/members/{id}',
    summary: 'Remove a member: ends their sessions; lists the API keys they created',
    access: 'write',
    role: 'admin',
    // taking someone's access away stays possible on a closed account
    whenReadOnly: 'allowed',
  },
  {
    method: 'post',
    path: '/invitations',
    summary: 'Invite someone by e-mail with a role (the link expires after 7 days)',
    access: 'write',
    role: 'admin',
    body: tm.InviteBody,
    response: tm.CreatedInvitation,
    status: 201,
  },
  {
    method: 'delete',
    path: '/invitations/{id}',
    summary: 'Withdraw an invitation',
    access: 'write',
    role: 'admin',
    status: 204,
  },
  {
    method: 'get',
    path: '/invitation',
    summary: 'What an invitation link offers (the accept page)',
    access: 'public',
    query: tm.InvitationLookupQuery,
    response: tm.InvitationPreview,
  },
  {
    method: 'post',
    path: '/invitation/accept',
    summary: 'Accept an invitation: sets a password and logs in',
    access: 'public',
    body: tm.AcceptInvitationBody,
    response: s.MeResponse,
    status: 201,
  },
  {
    method: 'get',
    path: '/audit',
    summary: 'The audit log, newest first (filters, cursor pagination)',
    access: 'read',
    role: 'admin',
    query: tm.AuditQuery,
    response: tm.AuditList,
  },
  {
    method: 'get',
    path: '/audit/export',
    summary: 'The audit log as CSV or JSON (same filters, every matching entry)',
    access: 'read',
    role: 'admin',
    query: tm.AuditExportQuery,
  },
  {
    method: 'post',
    path: '/agent/heartbeat',
    summary: 'Agent heartbeat: registers the agent, returns its work',
    access: 'agent',
    body: s.HeartbeatBody,
    response: s.HeartbeatResponse,
  },
  {
    method: 'get',
    path: '/agents',
    summary: 'List agents, newest registered first (cursor pagination)',
    access: 'read',
    query: PageQuery,
    response: s.AgentList,
  },
  { method: 'get', path: '/agents/{id}', summary: 'One agent', access: 'read' },
  {
    method: 'delete',
    path: '/agents/{id}',
    summary: 'Remove an agent without databases',
    access: 'write',
    status: 204,
  },
  { method: 'get', path: '/databases', summary: 'List databases', access: 'read', response: s.DatabaseList },
  {
    method: 'post',
    path: '/databases',
    summary: 'Add a database',
    access: 'write',
    body: s.CreateDatabaseBody,
    status: 201,
  },
  { method: 'get', path: '/databases/{id}', summary: 'One database', access: 'read' },
  {
    method: 'patch',
    path: '/databases/{id}',
    summary: 'Change a database',
    access: 'write',
    body: s.UpdateDatabaseBody,
  },
  { method: 'post', path: '/databases/{id}/pause', summary: 'Pause its schedule', access: 'write' },
  { method: 'post', path: '/databases/{id}/resume', summary: 'Resume its schedule', access: 'write' },
  {
    method: 'post',
    path: '/databases/{id}/backup-now',
    summary: 'Ask its agent for a backup now',
    access: 'write',
    response: s.BackupNowResponse,
    status: 202,
  },
  {
    method: 'post',
    path: '/databases/{id}/check',
    summary: 'Ask its agent to test the connection again (at its next heartbeat)',
    access: 'write',
  },
  {
    method: 'post',
    path: '/databases/{id}/check-result',
    summary: "Agent: report a requested connection check's result",
    access: 'agent',
    body: ck.CheckReportBody,
  },
  {
    method: 'delete',
    path: '/databases/{id}',
    summary: 'Delete a database (its backups stay until retention ends)',
    access: 'write',
    status: 204,
  },
  {
    method: 'get',
    path: '/backups',
    summary: 'List backups, newest first (cursor pagination)',
    access: 'read',
    query: s.ListBackupsQuery,
    response: s.BackupList,
  },
  {
    method: 'post',
    path: '/backups',
    summary: 'Agent: start a backup (creates the multipart upload)',
    access: 'agent',
    whenReadOnly: 'refused',
    body: s.StartBackupBody,
    response: s.StartBackupResponse,
    status: 201,
  },
  { method: 'get', path: '/backups/{id}', summary: 'One backup', access: 'download' },
  {
    method: 'post',
    path: '/backups/{id}/parts',
    summary: 'Agent: presigned part URLs',
    access: 'agent',
    body: s.PartUrlsBody,
    response: s.PartUrlsResponse,
  },
  {
    method: 'post',
    path: '/backups/{id}/complete',
    summary: 'Agent: complete the upload; verified before success',
    access: 'agent',
    body: s.CompleteBackupBody,
  },
  {
    method: 'post',
    path: '/backups/{id}/fail',
    summary: 'Agent: report a failure (aborts the upload)',
    access: 'agent',
    body: s.FailBackupBody,
  },
  {
    method: 'get',
    path: '/backups/{id}/download',
    summary: 'A short-lived download URL',
    access: 'download',
    response: s.DownloadResponse,
  },
  { method: 'delete', path: '/backups/{id}', summary: 'Delete a backup', access: 'write', status: 204 },
  // ---------- deduplicated storage (issue 17) ----------
  {
    method: 'post',
    path: '/backups/{id}/dedup/have',
    summary: 'Agent: which of these chunk ids the account stores (and their stored lengths)',
    access: 'agent',
    body: dd.DedupHaveBody,
    response: dd.DedupHaveResponse,
  },
  {
    method: 'post',
    path: '/backups/{id}/dedup/packs',
    summary: 'Agent: a presigned URL for one pack of new chunks',
    access: 'agent',
    body: dd.DedupPackBody,
    response: dd.DedupPackResponse,
    status: 201,
  },
  {
    method: 'post',
    path: '/backups/{id}/dedup/packs/{packId}/complete',
    summary: "Agent: complete a pack's upload and index its chunks",
    access: 'agent',
    body: dd.DedupPackCompleteBody,
    status: 204,
  },
  {
    method: 'post',
    path: '/backups/{id}/dedup/refs',
    summary: "Agent: record the backup's chunk references in order",
    access: 'agent',
    body: dd.DedupRefsBody,
    status: 204,
  },
  {
    method: 'post',
    path: '/backups/{id}/dedup/seal',
    summary: 'Agent: mark the backup deduplicated once its references are recorded',
    access: 'agent',
    body: dd.DedupSealBody,
    status: 204,
  },
  {
    method: 'get',
    path: '/backups/{id}/dedup/reads',
    summary: "Where a deduplicated backup's chunks lie: presigned ranged reads for a restore",
    access: 'download',
  },
  {
    method: 'get',
    path: '/dedup/usage',
    summary: 'Per database: logical size of deduplicated backups against bytes stored',
    access: 'read',
  },
  {
    method: 'post',
    path: '/dedup/collect',
    summary: 'Free chunks and packs no backup references (also done by the cron)',
    access: 'write',
  },
  {
    method: 'get',
    path: '/dedup/files/{id}',
    summary: "A deduplicated backup's single file, streamed (signed link from /backups/{id}/download)",
    access: 'public',
  },
  // ---------- restores (issue 20) ----------
  {
    method: 'post',
    path: '/restores',
    summary:
      "Ask the backup's agent to restore it (into a new database, another empty one, or over the original)",
    access: 'write',
    body: rs.CreateRestoreBody,
    response: rs.RestoreResponse,
    status: 202,
  },
  {
    method: 'get',
    path: '/restores',
    summary: 'Restores, newest first (of one database with databaseId)',
    access: 'read',
    query: rs.ListRestoresQuery,
    response: rs.RestoreList,
  },
  {
    method: 'get',
    path: '/restores/{id}',
    summary: 'One restore',
    access: 'read',
    response: rs.RestoreResponse,
  },
  {
    method: 'post',
    path: '/restores/{id}/cancel',
    summary: 'Cancel a restore (its target is left as it was)',
    access: 'write',
    response: rs.RestoreResponse,
  },
  {
    method: 'get',
    path: '/agent/restores',
    summary: 'Agent: the restores waiting for it',
    access: 'agent',
    query: rs.AgentRestoresQuery,
    response: rs.RestoreJobList,
  },
  {
    method: 'post',
    path: '/restores/{id}/claim',
    summary: 'Agent: take a waiting restore',
    access: 'agent',
    response: rs.RestoreResponse,
  },
  {
    method: 'post',
    path: '/restores/{id}/progress',
    summary: "Agent: report a restore's phase and bytes; answers whether it was cancelled",
    access: 'agent',
    body: rs.RestoreProgressBody,
    response: rs.RestoreProgressResponse,
  },
  {
    method: 'post',
    path: '/restores/{id}/finish',
    summary: "Agent: report a restore's end",
    access: 'agent',
    body: rs.FinishRestoreBody,
    response: rs.RestoreResponse,
  },
  // ---------- restore tests (issue 14) ----------
  {
    method: 'get',
    path: '/databases/{id}/restore-tests/settings',
    summary: 'Its restore test settings: schedule, target, time limit, custom checks',
    access: 'read',
    response: rtt.RestoreTestSettingsResponse,
  },
  {
    method: 'put',
    path: '/databases/{id}/restore-tests/settings',
    summary: 'Set its restore test schedule (no shorter than the plan allows), target, time limit and checks',
    access: 'write',
    body: rtt.PutRestoreTestSettingsBody,
    response: rtt.RestoreTestSettingsResponse,
  },
  {
    method: 'post',
    path: '/restore-tests',
    summary: "Test now: ask the database's agent to restore a backup into a scratch database and check it",
    access: 'write',
    body: rtt.CreateRestoreTestBody,
    response: rtt.RestoreTestResponse,
    status: 202,
  },
  {
    method: 'get',
    path: '/restore-tests',
    summary: 'Restore tests with their verdicts, newest first (of one database with databaseId)',
    access: 'read',
    query: rtt.ListRestoreTestsQuery,
    response: rtt.RestoreTestList,
  },
  {
    method: 'get',
    path: '/restore-tests/latest',
    summary: 'Per database: the latest restore test and the last verified restore',
    access: 'read',
    response: rtt.RestoreTestSummary,
  },
  {
    method: 'get',
    path: '/restore-tests/{id}',
    summary: 'One restore test and its verdict',
    access: 'read',
    response: rtt.RestoreTestResponse,
  },
  {
    method: 'post',
    path: '/restore-tests/{id}/cancel',
    summary: 'Cancel a restore test (the agent drops its scratch database)',
    access: 'write',
    response: rtt.RestoreTestResponse,
  },
  {
    method: 'post',
    path: '/restore-tests/{id}/start',
    summary: 'Agent: take a waiting restore test',
    access: 'agent',
    response: rtt.RestoreTestResponse,
  },
  {
    method: 'post',
    path: '/restore-tests/{id}/progress',
    summary: "Agent: report a restore test's phase; answers whether it was cancelled",
    access: 'agent',
    body: rtt.RestoreTestProgressBody,
    response: rtt.RestoreTestProgressResponse,
  },
  {
    method: 'post',
    path: '/restore-tests/{id}/result',
    summary: "Agent: report a restore test's verdict",
    access: 'agent',
    body: rtt.RestoreTestVerdict,
    response: rtt.RestoreTestResponse,
  },
  {
    method: 'get',
    path: '/reports/monthly',
    summary: "The monthly restore report (default: last month), in the account's language",
    access: 'read',
    query: rtt.MonthlyReportQuery,
    response: rtt.MonthlyReportResponse,
  },
  {
    method: 'get',
    path: '/alerts',
    summary: 'List alerts, newest first (open by default, resolved or all; by kind or subject)',
    access: 'read',
    query: al.ListAlertsQuery,
    response: al.AlertList,
  },
  { method: 'get', path: '/alerts/{id}', summary: 'One alert', access: 'read', response: al.AlertResponse },
  {
    method: 'post',
    path: '/alerts/{id}/acknowledge',
    summary: 'Acknowledge an alert',
    access: 'write',
    response: al.AlertResponse,
  },
  {
    method: 'get',
    path: '/channels',
    summary: 'List notification channels',
    access: 'read',
    response: al.ChannelList,
  },
  {
    method: 'post',
    path: '/channels',
    summary: 'Add an e-mail, Slack or webhook channel (a webhook secret is shown once)',
    access: 'write',
    body: al.CreateChannelBody,
    response: al.CreatedChannel,
    status: 201,
  },
  { method: 'get', path: '/channels/{id}', summary: 'One channel', access: 'read' },
  {
    method: 'patch',
    path: '/channels/{id}',
    summary: 'Change a channel',
    access: 'write',
    body: al.UpdateChannelBody,
  },
  {
    method: 'delete',
    path: '/channels/{id}',
    summary: 'Delete a channel (its pending messages fail)',
    access: 'write',
    status: 204,
  },
  {
    method: 'post',
    path: '/channels/{id}/test',
    summary: 'Send a test notification now',
    access: 'write',
    response: al.TestChannelResponse,
  },
  {
    method: 'get',
    path: '/notifications',
    summary: 'The delivery log: sent, retrying and failed notifications',
    access: 'read',
    query: al.ListDeliveriesQuery,
    response: al.DeliveryList,
  },
  {
    method: 'get',
    path: '/metrics-token',
    summary: 'The metrics scrape token (prefix only)',
    access: 'write',
    role: 'admin',
    response: al.MetricsTokenInfo,
  },
  {
    method: 'post',
    path: '/metrics-token',
    summary: 'Create or rotate the metrics scrape token (shown once)',
    access: 'write',
    role: 'admin',
    response: al.CreatedMetricsToken,
    status: 201,
  },
  {
    method: 'delete',
    path: '/metrics-token',
    summary: 'Revoke the metrics scrape token',
    access: 'write',
    role: 'admin',
    status: 204,
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (text); Authorization: Bearer <metrics token>',
    access: 'public',
  },
  // ---- retention (issue 18): tiers, object lock, second location, audit export ----
  {
    method: 'get',
    path: '/databases/{id}/retention',
    summary: 'Its retention rule: days or tiers, and object lock',
    access: 'read',
    response: rt.RetentionRuleResponse,
  },
  {
    method: 'put',
    path: '/databases/{id}/retention',
    summary: 'Set tiers (grandfather-father-son) and object lock for new backups',
    access: 'write',
    role: 'admin',
    body: rt.PutRetentionBody,
    response: rt.RetentionRuleResponse,
  },
  {
    method: 'get',
    path: '/databases/{id}/audit-export',
    summary: 'Every backup with dates, checksums, lock and copy status (CSV, or JSON signed with Ed25519)',
    access: 'read',
    query: rt.BackupAuditExportQuery,
  },
  {
    method: 'get',
    path: '/audit-signing-key',
    summary: 'The Ed25519 public key that verifies signed audit exports',
    access: 'read',
    response: rt.AuditSigningKey,
  },
  {
    method: 'post',
    path: '/databases/{id}/retention/preview',
    summary: 'Which existing backups a rule would delete (nothing is changed)',
    access: 'read',
    body: rt.RetentionPreviewBody,
    response: rt.RetentionPreview,
  },
  // ---- point-in-time recovery (issue 13): WAL / binlog segments and base backups ----
  {
    method: 'get',
    path: '/databases/{id}/pitr',
    summary: 'Continuous protection: settings, state, restorable window, lag, gaps',
    access: 'read',
    response: pt.PitrStatus,
  },
  {
    method: 'put',
    path: '/databases/{id}/pitr',
    summary: 'Turn continuous protection on or off; RPO target, base-backup interval, window',
    access: 'write',
    role: 'admin',
    body: pt.PitrSettingsBody,
    response: pt.PitrStatus,
  },
  {
    method: 'get',
    path: '/databases/{id}/pitr/segments',
    summary: 'Log segments in the registry, in stream order',
    access: 'read',
    query: pt.ListPitrSegmentsQuery,
    response: pt.PitrSegmentList,
  },
  {
    method: 'get',
    path: '/databases/{id}/pitr/restore-plan',
    summary: 'The base backup and every segment a restore to a time, position or the latest point needs',
    access: 'download',
    query: pt.PitrRestorePlanQuery,
    response: pt.PitrRestorePlan,
  },
  {
    method: 'get',
    path: '/databases/{id}/pitr/segments/{name}',
    summary: 'One segment with a short-lived download URL (resistro wal-fetch)',
    access: 'download',
    query: pt.PitrSegmentFetchQuery,
    response: pt.PitrSegmentDownload,
  },
  {
    method: 'get',
    path: '/agent/pitr',
    summary: 'Agent: the servers it protects continuously, and whether a base backup is due',
    access: 'agent',
    query: pt.AgentPitrQuery,
    response: pt.PitrJobList,
  },
  {
    method: 'post',
    path: '/databases/{id}/pitr/upload-urls',
    summary: 'Agent: presigned PUT URLs for a batch of segments',
    access: 'agent',
    whenReadOnly: 'refused',
    body: pt.PitrSegmentBatch,
    response: pt.PitrUploadUrls,
  },
  {
    method: 'post',
    path: '/databases/{id}/pitr/segments',
    summary: 'Agent: register uploaded segments (checked against storage)',
    access: 'agent',
    body: pt.PitrSegmentBatch,
    response: pt.PitrRegistered,
  },
  {
    method: 'post',
    path: '/databases/{id}/pitr/base-backups',
    summary: 'Agent: register a completed backup as a base backup and what it covers',
    access: 'agent',
    body: pt.PitrBaseBackupBody,
    response: pt.PitrBaseBackup,
    status: 201,
  },
  {
    method: 'post',
    path: '/databases/{id}/pitr/status',
    summary: 'Agent: lag, replication slot and stream errors',
    access: 'agent',
    body: pt.PitrStatusBody,
  },
  {
    method: 'get',
    path: '/storage-location',
    summary: "The account's second storage location (3-2-1); its secret is never returned",
    access: 'read',
    response: rt.StorageLocationResponse,
  },
  {
    method: 'put',
    path: '/storage-location',
    summary: 'Set the second storage location (Business and up); checked by writing to it',
    access: 'write',
    role: 'admin',
    body: rt.PutStorageLocationBody,
    response: rt.StorageLocationResponse,
  },
  {
    method: 'delete',
    path: '/storage-location',
    summary: 'Stop copying to the second location (copies there stay)',
    access: 'write',
    role: 'admin',
    status: 204,
  },
  {
    method: 'post',
    path: '/backups/{id}/copy/start',
    summary: 'Agent: start transferring a copy to the second location (source URL, part size)',
    access: 'agent',
    response: rt.CopyStartResponse,
  },
  {
    method: 'post',
    path: '/backups/{id}/copy/parts',
    summary: "Agent: presigned part URLs in the second location, each for its part's checksum",
    access: 'agent',
    body: rt.CopyPartsBody,
    response: s.PartUrlsResponse,
  },
  {
    method: 'post',
    path: '/backups/{id}/copy/complete',
    summary: 'Agent: complete the copy; its checksum is verified before it counts',
    access: 'agent',
    body: rt.CompleteCopyBody,
    response: rt.BackupCopyResponse,
  },
  {
    method: 'post',
    path: '/backups/{id}/copy/fail',
    summary: 'Agent: the transfer failed (retried later, an alert after three failures)',
    access: 'agent',
    body: rt.FailCopyBody,
    response: rt.BackupCopyResponse,
  },
];
