// The dashboard offers an action exactly when the worker would accept it: every action names a
// route of the contract's table, and for every role (and a closed account) actionBlocked agrees
// with the rule the worker checks requests by.
import { ROLES } from '@resistro/contract/roles';
import { findRoute, refusedWhenReadOnly, requiredRole, roleAllows } from '@resistro/contract/routes';
import type { Account } from '@resistro/contract/schemas';
import { describe, expect, it } from 'vitest';
import { setLocale } from '../i18n/index.ts';
import { ACTIONS } from './actions.ts';
import { actionBlocked, setSession } from './session.ts';

const ACCOUNT: Account = {
  id: '11111111-1111-4111-8111-111111111111',
  plan: 'business',
  limits: { maxDatabases: 5, maxRetentionDays: 30, storageBytes: 10_000_000_000 },
  usage: { databases: 0, storageBytes: 0 },
  alertEmails: [],
  verifiedAlertEmails: [],
  require2fa: false,
  language: 'en',
  timeZone: 'UTC',
  closing: null,
  createdAt: '2026-11-01T10:00:00.000Z',
};
const user = (role: (typeof ROLES)[number], canDownload = false) => ({
  id: '22222222-2222-4222-8222-222222222222',
  email: 'member@example.test',
  role,
  canDownload,
  createdAt: ACCOUNT.createdAt,
  emailVerified: true,
  twoFactorEnabled: false,
});

describe('dashboard actions', () => {
  it("each names a route of the API and carries exactly that route's role and read-only rule", () => {
    for (const [name, action] of Object.entries(ACTIONS)) {
      const route = findRoute(action.method, action.path);
      expect(route, name).toBeDefined();
      const need = requiredRole(route!);
      expect(need, name).not.toBeNull();
      expect(action.role, name).toBe(need!.downloadGrant ? 'download' : need!.role);
      if (need!.downloadGrant) expect(need!.role, name).toBe('viewer');
      expect(action.readOnly, name).toBe(refusedWhenReadOnly(route!) ? 'refused' : 'allowed');
    }
  });

  it("are offered to exactly the roles the worker lets call them, with the role's reason otherwise", () => {
    setLocale('en');
    for (const role of ROLES) {
      for (const canDownload of [false, true]) {
        setSession({ user: user(role, canDownload), account: ACCOUNT });
        for (const [name, action] of Object.entries(ACTIONS)) {
          const allowed = roleAllows(findRoute(action.method, action.path)!, { role, canDownload });
          const reason = actionBlocked(action);
          expect(reason === undefined, `${role}${canDownload ? '+download' : ''} ${name}`).toBe(allowed);
          if (reason) expect(reason).toMatch(/Your role \(\w+\)/);
        }
      }
    }
  });

  it('a viewer is offered no restore, backup, delete, settings, API key or member change', () => {
    setSession({ user: user('viewer'), account: ACCOUNT });
    for (const name of [
      'restore',
      'backupNow',
      'deleteBackup',
      'deleteDatabase',
      'updateAccount',
      'createApiKey',
      'revokeApiKey',
      'invite',
      'updateMember',
      'removeMember',
      'createChannel',
      'acknowledgeAlert',
    ] as const) {
      expect(actionBlocked(ACTIONS[name]), name).toBe(
        ['invite', 'updateMember', 'removeMember', 'updateAccount'].includes(name)
          ? 'Your role (Viewer) cannot do this; it needs Admin or higher.'
          : 'Your role (Viewer) cannot do this; it needs Operator or higher.',
      );
    }
  });

  it('on a closed account, only what the worker still accepts there is offered, even to the owner', () => {
    const closing = {
      reason: 'cancelled' as const,
      requestedAt: '2026-11-20T10:00:00.000Z',
      effectiveAt: '2026-11-21T10:00:00.000Z',
      readOnly: true,
      purgeAt: '2026-12-21T10:00:00.000Z',
    };
    setSession({ user: user('owner'), account: { ...ACCOUNT, closing } });
    for (const [name, action] of Object.entries(ACTIONS)) {
      const refused = refusedWhenReadOnly(findRoute(action.method, action.path)!);
      expect(actionBlocked(action) !== undefined, name).toBe(refused);
    }
  });
});
