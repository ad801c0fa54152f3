// Field messages of the error envelope: a missing field says "is required", a wrong one says what
// was expected, and a cron expression out of range says which ranges apply.
import {
  CreateDatabaseBody,
  FailBackupBody,
  generateAgentKeyPair,
  HeartbeatBody,
  sealToAgent,
  UNSTORABLE_TEXT,
} from '@resistro/contract';
import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { ApiError } from '../errors.ts';
import { fieldErrors, parseInput, unstorablePaths } from './validate.ts';

const heartbeat = {
  hostname: 'db1',
  os: 'linux',
  version: '0.1.0',
  tools: [],
  publicKey: 'A'.repeat(43),
};

const errorsOf = (input: unknown) => fieldErrors(v.safeParse(CreateDatabaseBody, input).issues ?? []);

describe('field messages', () => {
  test('a missing field is required, whatever kind of schema it has', () => {
    const fields = errorsOf({ name: 'x' });
    expect(fields.engine).toBe('is required');
    expect(Object.values(fields)).not.toContain('is invalid (expected "engine")');
  });

  test('a wrong value says what was expected, without echoing the value', () => {
    const fields = errorsOf({ name: 'x', engine: 'oracle' });
    expect(fields.engine).toMatch(/^must be one of postgres/);
    expect(fields.engine).not.toContain('oracle');
  });

  const base = {
    name: 'shop',
    engine: 'postgres',
    host: 'db.example.test',
    database: 'shop',
    user: 'backup',
    credentials: { mode: 'local' },
    schedule: { kind: 'daily', time: '02:00', timezone: 'UTC' },
    agentId: '0b0e1c4e-1d2f-4a3b-8c4d-5e6f7a8b9c0d',
  };

  test('a cron expression out of range names the ranges', () => {
    const fields = errorsOf({
      ...base,
      schedule: { kind: 'cron', expression: '61 * * * *', timezone: 'UTC' },
    });
    expect(fields['schedule.expression']).toMatch(/minute 0–59, hour 0–23/);
    expect(
      errorsOf({ ...base, schedule: { kind: 'cron', expression: '*/5 * * * *', timezone: 'UTC' } }),
    ).toEqual({});
  });

  test('a sealed password must have the shape of one; a real sealed value passes', async () => {
    const fake = errorsOf({ ...base, credentials: { mode: 'sealed', sealedPassword: 'A'.repeat(120) } });
    expect(fake['credentials.sealedPassword']).toMatch(/^is not a sealed value/);
    const pair = await generateAgentKeyPair();
    const sealed = await sealToAgent(pair.publicKey, 'hunter2');
    expect(errorsOf({ ...base, credentials: { mode: 'sealed', sealedPassword: sealed } })).toEqual({});
    // cut short: the tag is gone
    expect(
      errorsOf({ ...base, credentials: { mode: 'sealed', sealedPassword: sealed.slice(0, 82) } })[
        'credentials.sealedPassword'
      ],
    ).toMatch(/^is not a sealed value/);
  });
});

describe('text PostgreSQL cannot store', () => {
  const refused = (schema: v.GenericSchema, input: unknown) => {
    try {
      parseInput(schema, input);
    } catch (e) {
      return e instanceof ApiError ? { status: e.status, fields: e.fields } : undefined;
    }
    return undefined;
  };

  test('is refused with the field named, in fields the contract declares as Text', () => {
    expect(
      refused(HeartbeatBody, { ...heartbeat, tools: [{ name: 'pg_dump', version: '\ud800x', path: '/' }] }),
    ).toEqual({ status: 422, fields: { 'tools.0.version': UNSTORABLE_TEXT } });
    expect(refused(HeartbeatBody, { ...heartbeat, hostname: 'db\0' })?.fields).toHaveProperty('hostname');
  });

  test('is refused, with its path, in a field declared without Text', () => {
    const loose = v.object({ notes: v.array(v.object({ text: v.string() })) });
    expect(refused(loose, { notes: [{ text: 'ok' }, { text: 'a\0b' }] })).toEqual({
      status: 422,
      fields: { 'notes.1.text': UNSTORABLE_TEXT },
    });
    expect(unstorablePaths({ 'k\udc00': 1, ok: ['\ud83d\ude00', 'שלום'] })).toEqual(['k\udc00']);
  });

  test("the agent's error text is kept, with NUL and broken characters replaced", () => {
    const out = parseInput(FailBackupBody, { error: 'pg_dump: \0 bad \ud800 byte' });
    expect(out.error).toBe('pg_dump: \ufffd bad \ufffd byte');
  });
});

describe("the failure report's code", () => {
  test('an unknown code is a 422 naming errorCode', () => {
    try {
      parseInput(FailBackupBody, { error: 'pg_dump failed', errorCode: 'disk_on_fire' });
      expect.unreachable('an unknown code must be refused');
    } catch (e) {
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).status).toBe(422);
      expect((e as ApiError).fields).toEqual({ errorCode: 'is not a known backup error code' });
    }
  });
});
