import { ApiClientError } from '@resistro/contract/client';
import type { Agent, Database } from '@resistro/contract/schemas';
import { generateAgentKeyPair, openSealed } from '@resistro/contract/seal';
import { cleanup, fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setLocale } from '../i18n/index.ts';
import {
  createBody,
  type DatabaseFormValues,
  updateBody,
  validateDatabaseForm,
} from '../lib/database-form.ts';
import { DatabaseForm } from './database-form.tsx';

const agent: Agent = {
  id: '11111111-1111-4111-8111-111111111111',
  hostname: 'db1.example.test',
  os: 'linux',
  version: '0.1.0',
  tools: [],
  publicKey: 'A'.repeat(43),
  createdAt: '2026-11-01T00:00:00.000Z',
  lastSeenAt: '2026-11-01T00:00:00.000Z',
  online: true,
  outdated: false,
  latestVersion: '0.1.0',
  apiKeyId: null,
  keyRevokedAt: null,
};

function setup(extra: { editing?: Database; onSubmit?: (v: DatabaseFormValues) => Promise<void> } = {}) {
  const onSubmit = vi.fn(extra.onSubmit ?? (async () => {}));
  render(() => (
    <DatabaseForm
      ctx={{ agents: [agent], maxRetentionDays: 30, editing: extra.editing }}
      planName="Business"
      onSubmit={onSubmit}
      onCancel={() => {}}
    />
  ));
  return { onSubmit };
}

const input = (label: RegExp | string) => screen.getByLabelText(label) as HTMLInputElement;
const type = (label: RegExp | string, value: string) => fireEvent.input(input(label), { target: { value } });
const submit = () => fireEvent.submit(document.querySelector('form')!);
/** The message the field's aria-describedby points at. */
const errorOf = (label: RegExp | string) => {
  const el = input(label);
  const ids = el.getAttribute('aria-describedby')?.split(' ') ?? [];
  return ids.map((id) => document.getElementById(id)).find((n) => n?.classList.contains('field-error'))
    ?.textContent;
};

beforeEach(() => setLocale('en'));
afterEach(cleanup);

describe('database form', () => {
  it('shows a message under every invalid field and does not submit', async () => {
    const { onSubmit } = setup();
    type('Host name or IP address', '');
    submit();
    expect(errorOf('Name')).toBe('This field is required.');
    expect(errorOf('Host name or IP address')).toBe('This field is required.');
    expect(errorOf('Database name')).toBe('This field is required.');
    expect(errorOf('User')).toBe('This field is required.');
    expect(errorOf('Password')).toBe('Enter the password; it is encrypted for the chosen agent.');
    expect(input('Name').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByRole('alert').textContent).toContain('Please correct the highlighted fields (5)');
    expect(onSubmit).not.toHaveBeenCalled();
    await waitFor(() => expect(document.activeElement).toBe(input('Name')));
  });

  it('rejects a bad host, a port out of range, a broken cron expression and a retention above the plan', () => {
    setup();
    type('Host name or IP address', 'db host!');
    type('Port', '70000');
    fireEvent.click(screen.getByLabelText('Cron', { selector: 'input[type=radio]' }));
    type(/^Cron expression$/, '61 * * * *');
    type('Keep backups for (days)', '31');
    submit();
    expect(errorOf('Host name or IP address')).toMatch(/host name or IP address/);
    expect(errorOf('Port')).toBe('Enter a port between 1 and 65535.');
    expect(errorOf(/^Cron expression$/)).toBe('Enter a cron expression with 5 fields, e.g. "0 2 * * *".');
    expect(errorOf('Keep backups for (days)')).toBe('Enter a whole number of days from 1 to 30.');
  });

  it('clears a message as soon as the field is fixed', () => {
    setup();
    submit();
    expect(errorOf('Name')).toBe('This field is required.');
    type('Name', 'Shop');
    expect(errorOf('Name')).toBeUndefined();
  });

  it('moves the port with the engine unless the user typed their own', () => {
    setup();
    expect(input('Port').value).toBe('5432');
    fireEvent.change(input('Database system'), { target: { value: 'mariadb' } });
    expect(input('Port').value).toBe('3306');
    type('Port', '13306');
    fireEvent.change(input('Database system'), { target: { value: 'postgres' } });
    expect(input('Port').value).toBe('13306');
  });

  it('previews the next five runs of the schedule in its time zone', () => {
    setup();
    fireEvent.change(input('Time zone'), { target: { value: 'Europe/Berlin' } });
    type('Time', '03:30');
    const runs = screen.getByTestId('next-runs').querySelectorAll('li');
    expect(runs).toHaveLength(5);
    for (const li of runs) expect(li.querySelector('time')?.textContent).toMatch(/03:30/);
    fireEvent.click(screen.getByLabelText('Cron', { selector: 'input[type=radio]' }));
    type(/^Cron expression$/, 'not cron');
    expect(screen.queryByTestId('next-runs')).toBeNull();
    expect(screen.getByText('Enter a valid schedule to see the next runs.')).toBeTruthy();
  });

  it("shows the server's per-field messages next to the fields", async () => {
    setup({
      onSubmit: async () => {
        throw new ApiClientError(
          422,
          'validation_failed',
          'Invalid input: schedule.timezone is not a known time zone',
          {
            'schedule.timezone': 'is not a known time zone',
            retentionDays: 'must be at most 30 days on the Business plan',
          },
        );
      },
    });
    type('Name', 'Shop');
    type('Database name', 'shop');
    type('User', 'backup');
    type('Password', 'secret');
    submit();
    await waitFor(() => expect(errorOf('Time zone')).toBe('is not a known time zone'));
    expect(errorOf('Keep backups for (days)')).toBe('must be at most 30 days on the Business plan');
    expect(screen.getByRole('alert').textContent).toContain(
      'Invalid input: schedule.timezone is not a known time zone',
    );
  });

  it('keeps the stored password when editing unless the agent changes', () => {
    const editing: Database = {
      id: '22222222-2222-4222-8222-222222222222',
      name: 'Shop',
      engine: 'postgres',
      host: 'localhost',
      port: 5432,
      database: 'shop',
      user: 'backup',
      credentialsMode: 'sealed',
      schedule: { kind: 'daily', time: '02:00', timezone: 'UTC' },
      retentionDays: 7,
      compressionLevel: 3,
      agentId: agent.id,
      paused: false,
      status: 'active',
      lastBackupAt: null,
      lastSuccessAt: null,
      lastError: null,
      nextRunAt: null,
      connectionCheck: null,
      createdAt: '2026-11-01T00:00:00.000Z',
      updatedAt: '2026-11-01T00:00:00.000Z',
    };
    const { onSubmit } = setup({ editing });
    expect(input('Database system').disabled).toBe(true);
    submit();
    expect(errorOf('Password')).toBeUndefined();
    expect(onSubmit).toHaveBeenCalledOnce();
  });
});

