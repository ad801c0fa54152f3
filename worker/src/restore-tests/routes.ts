import {
  CreateRestoreTestBody,
  ListRestoreTestsQuery,
  MonthlyReportQuery,
  PutRestoreTestSettingsBody,
  type RestoreTest,
  RestoreTestProgressBody,
  RestoreTestVerdict,
} from '@resistro/contract';
import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { accounts } from '../accounts/accounts.sql.ts';
import type { AppEnv } from '../app-types.ts';
import { auditRequest, recordAudit, requestIp } from '../audit/audit.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readBody, readId, readQuery } from '../lib/validate.ts';
import { monthlyReport, previousMonth } from './report.ts';
import {
  cancelRestoreTest,
  createRestoreTest,
  findRestoreTest,
  listRestoreTests,
  reportRestoreTestProgress,
  reportRestoreTestResult,
  restoreTestSummary,
  startRestoreTest,
  toRestoreTest,
} from './restore-tests.ts';
import { getRestoreTestSettings, putRestoreTestSettings } from './settings.ts';

/** Which database and backup, who asked, and (once over) the verdict in short; no table names. */
function auditDetails(t: RestoreTest): Record<string, unknown> {
  return {
    databaseId: t.databaseId,
    backupId: t.backupId,
    trigger: t.trigger,
    target: t.target.kind,
    state: t.state,
    ...(t.restoreMs !== null && { restoreMs: t.restoreMs }),
    ...(t.tables && { tablesChecked: t.tables.checked, tablesFailed: t.tables.failed }),
    ...(t.errorCode && { errorCode: t.errorCode }),
  };
}

export const restoreTestRoutes = new Hono<AppEnv>()
  .get('/databases/:id/restore-tests/settings', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    return c.json({
      settings: await getRestoreTestSettings(c.get('db'), p.accountId, readId(c, 'database')),
    });
  })
  .put('/databases/:id/restore-tests/settings', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const id = readId(c, 'database');
    const input = await readBody(c, PutRestoreTestSettingsBody);
    const settings = await putRestoreTestSettings(c.get('db'), p.accountId, id, input, c.get('now'));
    await auditRequest(
      c,
      'restore_test.settings_changed',
      { kind: 'database', id },
      {
        enabled: settings.enabled,
        intervalHours: settings.intervalHours,
        target: settings.target.kind,
        timeLimitMinutes: settings.timeLimitMinutes,
        alertAfterDays: settings.alertAfterDays,
        checks: settings.checks.map((k) => k.name),
      },
    );
    return c.json({ settings });
  })
  .post('/restore-tests', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const input = await readBody(c, CreateRestoreTestBody);
    const restoreTest = await createRestoreTest(c.get('db'), p, input, c.get('now'));
    await auditRequest(
      c,
      'restore_test.requested',
      { kind: 'restore_test', id: restoreTest.id },
      auditDetails(restoreTest),
    );
    return c.json({ restoreTest }, 202);
  })
  .get('/restore-tests', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    return c.json({
      items: await listRestoreTests(c.get('db'), p.accountId, readQuery(c, ListRestoreTestsQuery)),
    });
  })
  .get('/restore-tests/latest', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    return c.json(await restoreTestSummary(c.get('db'), p.accountId));
  })
  .get('/reports/monthly', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    const q = readQuery(c, MonthlyReportQuery);
    const now = c.get('now');
    const [account] = await c
      .get('db')
      .select({ language: accounts.language })
      .from(accounts)
      .where(eq(accounts.id, p.accountId));
    const report = await monthlyReport(
      c.get('db'),
      { id: p.accountId, language: account?.language ?? 'en' },
      q.month ?? previousMonth(now),
      now,
    );
    return c.json({ report });
  })
  .get('/restore-tests/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    const row = await findRestoreTest(c.get('db'), p.accountId, readId(c, 'restore test'));
    return c.json({ restoreTest: toRestoreTest(row) });
  })
  .post('/restore-tests/:id/cancel', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const t = await cancelRestoreTest(c.get('db'), p.accountId, readId(c, 'restore test'), c.get('now'));
    await auditRequest(c, 'restore_test.cancelled', { kind: 'restore_test', id: t.id }, auditDetails(t));
    return c.json({ restoreTest: t });
  })
  .post('/restore-tests/:id/start', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    return c.json({
      restoreTest: await startRestoreTest(c.get('db'), p.accountId, readId(c, 'restore test'), c.get('now')),
    });
  })
  .post('/restore-tests/:id/progress', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'restore test');
    const input = await readBody(c, RestoreTestProgressBody);
    return c.json(await reportRestoreTestProgress(c.get('db'), p.accountId, id, input, c.get('now')));
  })
  .post('/restore-tests/:id/result', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'restore test');
    const input = await readBody(c, RestoreTestVerdict);
    const t = await reportRestoreTestResult(c.get('db'), p.accountId, id, input, c.get('now'));
    if (t.agentId)
      await recordAudit(c.get('db'), {
        accountId: p.accountId,
        actor: { kind: 'agent', agentId: t.agentId },
        ip: requestIp(c),
        action: 'restore_test.finished',
        objectKind: 'restore_test',
        objectId: t.id,
        details: auditDetails(t),
      });
    return c.json({ restoreTest: t });
  });
