import { CheckReportBody, CreateDatabaseBody, UpdateDatabaseBody } from '@resistro/contract';
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { auditRequest } from '../audit/audit.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readBody, readId } from '../lib/validate.ts';
import { reportCheck, requestCheck } from './checks.ts';
import {
  createDatabase,
  deleteDatabase,
  findDatabase,
  listDatabases,
  requestBackup,
  setPaused,
  toDatabase,
  updateDatabase,
} from './databases.ts';

export const databaseRoutes = new Hono<AppEnv>()
  .get('/databases', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    return c.json({ items: await listDatabases(c.get('db'), p.accountId, c.get('now')) });
  })
  .post('/databases', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const input = await readBody(c, CreateDatabaseBody);
    const database = await createDatabase(c.get('db'), p.accountId, input, c.get('now'));
    await auditRequest(c, 'database.created', { kind: 'database', id: database.id }, { name: database.name });
    return c.json({ database }, 201);
  })
  .get('/databases/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    const row = await findDatabase(c.get('db'), p.accountId, readId(c, 'database'));
    return c.json({ database: toDatabase(row, c.get('now')) });
  })
  .patch('/databases/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const id = readId(c, 'database');
    const input = await readBody(c, UpdateDatabaseBody);
    const database = await updateDatabase(c.get('db'), p.accountId, id, input, c.get('now'));
    // the names of the changed settings, never their values (a password is one)
    await auditRequest(
      c,
      'database.changed',
      { kind: 'database', id },
      { fields: Object.keys(input).sort() },
    );
    return c.json({ database });
  })
  .post('/databases/:id/pause', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const id = readId(c, 'database');
    const database = await setPaused(c.get('db'), p.accountId, id, true, c.get('now'));
    await auditRequest(c, 'database.paused', { kind: 'database', id });
    return c.json({ database });
  })
  .post('/databases/:id/resume', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const id = readId(c, 'database');
    const database = await setPaused(c.get('db'), p.accountId, id, false, c.get('now'));
    await auditRequest(c, 'database.resumed', { kind: 'database', id });
    return c.json({ database });
  })
  .post('/databases/:id/backup-now', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const id = readId(c, 'database');
    const request = await requestBackup(c.get('db'), p.accountId, id, c.get('now'));
    await auditRequest(c, 'backup.requested', { kind: 'database', id });
    return c.json({ request }, 202);
  })
  .post('/databases/:id/check', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const row = await requestCheck(c.get('db'), p.accountId, readId(c, 'database'), c.get('now'));
    return c.json({ database: toDatabase(row, c.get('now')) });
  })
  .post('/databases/:id/check-result', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'database');
    const input = await readBody(c, CheckReportBody);
    return c.json({ connectionCheck: await reportCheck(c.get('db'), p.accountId, id, input, c.get('now')) });
  })
  .delete('/databases/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const id = readId(c, 'database');
    const { name } = await findDatabase(c.get('db'), p.accountId, id);
    await deleteDatabase(c.get('db'), p.accountId, id, c.get('now'));
    await auditRequest(c, 'database.deleted', { kind: 'database', id }, { name });
    return c.body(null, 204);
  });