describe('request bodies', () => {
  const values: DatabaseFormValues = {
    name: ' Shop ',
    engine: 'postgres',
    host: 'db.example.com',
    port: '5433',
    database: 'shop',
    user: 'backup',
    credentialsMode: 'sealed',
    password: 'pässwörd with spaces',
    scheduleKind: 'cron',
    time: '02:00',
    timezone: 'Europe/Berlin',
    expression: ' 0 */6 * * * ',
    retentionDays: '14',
    agentId: agent.id,
    sqlitePath: '',
    paths: '',
    include: '',
    exclude: '',
    redisTls: false,
  };

  it('sends a SQLite file, directories with patterns and Redis with TLS as their sources, without SQL fields', async () => {
    const sqlite = await createBody({ ...values, engine: 'sqlite', sqlitePath: ' /srv/app.sqlite ' }, [
      agent,
    ]);
    expect(sqlite).toMatchObject({ engine: 'sqlite', source: { kind: 'sqlite', path: '/srv/app.sqlite' } });
    expect(sqlite).not.toHaveProperty('host');
    expect(sqlite).not.toHaveProperty('database');
    expect(sqlite.credentials).toEqual({ mode: 'local' });
    const dirs = await createBody(
      {
        ...values,
        engine: 'directory',
        paths: '/srv/uploads\n\n /etc/app ',
        include: '*.jpg',
        exclude: 'cache\n*.tmp',
      },
      [agent],
    );
    expect((dirs as { source?: unknown }).source).toEqual({
      kind: 'directory',
      paths: ['/srv/uploads', '/etc/app'],
      include: ['*.jpg'],
      exclude: ['cache', '*.tmp'],
    });
    const redis = await createBody(
      { ...values, engine: 'redis', user: '', redisTls: true, port: '6380', credentialsMode: 'local' },
      [agent],
    );
    expect(redis).toMatchObject({
      engine: 'redis',
      host: 'db.example.com',
      port: 6380,
      source: { kind: 'redis', tls: true },
    });
    expect(redis).not.toHaveProperty('user');
    expect(redis).not.toHaveProperty('database');
    const ctx = { maxRetentionDays: 30, agents: [agent] };
    expect(
      validateDatabaseForm({ ...values, engine: 'sqlite', sqlitePath: 'relative.db' }, ctx).sqlitePath,
    ).toEqual({
      key: 'validation.absolutePath',
    });
    expect(validateDatabaseForm({ ...values, engine: 'directory', paths: '' }, ctx).paths).toEqual({
      key: 'validation.required',
    });
    expect(
      validateDatabaseForm({ ...values, engine: 'directory', paths: '/srv', database: '', user: '' }, ctx),
    ).toEqual({});
  });

  it('seals the password to the agent so only its private key opens it', async () => {
    const pair = await generateAgentKeyPair();
    const body = await createBody(values, [{ ...agent, publicKey: pair.publicKey }]);
    expect(JSON.stringify(body)).not.toContain('pässwörd');
    expect(body.credentials.mode).toBe('sealed');
    if (body.credentials.mode !== 'sealed') throw new Error('not sealed');
    expect(await openSealed(pair, body.credentials.sealedPassword)).toBe('pässwörd with spaces');
    expect(body).toMatchObject({
      name: 'Shop',
      port: 5433,
      retentionDays: 14,
      schedule: { kind: 'cron', expression: '0 */6 * * *', timezone: 'Europe/Berlin' },
    });
  });

  it('sends no credentials on edit when the password is left empty', async () => {
    const db = { credentialsMode: 'sealed', agentId: agent.id } as Database;
    const body = await updateBody({ ...values, password: '' }, db, [agent]);
    expect(body.credentials).toBeUndefined();
    expect(body.agentId).toBeUndefined();
  });
});
