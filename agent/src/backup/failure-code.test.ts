// Which code a failed backup is reported with (the dashboard and alerts word it in the account's
// language): every kind of failure the agent tells apart maps to its code, with the parameters
// the sentence names; a failure with no fitting kind sends none (the text alone, as before).
import { ApiClientError } from '@resistro/contract';
import { describe, expect, it } from 'vitest';
import { DumpError, EngineError } from '../engines/engine.ts';
import { Interrupted, UserError } from '../errors.ts';
import { BackupStoppedError, failureCode } from './job.ts';

const work = { host: 'db.internal', port: 5432, database: 'shop', user: 'backup' };
const dump = (code: ConstructorParameters<typeof DumpError>[0]) =>
  new DumpError(code, 'pg_dump failed', 'hint', { tool: 'pg_dump', exitCode: 1, signal: null, stderr: 'x' });

describe('failureCode', () => {
  it('maps the engine errors with the parameters their sentences name', () => {
    expect(failureCode(dump('auth_failed'), work)).toEqual({
      errorCode: 'auth_failed',
      errorParams: { user: 'backup' },
    });
    expect(failureCode(dump('connection_failed'), work)).toEqual({
      errorCode: 'connection_failed',
      errorParams: { host: 'db.internal', port: '5432' },
    });
    expect(failureCode(dump('database_missing'), work)).toEqual({
      errorCode: 'database_missing',
      errorParams: { database: 'shop' },
    });
    expect(failureCode(dump('tool_failed'), work)).toEqual({
      errorCode: 'tool_failed',
      errorParams: { tool: 'pg_dump' },
    });
    expect(failureCode(dump('killed'), work)).toEqual({
      errorCode: 'tool_killed',
      errorParams: { tool: 'pg_dump' },
    });
    expect(failureCode(new EngineError('tool_missing', 'no pg_dump', 'install it'), work)).toEqual({
      errorCode: 'tool_missing',
    });
    expect(failureCode(dump('permission_denied'), work)).toEqual({ errorCode: 'permission_denied' });
  });

  it('names a stopped agent, a full disk, a refused completion and a bug', () => {
    expect(failureCode(new BackupStoppedError(), work)).toEqual({ errorCode: 'agent_stopped' });
    expect(failureCode(new Interrupted('SIGTERM'), work)).toEqual({ errorCode: 'agent_stopped' });
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      syscall: 'write',
      path: '/var/lib/resistro/spool/x',
    });
    expect(failureCode(enospc, work)).toEqual({ errorCode: 'disk_full' });
    const refused = new ApiClientError(409, 'conflict', 'Stored object has 3 bytes, the agent reported 4');
    expect(failureCode(refused, work, 'complete')).toEqual({ errorCode: 'upload_refused' });
    expect(failureCode(new TypeError('x is undefined'), work)).toEqual({ errorCode: 'internal' });
  });

  it('sends no code for a failure it cannot name (the text alone, as an older agent)', () => {
    expect(failureCode(new UserError('something the user can fix', 'do this'), work)).toBeUndefined();
    expect(failureCode(new EngineError('target_not_empty', 'not empty', 'hint'), work)).toBeUndefined();
  });
});
