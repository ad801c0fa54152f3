// The "restore to…" helper writes the command the agent accepts, for the moment picked in the
// account's time zone, and refuses moments no restore can reach; the settings form turns
// continuous protection on with what the user typed. The agent's own --time parser reads every
// command back (agent/src/restore/target-time.ts), so the two cannot drift apart.
import type { PitrStatus } from '@resistro/contract/pitr';
import type { Account, Database } from '@resistro/contract/schemas';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@solidjs/testing-library';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseTargetTime } from '../../../agent/src/restore/target-time.ts';
import { applyAccountLocale, setLocale } from '../i18n/index.ts';
import { checkMoment, cliTime, fromLocalInput, restoreCommand, toLocalInput } from '../lib/pitr.ts';
import { setSession } from '../lib/session.ts';
import { stubApi } from '../test-utils.tsx';
import { PitrCard } from './pitr-card.tsx';

const ID = '33333333-3333-4333-8333-333333333333';
const ACCOUNT: Account = {
  id: '11111111-1111-4111-8111-111111111111',
  plan: 'business',
  limits: { maxDatabases: 5, maxRetentionDays: 30, storageBytes: 10_000_000_000 },
  usage: { databases: 1, storageBytes: 0 },
  alertEmails: [],
  verifiedAlertEmails: [],
  require2fa: false,
  language: 'en',
  timeZone: 'Europe/Berlin',
  closing: null,
  createdAt: '2026-11-01T10:00:00.000Z',
};
const admin = {
  id: '22222222-2222-4222-8222-222222222222',
  email: 'admin@example.test',
  role: 'admin' as const,
  canDownload: true,
  createdAt: ACCOUNT.createdAt,
  emailVerified: true,
  twoFactorEnabled: false,
};

function database(engine: Database['engine']): Database {
  return {
    id: ID,
    name: 'Shop',
    engine,
    host: 'db.internal',
    port: engine === 'postgres' ? 5432 : 3306,
    database: 'shop',
    user: 'backup',
  } as Database;
}

// two stretches: a gap broke the chain between 12:00 and 13:00 UTC, a new base backup followed
const RANGES = [
  { start: '2026-12-01T10:00:00.250Z', end: '2026-12-01T12:00:00.000Z' },
  { start: '2026-12-01T13:00:00.000Z', end: '2026-12-01T14:30:45.900Z' },
];

function status(over: Partial<PitrStatus> = {}): PitrStatus {
  return {
    databaseId: ID,
    engine: 'postgres',
    settings: { enabled: true, rpoSeconds: 300, baseBackupEveryDays: 7, windowDays: 7, method: 'stream' },
    maxWindowDays: 30,
    state: 'ok',
    window: { start: RANGES[0]!.start, end: RANGES[1]!.end },
    ranges: RANGES,
    dumps: [
      {
        backupId: '44444444-4444-4444-8444-444444444444',
        startedAt: '2026-12-01T11:00:00.000Z',
        sizeBytes: 9000,
      },
    ],
    lagSeconds: 4,
    reportedAt: '2026-12-01T14:30:40.000Z',
    serverPosition: '0/7000000',
    lastSegment: null,
    segmentCount: 12,
    segmentBytes: 4_000_000,
    baseBackups: [],
    gaps: [],
    slot: null,
    error: null,
    baseBackupDue: false,
    ...over,
  };
}

