import {
  AgentPitrQuery,
  ListPitrSegmentsQuery,
  PitrBaseBackupBody,
  PitrRestorePlanQuery,
  PitrSegmentBatch,
  PitrSegmentFetchQuery,
  PitrSettingsBody,
  PitrStatusBody,
} from '@resistro/contract';
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { auditRequest } from '../audit/audit.ts';
import { findDatabase } from '../databases/databases.ts';
import { ApiError } from '../errors.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readBody, readId, readQuery } from '../lib/validate.ts';
import { agentJobs, restorePlan } from './plan.ts';
import {
  listSegments,
  presignSegments,
  registerBaseBackup,
  registerSegments,
  segmentDownload,
} from './registry.ts';
import { pitrStatus, putSettings, recordStatus } from './settings.ts';

const SEGMENT_NAME = /^[A-Za-z0-9._-]{1,128}$/;

export const pitrRoutes = new Hono<AppEnv>()
  .get('/databases/:id/pitr', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    return c.json(await pitrStatus(c.get('db'), p.accountId, readId(c, 'database'), c.get('now')));
  })
  .put('/databases/:id/pitr', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const id = readId(c, 'database');
    const input = await readBody(c, PitrSettingsBody);
    const status = await putSettings(c.get('db'), p.accountId, id, input, c.get('now'));
    await auditRequest(c, 'pitr.settings_changed', { kind: 'database', id }, { ...status.settings });
    return c.json(status);
  })
  .get('/databases/:id/pitr/segments', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    const id = readId(c, 'database');
    return c.json(await listSegments(c.get('db'), p.accountId, id, readQuery(c, ListPitrSegmentsQuery)));
  })
  .get('/databases/:id/pitr/restore-plan', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'download');
    const id = readId(c, 'database');
    // another account's database is a 404 before the query is read
    await findDatabase(c.get('db'), p.accountId, id);
    const q = readQuery(c, PitrRestorePlanQuery);
    const plan = await restorePlan(
      c.get('db'),
      c.get('storage'),
      c.get('config'),
      p.accountId,
      id,
      q,
      c.get('now'),
    );
    await auditRequest(
      c,
      'pitr.restore_planned',
      { kind: 'database', id },
      {
        baseBackupId: plan.baseBackup.backupId,
        target: plan.target,
        segments: plan.segments.length,
      },
    );
    return c.json(plan);
  })
  .get('/databases/:id/pitr/segments/:name', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'download');
    const id = readId(c, 'database');
    const name = c.req.param('name');
    // a name that cannot be a segment names nothing: 404, like one of another account
    if (!SEGMENT_NAME.test(name)) throw new ApiError('not_found', 'segment not found');
    const q = readQuery(c, PitrSegmentFetchQuery);
    const { storage, config, db, now } = c.var;
    return c.json(await segmentDownload(db, storage, config, p.accountId, id, name, q.stream, now));
  })
  .get('/agent/pitr', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const q = readQuery(c, AgentPitrQuery);
    return c.json(await agentJobs(c.get('db'), p.accountId, q.agentId, c.get('now')));
  })
  .post('/databases/:id/pitr/upload-urls', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'database');
    const input = await readBody(c, PitrSegmentBatch);
    const { storage, config, db, now } = c.var;
    return c.json(await presignSegments(db, storage, config, p.accountId, id, input.segments, now));
  })
  .post('/databases/:id/pitr/segments', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'database');
    const input = await readBody(c, PitrSegmentBatch);
    return c.json(
      await registerSegments(c.get('db'), c.get('storage'), p.accountId, id, input.segments, c.get('now')),
    );
  })
  .post('/databases/:id/pitr/base-backups', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'database');
    const input = await readBody(c, PitrBaseBackupBody);
    return c.json(await registerBaseBackup(c.get('db'), p.accountId, id, input, c.get('now')), 201);
  })
  .post('/databases/:id/pitr/status', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'database');
    const input = await readBody(c, PitrStatusBody);
    await recordStatus(c.get('db'), p.accountId, id, input, c.get('now'));
    return c.json({ ok: true });
  });
