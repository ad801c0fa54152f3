// The typed API client that the dashboard and the agent use. Errors arrive as ApiClientError
// carrying the server's code and message (never a bare status).

import type * as v from 'valibot';
import type * as al from './alerts.ts';
import type { BackupErrorCode, BackupErrorParams } from './backup-errors.ts';
import type * as bl from './billing.ts';
import type * as ck from './checks.ts';
import type * as dd from './dedup.ts';
import type { ErrorCode, ErrorEnvelope } from './errors.ts';
import type * as id from './identity.ts';
import { allPages, type PageQuery } from './page.ts';
import type * as pt from './pitr.ts';
import type * as rt from './restore-tests.ts';
import type * as rs from './restores.ts';
import type * as ret from './retention.ts';
import type * as s from './schemas.ts';
import type * as tm from './teams.ts';

export class ApiClientError extends Error {
  readonly status: number;
  /**
   * `network_error`: no answer; `unexpected_response`: an answer that is not the service's API
   * (no error envelope, not JSON), e.g. a wrong endpoint address or a proxy's error page.
   */
  readonly code: ErrorCode | 'network_error' | 'unexpected_response';
  readonly fields: Record<string, string> | undefined;
  constructor(
    status: number,
    code: ApiClientError['code'],
    message: string,
    fields?: Record<string, string>,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ApiClientError';
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

export type ClientOptions = {
  /** e.g. https://cloud.resistro.org/api (the agent's RESISTRO_ENDPOINT) or '/api' in the browser */
  endpoint: string;
  apiKey?: string;
  fetch?: typeof fetch;
  /** browser: send the session cookie */
  credentials?: 'include' | 'same-origin' | 'omit';
  userAgent?: string;
  /** per request, default 30 s */
  timeoutMs?: number;
};

type Query = Record<string, string | number | undefined>;

/** Code-point order, the same in every locale (as PostgreSQL's "C" collation sorts). */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function createApiClient(opts: ClientOptions) {
  const base = `${opts.endpoint.replace(/\/+$/, '')}/v1`;
  const doFetch = opts.fetch ?? fetch;

  async function request<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    const url = new URL(`${base}${path}`, (globalThis as { location?: { href: string } }).location?.href);
    for (const [k, v] of Object.entries(query ?? {}))
      if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    // SECURITY: the API key travels only in the Authorization header, never in a URL.
    if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
    if (opts.userAgent) headers['user-agent'] = opts.userAgent;
    let res: Response;
    try {
      const init = {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: opts.credentials,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
      };
      // `credentials` is known to browsers and Node, not to the Workers type library.
      res = await doFetch(url.toString(), init as Parameters<typeof fetch>[1]);
    } catch (e) {
      throw new ApiClientError(
        0,
        'network_error',
        `Cannot reach ${base}: ${(e as Error).message}`,
        undefined,
        { cause: e },
      );
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new ApiClientError(
        res.status,
        'unexpected_response',
        `Unexpected response (HTTP ${res.status}, not JSON) from ${base}`,
      );
    }
    if (!res.ok) {
      const err = (json as ErrorEnvelope | undefined)?.error;
      throw new ApiClientError(
        res.status,
        err?.code ?? 'unexpected_response',
        err?.message ?? `Unexpected response (HTTP ${res.status}, no error envelope) from ${base}`,
        err?.fields,
      );
    }
    return json as T;
  }

  return {
    request,
    signup: (body: s.SignupBody) => request<s.MeResponse>('POST', '/auth/signup', body),
    login: (body: { email: string; password: string }) =>
      request<id.LoginResponse>('POST', '/auth/login', body),
    // identity (issue 16)
    login2fa: (body: { challenge: string; code: string }) =>
      request<s.MeResponse>('POST', '/auth/login/2fa', body),
    verifyEmail: (token: string) =>
      request<{ kind: 'verify_email' | 'change_email' | 'verify_alert_email'; email: string }>(
        'POST',
        '/auth/verify-email',
        { token },
      ),
    resendVerification: () => request<void>('POST', '/auth/verify-email/resend'),
    requestPasswordReset: (email: string) => request<void>('POST', '/auth/password-reset/request', { email }),
    resetPassword: (body: { token: string; password: string }) =>
      request<void>('POST', '/auth/password-reset', body),
    changePassword: (body: { currentPassword: string; newPassword: string }) =>
      request<void>('POST', '/auth/password', body),
    changeEmail: (body: { email: string; password: string }) => request<void>('POST', '/auth/email', body),
    twoFactorSetup: (password: string) => request<id.TwoFactorSetup>('POST', '/auth/2fa/setup', { password }),
    twoFactorEnable: (code: string) =>
      request<{ recoveryCodes: string[] }>('POST', '/auth/2fa/enable', { code }),
    twoFactorDisable: (body: { password: string; code: string }) =>
      request<void>('POST', '/auth/2fa/disable', body),
    newRecoveryCodes: (code: string) =>
      request<{ recoveryCodes: string[] }>('POST', '/auth/2fa/recovery-codes', { code }),
    listSessions: () => request<{ items: id.SessionInfo[] }>('GET', '/auth/sessions'),
    revokeSession: (sessionId: string) =>
      request<void>('DELETE', `/auth/sessions/${encodeURIComponent(sessionId)}`),
    revokeAllSessions: () => request<{ revoked: number }>('POST', '/auth/sessions/revoke-all'),
    ssoStart: (email: string) => request<{ url: string }>('GET', '/auth/sso/start', undefined, { email }),
    getSso: () => request<{ sso: id.SsoConfig | null }>('GET', '/account/sso'),
    /** the client secret is write-only: leave it out to keep the stored one */
    updateSso: (body: {
      issuer: string;
      clientId: string;
      clientSecret?: string;
      domains: string[];
      enabled: boolean;
    }) => request<{ sso: id.SsoConfig }>('PATCH', '/account/sso', body),
    removeSso: () => request<void>('DELETE', '/account/sso'),
    updateSecurity: (body: { require2fa: boolean }) =>
      request<{ account: s.Account }>('PATCH', '/account/security', body),
    logout: () => request<void>('POST', '/auth/logout'),
    me: () => request<s.MeResponse>('GET', '/auth/me'),
    account: () => request<{ account: s.Account }>('GET', '/account'),
    updateAccount: (body: {
      plan?: s.Account['plan'];
      alertEmails?: string[];
      language?: s.Language;
      timeZone?: string;
    }) => request<{ account: s.Account }>('PATCH', '/account', body),
    cancelAccount: () => request<s.ClosingResponse>('DELETE', '/account'),
    requestAccountDeletion: (password: string) =>
      request<s.ClosingResponse>('POST', '/account/deletion', { password }),
    reopenAccount: () => request<s.ClosingResponse>('POST', '/account/reopen'),
    /** One page of the export manifest. */
    exportManifestPage: (q: { databaseId?: string } & PageQuery = {}) =>
      request<s.ExportManifest>('GET', '/export/manifest', undefined, q),
    /**
     * The whole manifest, page after page, in one object (the CLI's export and the dashboard's
     * file): grouped by database, oldest first; the count and size are those of the items.
     */
    exportManifest: async (query: { databaseId?: string } = {}): Promise<s.ExportManifest> => {
      let first: s.ExportManifest | undefined;
      const items = await allPages(async (q) => {
        const page = await request<s.ExportManifest>('GET', '/export/manifest', undefined, {
          ...query,
          ...q,
        });
        first ??= page;
        return page;
      });
      items.sort(
        (a, b) =>
          compare(a.databaseName, b.databaseName) ||
          compare(a.databaseId, b.databaseId) ||
          compare(a.startedAt, b.startedAt) ||
          compare(a.backupId, b.backupId),
      );
      return {
        ...first!,
        backups: items.length,
        totalBytes: items.reduce((n, i) => n + i.sizeBytes, 0),
        items,
        nextCursor: null,
      };
    },

    listApiKeys: (q: PageQuery = {}) =>
      request<v.InferOutput<typeof s.ApiKeyList>>('GET', '/api-keys', undefined, q),
    /** Every key in use, page after page (the settings list). */
    allApiKeys: () =>
      allPages((q) => request<v.InferOutput<typeof s.ApiKeyList>>('GET', '/api-keys', undefined, q)),
    createApiKey: (body: { name: string; scope: s.ApiKey['scope'] }) =>
      request<s.CreatedApiKey>('POST', '/api-keys', body),
    revokeApiKey: (id: string) => request<void>('DELETE', `/api-keys/${encodeURIComponent(id)}`),

    heartbeat: (body: s.HeartbeatBody) => request<s.HeartbeatResponse>('POST', '/agent/heartbeat', body),
    listAgents: (q: PageQuery = {}) =>
      request<v.InferOutput<typeof s.AgentList>>('GET', '/agents', undefined, q),
    /** Every agent, page after page (pickers and overviews). */
    allAgents: () =>
      allPages((q) => request<v.InferOutput<typeof s.AgentList>>('GET', '/agents', undefined, q)),
    getAgent: (id: string) => request<{ agent: s.Agent }>('GET', `/agents/${encodeURIComponent(id)}`),
    deleteAgent: (id: string) => request<void>('DELETE', `/agents/${encodeURIComponent(id)}`),

    listDatabases: () => request<{ items: s.Database[] }>('GET', '/databases'),
    getDatabase: (id: string) =>
      request<{ database: s.Database }>('GET', `/databases/${encodeURIComponent(id)}`),
    createDatabase: (body: s.CreateDatabaseBody) =>
      request<{ database: s.Database }>('POST', '/databases', body),
    updateDatabase: (id: string, body: s.UpdateDatabaseBody) =>
      request<{ database: s.Database }>('PATCH', `/databases/${encodeURIComponent(id)}`, body),
    pauseDatabase: (id: string) =>
      request<{ database: s.Database }>('POST', `/databases/${encodeURIComponent(id)}/pause`),
    resumeDatabase: (id: string) =>
      request<{ database: s.Database }>('POST', `/databases/${encodeURIComponent(id)}/resume`),
    backupNow: (id: string) =>
      request<{ request: s.BackupRequest }>('POST', `/databases/${encodeURIComponent(id)}/backup-now`),
    deleteDatabase: (id: string) => request<void>('DELETE', `/databases/${encodeURIComponent(id)}`),
    checkDatabase: (id: string) =>
      request<{ database: s.Database }>('POST', `/databases/${encodeURIComponent(id)}/check`),
    reportCheck: (id: string, body: ck.CheckReportBody) =>
      request<{ connectionCheck: ck.ConnectionCheck }>(
        'POST',
        `/databases/${encodeURIComponent(id)}/check-result`,
        body,
      ),

    listBackups: (
      q: {
        databaseId?: string;
        status?: s.Backup['status'];
        from?: string;
        to?: string;
        cursor?: string;
        limit?: number;
      } = {},
    ) => request<s.BackupList>('GET', '/backups', undefined, q),
    getBackup: (id: string) => request<{ backup: s.Backup }>('GET', `/backups/${encodeURIComponent(id)}`),
    deleteBackup: (id: string) => request<void>('DELETE', `/backups/${encodeURIComponent(id)}`),
    downloadBackup: (id: string) =>
      request<s.DownloadResponse>('GET', `/backups/${encodeURIComponent(id)}/download`),

    startBackup: (body: s.StartBackupBody) => request<s.StartBackupResponse>('POST', '/backups', body),
    /** Part numbers alone, or parts with their checksums for an upload that checks them. */
    partUrls: (id: string, parts: number[] | { partNumber: number; checksum: string }[]) =>
      request<s.PartUrlsResponse>(
        'POST',
        `/backups/${encodeURIComponent(id)}/parts`,
        parts.every((p) => typeof p === 'number') ? { partNumbers: parts } : { parts },
      ),
    completeBackup: (id: string, body: s.CompleteBackupBody) =>
      request<{ backup: s.Backup }>('POST', `/backups/${encodeURIComponent(id)}/complete`, body),
    dedupUsage: () => request<dd.DedupUsage>('GET', '/dedup/usage'),
    dedupReads: (id: string) =>
      request<dd.DedupReads>('GET', `/backups/${encodeURIComponent(id)}/dedup/reads`),
    dedupHave: (id: string, body: dd.DedupHaveBody) =>
      request<dd.DedupHaveResponse>('POST', `/backups/${encodeURIComponent(id)}/dedup/have`, body),
    dedupPack: (id: string, body: dd.DedupPackBody) =>
      request<dd.DedupPackResponse>('POST', `/backups/${encodeURIComponent(id)}/dedup/packs`, body),
    dedupPackComplete: (id: string, packId: string, body: dd.DedupPackCompleteBody) =>
      request<void>(
        'POST',
        `/backups/${encodeURIComponent(id)}/dedup/packs/${encodeURIComponent(packId)}/complete`,
        body,
      ),
    dedupRefs: (id: string, body: dd.DedupRefsBody) =>
      request<void>('POST', `/backups/${encodeURIComponent(id)}/dedup/refs`, body),
    dedupSeal: (id: string, body: dd.DedupSealBody) =>
      request<void>('POST', `/backups/${encodeURIComponent(id)}/dedup/seal`, body),
    failBackup: (
      id: string,
      body: {
        error: string;
        errorCode?: BackupErrorCode;
        errorParams?: BackupErrorParams;
        durationMs?: number;
      },
    ) => request<{ backup: s.Backup }>('POST', `/backups/${encodeURIComponent(id)}/fail`, body),

    getRetention: (databaseId: string) =>
      request<{ rule: ret.RetentionRule }>('GET', `/databases/${encodeURIComponent(databaseId)}/retention`),
    putRetention: (databaseId: string, body: v.InferInput<typeof ret.PutRetentionBody>) =>
      request<{ rule: ret.RetentionRule }>(
        'PUT',
        `/databases/${encodeURIComponent(databaseId)}/retention`,
        body,
      ),
    previewRetention: (databaseId: string, tiers: ret.RetentionTiers | null) =>
      request<ret.RetentionPreview>(
        'POST',
        `/databases/${encodeURIComponent(databaseId)}/retention/preview`,
        {
          tiers,
        },
      ),
    getStorageLocation: () =>
      request<{ location: v.InferOutput<typeof ret.StorageLocation> | null }>('GET', '/storage-location'),
    putStorageLocation: (body: v.InferInput<typeof ret.PutStorageLocationBody>) =>
      request<{ location: v.InferOutput<typeof ret.StorageLocation> }>('PUT', '/storage-location', body),
    deleteStorageLocation: () => request<void>('DELETE', '/storage-location'),
    startCopy: (backupId: string) =>
      request<ret.CopyStartResponse>('POST', `/backups/${encodeURIComponent(backupId)}/copy/start`),
    copyPartUrls: (backupId: string, parts: { partNumber: number; checksum?: string }[]) =>
      request<s.PartUrlsResponse>('POST', `/backups/${encodeURIComponent(backupId)}/copy/parts`, { parts }),
    completeCopy: (backupId: string, body: ret.CompleteCopyBody) =>
      request<{ copy: ret.BackupCopy }>(
        'POST',
        `/backups/${encodeURIComponent(backupId)}/copy/complete`,
        body,
      ),
    failCopy: (backupId: string, error: string) =>
      request<{ copy: ret.BackupCopy }>('POST', `/backups/${encodeURIComponent(backupId)}/copy/fail`, {
        error,
      }),

    createRestore: (body: rs.CreateRestoreBody) =>
      request<{ restore: rs.Restore }>('POST', '/restores', body),
    listRestores: (q: { databaseId?: string; limit?: number } = {}) =>
      request<{ items: rs.Restore[] }>('GET', '/restores', undefined, q),
    getRestore: (id: string) =>
      request<{ restore: rs.Restore }>('GET', `/restores/${encodeURIComponent(id)}`),
    cancelRestore: (id: string) =>
      request<{ restore: rs.Restore }>('POST', `/restores/${encodeURIComponent(id)}/cancel`),
    agentRestores: (agentId: string) =>
      request<{ items: rs.RestoreJob[] }>('GET', '/agent/restores', undefined, { agentId }),
    claimRestore: (id: string) =>
      request<{ restore: rs.Restore }>('POST', `/restores/${encodeURIComponent(id)}/claim`),
    reportRestoreProgress: (id: string, body: v.InferInput<typeof rs.RestoreProgressBody>) =>
      request<{ cancelRequested: boolean }>('POST', `/restores/${encodeURIComponent(id)}/progress`, body),
    finishRestore: (id: string, body: rs.FinishRestoreBody) =>
      request<{ restore: rs.Restore }>('POST', `/restores/${encodeURIComponent(id)}/finish`, body),

    // restore tests (issue 14): settings, "test now", history; the agent's start/progress/result
    getRestoreTestSettings: (databaseId: string) =>
      request<{ settings: rt.RestoreTestSettings }>(
        'GET',
        `/databases/${encodeURIComponent(databaseId)}/restore-tests/settings`,
      ),
    putRestoreTestSettings: (databaseId: string, body: rt.PutRestoreTestSettingsBody) =>
      request<{ settings: rt.RestoreTestSettings }>(
        'PUT',
        `/databases/${encodeURIComponent(databaseId)}/restore-tests/settings`,
        body,
      ),
    createRestoreTest: (body: { databaseId: string; backupId?: string }) =>
      request<{ restoreTest: rt.RestoreTest }>('POST', '/restore-tests', body),
    listRestoreTests: (q: { databaseId?: string; limit?: number } = {}) =>
      request<{ items: rt.RestoreTest[] }>('GET', '/restore-tests', undefined, q),
    restoreTestSummary: () =>
      request<v.InferOutput<typeof rt.RestoreTestSummary>>('GET', '/restore-tests/latest'),
    getRestoreTest: (id: string) =>
      request<{ restoreTest: rt.RestoreTest }>('GET', `/restore-tests/${encodeURIComponent(id)}`),
    cancelRestoreTest: (id: string) =>
      request<{ restoreTest: rt.RestoreTest }>('POST', `/restore-tests/${encodeURIComponent(id)}/cancel`),
    startRestoreTest: (id: string) =>
      request<{ restoreTest: rt.RestoreTest }>('POST', `/restore-tests/${encodeURIComponent(id)}/start`),
    reportRestoreTestProgress: (id: string, body: v.InferInput<typeof rt.RestoreTestProgressBody>) =>
      request<{ cancelRequested: boolean }>(
        'POST',
        `/restore-tests/${encodeURIComponent(id)}/progress`,
        body,
      ),
    reportRestoreTestResult: (id: string, body: rt.RestoreTestVerdict) =>
      request<{ restoreTest: rt.RestoreTest }>(
        'POST',
        `/restore-tests/${encodeURIComponent(id)}/result`,
        body,
      ),
    monthlyReport: (q: { month?: string } = {}) =>
      request<{ report: rt.MonthlyReport }>('GET', '/reports/monthly', undefined, q),

    listAlerts: (
      q: {
        status?: 'open' | 'resolved' | 'all';
        kind?: al.AlertKind;
        subjectId?: string;
        cursor?: string;
        limit?: number;
      } = {},
    ) => request<al.AlertList>('GET', '/alerts', undefined, q),
    getAlert: (id: string) => request<{ alert: al.Alert }>('GET', `/alerts/${encodeURIComponent(id)}`),
    acknowledgeAlert: (id: string) =>
      request<{ alert: al.Alert }>('POST', `/alerts/${encodeURIComponent(id)}/acknowledge`),
    listChannels: () => request<{ items: al.Channel[] }>('GET', '/channels'),
    getChannel: (id: string) =>
      request<{ channel: al.Channel }>('GET', `/channels/${encodeURIComponent(id)}`),
    createChannel: (body: al.CreateChannelBody) => request<al.CreatedChannel>('POST', '/channels', body),
    updateChannel: (id: string, body: al.UpdateChannelBody) =>
      request<{ channel: al.Channel }>('PATCH', `/channels/${encodeURIComponent(id)}`, body),
    deleteChannel: (id: string) => request<void>('DELETE', `/channels/${encodeURIComponent(id)}`),
    testChannel: (id: string) =>
      request<{ deliveries: al.Delivery[] }>('POST', `/channels/${encodeURIComponent(id)}/test`),
    listNotifications: (
      q: {
        status?: al.Delivery['status'];
        channelId?: string;
        alertId?: string;
        cursor?: string;
        limit?: number;
      } = {},
    ) => request<al.DeliveryList>('GET', '/notifications', undefined, q),
    // members, invitations, audit log (docs/teams.md, docs/audit-log.md)
    listMembers: (q: PageQuery = {}) =>
      request<v.InferOutput<typeof tm.MemberList>>('GET', '/members', undefined, q),
    /** Every member, page after page, with the open invitations (which come with the first page). */
    allMembers: async (): Promise<v.InferOutput<typeof tm.MemberList>> => {
      let invitations: tm.Invitation[] | undefined;
      const items = await allPages(async (q) => {
        const page = await request<v.InferOutput<typeof tm.MemberList>>('GET', '/members', undefined, q);
        invitations ??= page.invitations;
        return page;
      });
      return { items, invitations: invitations ?? [], nextCursor: null };
    },
    updateMember: (id: string, body: tm.UpdateMemberBody) =>
      request<{ member: tm.Member }>('PATCH', `/members/${encodeURIComponent(id)}`, body),
    removeMember: (id: string) =>
      request<{ removed: { id: string; email: string }; apiKeys: s.ApiKey[] }>(
        'DELETE',
        `/members/${encodeURIComponent(id)}`,
      ),
    invite: (body: tm.InviteBody) =>
      request<{ invitation: tm.Invitation; mailed: boolean }>('POST', '/invitations', body),
    withdrawInvitation: (id: string) => request<void>('DELETE', `/invitations/${encodeURIComponent(id)}`),
    previewInvitation: (token: string) =>
      request<tm.InvitationPreview>('GET', '/invitation', undefined, { token }),
    acceptInvitation: (body: { token: string; password: string }) =>
      request<s.MeResponse>('POST', '/invitation/accept', body),
    listAudit: (q: Omit<tm.AuditQuery, 'limit'> & { limit?: number } = {}) =>
      request<{ items: tm.AuditEntry[]; nextCursor: string | null }>('GET', '/audit', undefined, q),
    getMetricsToken: () => request<{ token: al.MetricsToken | null }>('GET', '/metrics-token'),
    createMetricsToken: () => request<al.CreatedMetricsToken>('POST', '/metrics-token'),
    deleteMetricsToken: () => request<void>('DELETE', '/metrics-token'),

    // point-in-time recovery (issue 13)
    pitrStatus: (databaseId: string) =>
      request<pt.PitrStatus>('GET', `/databases/${encodeURIComponent(databaseId)}/pitr`),
    putPitrSettings: (databaseId: string, body: pt.PitrSettingsBody) =>
      request<pt.PitrStatus>('PUT', `/databases/${encodeURIComponent(databaseId)}/pitr`, body),
    agentPitr: (agentId: string) =>
      request<{ items: pt.PitrJob[] }>('GET', '/agent/pitr', undefined, { agentId }),
    pitrUploadUrls: (databaseId: string, segments: pt.PitrSegmentInput[]) =>
      request<pt.PitrUploadUrls>('POST', `/databases/${encodeURIComponent(databaseId)}/pitr/upload-urls`, {
        segments,
      }),
    registerPitrSegments: (databaseId: string, segments: pt.PitrSegmentInput[]) =>
      request<{ registered: number }>('POST', `/databases/${encodeURIComponent(databaseId)}/pitr/segments`, {
        segments,
      }),
    registerBaseBackup: (databaseId: string, body: pt.PitrBaseBackupBody) =>
      request<pt.PitrBaseBackup>(
        'POST',
        `/databases/${encodeURIComponent(databaseId)}/pitr/base-backups`,
        body,
      ),
    reportPitrStatus: (databaseId: string, body: pt.PitrStatusBody) =>
      request<{ ok: true }>('POST', `/databases/${encodeURIComponent(databaseId)}/pitr/status`, body),
    pitrRestorePlan: (databaseId: string, q: { time?: string; offset?: number; latest?: 'true' }) =>
      request<pt.PitrRestorePlan>(
        'GET',
        `/databases/${encodeURIComponent(databaseId)}/pitr/restore-plan`,
        undefined,
        q,
      ),
    pitrSegment: (databaseId: string, name: string, stream?: string) =>
      request<pt.PitrSegmentDownload>(
        'GET',
        `/databases/${encodeURIComponent(databaseId)}/pitr/segments/${encodeURIComponent(name)}`,
        undefined,
        { stream },
      ),

    billing: () => request<{ billing: bl.Billing }>('GET', '/billing'),
    startCheckout: (plan: s.Account['plan']) =>
      request<{ transactionId: string }>('POST', '/billing/checkout', { plan }),
    previewPlanChange: (plan: s.Account['plan']) =>
      request<{ preview: bl.PlanPreview }>('POST', '/billing/plan/preview', { plan }),
    changePlan: (plan: s.Account['plan']) =>
      request<{ billing: bl.Billing }>('POST', '/billing/plan', { plan }),
    listTransactions: (q: PageQuery = {}) =>
      request<v.InferOutput<typeof bl.TransactionList>>('GET', '/billing/transactions', undefined, q),
    /** Every payment, page after page. */
    allTransactions: () =>
      allPages((q) =>
        request<v.InferOutput<typeof bl.TransactionList>>('GET', '/billing/transactions', undefined, q),
      ),
    invoiceUrl: (id: string) =>
      request<{ url: string }>('GET', `/billing/transactions/${encodeURIComponent(id)}/invoice`),
    paymentMethodTransaction: () =>
      request<{ transactionId: string; url: string | null }>('POST', '/billing/payment-method'),
    cancelSubscription: () => request<{ billing: bl.Billing }>('POST', '/billing/cancel'),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