beforeEach(() => {
  setLocale('en');
  setSession({ user: admin, account: ACCOUNT });
  applyAccountLocale({ language: 'en', timeZone: 'Europe/Berlin' });
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('the moment in the command', () => {
  it('is written in the zone with its offset, and the agent reads back the same instant', () => {
    const winter = new Date('2026-12-01T14:30:05.700Z');
    expect(cliTime(winter, 'Europe/Berlin')).toBe('2026-12-01 15:30:05+01:00');
    expect(cliTime(new Date('2026-07-01T14:30:05Z'), 'Europe/Berlin')).toBe('2026-07-01 16:30:05+02:00');
    expect(cliTime(winter, 'America/St_Johns')).toBe('2026-12-01 11:00:05-03:30');
    expect(cliTime(winter, 'UTC')).toBe('2026-12-01 14:30:05+00:00');
    for (const zone of ['Europe/Berlin', 'America/St_Johns', 'Asia/Kolkata', 'UTC', 'Pacific/Auckland']) {
      const parsed = parseTargetTime(cliTime(winter, zone));
      expect(parsed.zoneGiven).toBe(true);
      expect(parsed.time.toISOString()).toBe('2026-12-01T14:30:05.000Z');
    }
  });

  it('round-trips through the date-time input in the zone', () => {
    const at = new Date('2026-12-01T14:30:05Z');
    expect(toLocalInput(at, 'Europe/Berlin')).toBe('2026-12-01T15:30:05');
    expect(fromLocalInput('2026-12-01T15:30:05', 'Europe/Berlin')?.toISOString()).toBe(at.toISOString());
    // browsers drop ":00" seconds from the value
    expect(fromLocalInput('2026-12-01T15:30', 'Europe/Berlin')?.toISOString()).toBe(
      '2026-12-01T14:30:00.000Z',
    );
    expect(fromLocalInput('2026-02-31T10:00', 'Europe/Berlin')).toBeNull();
    expect(fromLocalInput('', 'Europe/Berlin')).toBeNull();
  });

  it('must lie in a restorable stretch, to the whole second', () => {
    expect(checkMoment(new Date('2026-12-01T11:00:00Z'), RANGES)).toEqual({ ok: true });
    // the window starts at .250: its own second is not reachable, the next one is
    expect(checkMoment(new Date('2026-12-01T10:00:00Z'), RANGES)).toMatchObject({
      ok: false,
      reason: 'before',
    });
    expect(checkMoment(new Date('2026-12-01T10:00:01Z'), RANGES)).toEqual({ ok: true });
    expect(checkMoment(new Date('2026-12-01T14:30:45.999Z'), RANGES)).toEqual({ ok: true });
    expect(checkMoment(new Date('2026-12-01T14:30:46Z'), RANGES)).toMatchObject({
      ok: false,
      reason: 'after',
    });
    expect(checkMoment(new Date('2026-12-01T12:30:00Z'), RANGES)).toMatchObject({
      ok: false,
      reason: 'hole',
    });
    expect(checkMoment(new Date('2026-12-01T12:30:00Z'), [])).toEqual({ ok: false, reason: 'nothing' });
    // a window that just started holds no whole second yet
    const justStarted = [{ start: '2026-12-01T10:00:13.250Z', end: '2026-12-01T10:00:13.900Z' }];
    expect(checkMoment(new Date('2026-12-01T10:00:13Z'), justStarted)).toEqual({
      ok: false,
      reason: 'nothing',
    });
  });

  it('quotes what the shell would split', () => {
    const cmd = restoreCommand({
      family: 'mysql',
      databaseId: ID,
      target: { kind: 'latest' },
      host: 'localhost',
      port: null,
      database: "o'brien shop",
      user: 'root',
    });
    expect(cmd).toBe(
      `resistro restore --pitr --from ${ID} --latest \\\n  --host localhost --database 'o'\\''brien shop' --user root`,
    );
  });
});

describe('continuous protection on a database page', () => {
  it('builds the PostgreSQL command for a moment in the window and refuses one outside it', async () => {
    stubApi(() => ({ status: 200, body: status() }));
    render(() => <PitrCard database={database('postgres')} />);
    const helper = await screen.findByTestId('pitr-restore');
    expect(screen.getByTestId('pitr-state').textContent).toContain('Protected');
    // the dump and the two stretches on the timeline, the hole between them said in words
    const dumps = document.querySelectorAll('.pitr-track .pitr-mark-dump');
    expect(dumps).toHaveLength(1);
    expect(dumps[0]?.getAttribute('title')).toMatch(/^Dump /);
    expect(document.querySelectorAll('.pitr-track .pitr-range')).toHaveLength(2);
    expect(screen.getByTestId('pitr-stretches').textContent).toMatch(/Not restorable from .+ to /);
    // starts at the newest whole second in storage
    const command = () => within(helper).getByTestId('pitr-command').textContent;
    expect(command()).toBe(
      `resistro restore --pitr --from ${ID} --time "2026-12-01 15:30:45+01:00" \\\n  --data-dir /var/lib/postgresql/restored`,
    );
    const moment = within(helper).getByLabelText('Moment (Europe/Berlin)');
    fireEvent.input(moment, { target: { value: '2026-12-01T12:15:30' } });
    expect(command()).toContain('--time "2026-12-01 12:15:30+01:00"');
    expect(parseTargetTime('2026-12-01 12:15:30+01:00').time.toISOString()).toBe('2026-12-01T11:15:30.000Z');

    // in the hole a gap left: refused, no command to copy
    fireEvent.input(moment, { target: { value: '2026-12-01T13:30' } });
    const refusal = within(helper).getByTestId('pitr-refusal');
    expect(refusal.textContent).toMatch(/^No restore can reach that moment: the log between .* is missing/);
    expect(within(helper).queryByTestId('pitr-command')).toBeNull();
    fireEvent.input(moment, { target: { value: '2026-12-01T10:59:59' } });
    expect(within(helper).getByTestId('pitr-refusal').textContent).toMatch(/^That is before the earliest/);
    fireEvent.input(moment, { target: { value: '2026-12-01T15:30:46' } });
    expect(within(helper).getByTestId('pitr-refusal').textContent).toMatch(
      /^That is after the newest moment/,
    );

    fireEvent.click(within(helper).getByRole('button', { name: 'Earliest' }));
    expect(command()).toContain('--time "2026-12-01 11:00:01+01:00"');
    fireEvent.input(within(helper).getByLabelText('New data directory'), {
      target: { value: '/srv/pg restored' },
    });
    fireEvent.click(within(helper).getByLabelText('The newest point in storage'));
    expect(command()).toBe(
      `resistro restore --pitr --from ${ID} --latest \\\n  --data-dir '/srv/pg restored'`,
    );
  });

  it('builds the MariaDB command: a new database on a server, the binlog replayed to the moment', async () => {
    stubApi(() => ({ status: 200, body: status({ engine: 'mariadb' }) }));
    render(() => <PitrCard database={database('mariadb')} />);
    const helper = await screen.findByTestId('pitr-restore');
    fireEvent.input(within(helper).getByLabelText('Moment (Europe/Berlin)'), {
      target: { value: '2026-12-01T14:05:00' },
    });
    fireEvent.input(within(helper).getByLabelText('Port'), { target: { value: '3307' } });
    const cmd = within(helper).getByTestId('pitr-command').textContent ?? '';
    expect(cmd).toMatch(
      new RegExp(
        `^resistro restore --pitr --from ${ID} --time "2026-12-01 14:05:00\\+01:00" \\\\\\n  --host localhost --port 3307 --database shop_restored_\\d{4}_\\d{2}_\\d{2} --user backup$`,
      ),
    );
  });

  it('shows a gap with the missing segment and the agent’s error', async () => {
    stubApi(() => ({
      status: 200,
      body: status({
        state: 'gap',
        gaps: [
          {
            stream: '00000001',
            after: '000000010000000000000005',
            before: '000000010000000000000007',
            fromPosition: '0/6000000',
            toPosition: '0/7000000',
            missing: ['000000010000000000000006'],
          },
        ],
        error: { code: 'slot_lost', message: 'replication slot "resistro_x" does not exist' },
      }),
    }));
    render(() => <PitrCard database={database('postgres')} />);
    const gap = await screen.findByTestId('pitr-gap');
    expect(gap.textContent).toContain('Gap after 000000010000000000000005');
    expect(gap.textContent).toContain('Missing: 000000010000000000000006');
    expect(screen.getByText(/The agent reports: replication slot/)).toBeTruthy();
    expect(screen.getByTestId('pitr-state').textContent).toContain('Gap in the log');
    // --latest would be refused across the gap; a moment in the restorable stretch is offered instead
    const helper = screen.getByTestId('pitr-restore');
    expect(within(helper).getByTestId('pitr-command').textContent).toContain(
      '--time "2026-12-01 15:30:45+01:00"',
    );
    fireEvent.click(within(helper).getByLabelText('The newest point in storage'));
    expect(within(helper).getByTestId('pitr-refusal').textContent).toMatch(/^The log in storage has a gap/);
  });

  it('turns protection on with the RPO target in minutes; a field the server refuses shows under it', async () => {
    let saved: unknown;
    const calls = stubApi((method, _path, body) => {
      if (method === 'PUT') {
        saved = body;
        const b = body as { windowDays: number };
        if (b.windowDays > 30)
          return {
            status: 402,
            body: {
              error: {
                code: 'plan_limit',
                message: 'Your plan keeps backups for at most 30 days',
                fields: { windowDays: 'must be at most 30 days on your plan' },
              },
            },
          };
        return {
          status: 200,
          body: status({ state: 'starting', window: null, ranges: [], lagSeconds: null, reportedAt: null }),
        };
      }
      return {
        status: 200,
        body: status({
          state: 'off',
          settings: { ...status().settings, enabled: false },
          window: null,
          ranges: [],
        }),
      };
    });
    render(() => <PitrCard database={database('postgres')} />);
    const form = await screen.findByTestId('pitr-settings');
    fireEvent.click(within(form).getByLabelText('Continuous protection on'));
    fireEvent.input(within(form).getByLabelText('RPO target (minutes)'), { target: { value: '0.5' } });
    fireEvent.input(within(form).getByLabelText('Window (days)'), { target: { value: '90' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Save' }));
    await within(form).findByText('must be at most 30 days on your plan');
    fireEvent.input(within(form).getByLabelText('Window (days)'), { target: { value: '14' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.getByTestId('pitr-state').textContent).toContain('Starting'));
    expect(saved).toEqual({
      enabled: true,
      rpoSeconds: 30,
      baseBackupEveryDays: 7,
      windowDays: 14,
      method: 'stream',
    });
    expect(calls.filter((c) => c.method === 'PUT').map((c) => c.path)).toEqual([
      `/databases/${ID}/pitr`,
      `/databases/${ID}/pitr`,
    ]);
    // nothing restorable yet: the helper says so instead of writing a command that would fail
    const helper = screen.getByTestId('pitr-restore');
    expect(within(helper).getByTestId('pitr-refusal').textContent).toMatch(/^Nothing is restorable yet/);
  });

  it('speaks German', async () => {
    await setLocale('de');
    stubApi(() => ({ status: 200, body: status() }));
    render(() => <PitrCard database={database('postgres')} />);
    const helper = await screen.findByTestId('pitr-restore');
    expect(screen.getByRole('heading', { name: 'Kontinuierlicher Schutz' })).toBeTruthy();
    fireEvent.input(within(helper).getByLabelText('Zeitpunkt (Europe/Berlin)'), {
      target: { value: '2026-12-01T13:30' },
    });
    expect(within(helper).getByTestId('pitr-refusal').textContent).toMatch(
      /^Diesen Zeitpunkt erreicht keine Wiederherstellung/,
    );
  });
});
