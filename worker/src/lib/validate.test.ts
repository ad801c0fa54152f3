// Field messages of the error envelope: a missing field says "is required", a wrong one says what
// was expected, and a cron expression out of range says which ranges apply.
import { CreateDatabaseBody, generateAgentKeyPair, sealToAgent } from '@resistro/contract';
import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { fieldErrors } from './validate.ts';

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
