// Every action in the dashboard that changes something (and the few reads some roles may not
// make), named by the API route it calls, with what that route needs as the contract's route
// table says: the lowest role ('download': a viewer with the download grant, or operator and up)
// and whether a read-only account may still call it. The worker checks every request by that
// table; actions.test.tsx holds these entries equal to it, so a control is never offered that the
// server would refuse. (The table itself carries every request schema, too heavy for the first load.)
import type { Role } from '@resistro/contract/roles';
import type { RouteSpec } from '@resistro/contract/routes';

export type Action = {
  method: RouteSpec['method'];
  path: string;
  role: Role | 'download';
  readOnly: 'allowed' | 'refused';
};

const a = (
  method: Action['method'],
  path: string,
  role: Action['role'],
  readOnly: Action['readOnly'] = 'refused',
): Action => ({ method, path, role, readOnly });

export const ACTIONS = {
  createDatabase: a('post', '/databases', 'operator'),
  editDatabase: a('patch', '/databases/{id}', 'operator'),
  deleteDatabase: a('delete', '/databases/{id}', 'operator'),
  pauseDatabase: a('post', '/databases/{id}/pause', 'operator'),
  resumeDatabase: a('post', '/databases/{id}/resume', 'operator'),
  backupNow: a('post', '/databases/{id}/backup-now', 'operator'),
  checkDatabase: a('post', '/databases/{id}/check', 'operator'),
  deleteBackup: a('delete', '/backups/{id}', 'operator'),
  setRetention: a('put', '/databases/{id}/retention', 'admin'),
  setPitr: a('put', '/databases/{id}/pitr', 'admin'),
  setStorageLocation: a('put', '/storage-location', 'admin'),
  removeStorageLocation: a('delete', '/storage-location', 'admin'),
  download: a('get', '/backups/{id}/download', 'download', 'allowed'),
  exportManifest: a('get', '/export/manifest', 'download', 'allowed'),
  restore: a('post', '/restores', 'operator'),
  cancelRestore: a('post', '/restores/{id}/cancel', 'operator'),
  testRestore: a('post', '/restore-tests', 'operator'),
  cancelRestoreTest: a('post', '/restore-tests/{id}/cancel', 'operator'),
  restoreTestSettings: a('put', '/databases/{id}/restore-tests/settings', 'operator'),
  removeAgent: a('delete', '/agents/{id}', 'operator'),
  acknowledgeAlert: a('post', '/alerts/{id}/acknowledge', 'operator'),
  listApiKeys: a('get', '/api-keys', 'operator', 'allowed'),
  createApiKey: a('post', '/api-keys', 'operator', 'allowed'),
  revokeApiKey: a('delete', '/api-keys/{id}', 'operator', 'allowed'),
  createChannel: a('post', '/channels', 'operator'),
  updateChannel: a('patch', '/channels/{id}', 'operator'),
  deleteChannel: a('delete', '/channels/{id}', 'operator'),
  testChannel: a('post', '/channels/{id}/test', 'operator'),
  /** alert e-mails, language, time zone */
  updateAccount: a('patch', '/account', 'admin'),
  invite: a('post', '/invitations', 'admin'),
  withdrawInvitation: a('delete', '/invitations/{id}', 'admin'),
  updateMember: a('patch', '/members/{id}', 'admin'),
  removeMember: a('delete', '/members/{id}', 'admin', 'allowed'),
  requireTwoFactor: a('patch', '/account/security', 'owner', 'allowed'),
  readSso: a('get', '/account/sso', 'owner', 'allowed'),
  updateSso: a('patch', '/account/sso', 'owner'),
  removeSso: a('delete', '/account/sso', 'owner'),
  readBilling: a('get', '/billing', 'owner', 'allowed'),
  changePlan: a('post', '/billing/plan', 'owner'),
  cancelAccount: a('delete', '/account', 'owner', 'allowed'),
  readAudit: a('get', '/audit', 'admin', 'allowed'),
} as const satisfies Record<string, Action>;

/** `data-action` of a control: what the browser tests check against the route table. */
export const actionAttr = (action: Action) => `${action.method.toUpperCase()} ${action.path}`;
