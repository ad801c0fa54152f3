import { cleanup, fireEvent, screen, waitFor, within } from '@solidjs/testing-library';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setLocale } from '../i18n/index.ts';
import { formatRelative } from '../lib/format.ts';
import { renderAt, stubApi } from '../test-utils.tsx';
import AlertDetailPage from './alert-detail.tsx';
import AlertsPage from './alerts.tsx';
import DatabasesPage from './databases.tsx';
import { connectedAgent, RECENT_AGENT_MS } from './onboarding.tsx';

const DB_ID = '11111111-1111-4111-8111-111111111111';
const AGENT_ID = '44444444-4444-4444-8444-444444444444';
const ALERT = {
  id: '22222222-2222-4222-8222-222222222222',
  kind: 'failing',
  severity: 'critical',
  subject: { type: 'database', id: DB_ID, name: 'shop' },
  title: 'Backups of shop are failing',
  detail: 'The last 3 backups failed: password authentication failed for user "backup"',
  openedAt: '2026-11-30T10:00:00.000Z',
  resolvedAt: null,
  acknowledgedAt: null,
};
const EARLIER = {
  ...ALERT,
  id: '33333333-3333-4333-8333-333333333333',
  openedAt: '2026-11-20T10:00:00.000Z',
  resolvedAt: '2026-11-20T10:30:00.000Z',
};
const DELIVERY = {
  id: '55555555-5555-4555-8555-555555555555',
  channelId: null,
  channelType: 'email',
  target: 'ops@example.test',
  event: 'alert.opened',
  alertId: ALERT.id,
  status: 'failed',
  attempts: 5,
  lastError: 'mail server answered 550',
  nextAttemptAt: null,
  deliveredAt: null,
  createdAt: '2026-11-30T10:00:01.000Z',
};
const AGENT = {
  id: AGENT_ID,
  hostname: 'db1.example.test',
  os: 'linux',
  version: '0.1.0',
  tools: [],
  publicKey: 'A'.repeat(43),
  createdAt: '2026-11-01T10:00:00.000Z',
  lastSeenAt: '2026-11-30T09:00:00.000Z',
  online: false,
  outdated: false,
  latestVersion: '0.1.0',
  apiKeyId: null,
  keyRevokedAt: null,
};
const DATABASE = {
  id: DB_ID,
  name: 'shop',
  engine: 'postgres',
  host: '127.0.0.1',
  port: 5432,
  database: 'shop',
  user: 'backup',
  credentialsMode: 'sealed',
  schedule: { kind: 'daily', time: '02:00', timezone: 'UTC' },
  retentionDays: 30,
  compressionLevel: 3,
  agentId: AGENT_ID,
  paused: false,
  status: 'active',
  lastBackupAt: null,
  lastSuccessAt: null,
  lastError: null,
  nextRunAt: null,
  connectionCheck: null,
  createdAt: '2026-11-01T10:00:00.000Z',
  updatedAt: '2026-11-01T10:00:00.000Z',
};

beforeEach(() => setLocale('en'));
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function queryOf(url: string) {
  return Object.fromEntries(new URL(url).searchParams);
}

describe('alerts page', () => {
  it('asks the API for the filters in the URL and acknowledges from the list', async () => {
    const urls: string[] = [];
    const calls = stubApi((method, path) => {
      if (path === '/databases') return { status: 200, body: { items: [DATABASE] } };
      if (method === 'POST')
        return { status: 200, body: { alert: { ...ALERT, acknowledgedAt: '2026-11-30T11:00:00.000Z' } } };
      return { status: 200, body: { items: [ALERT], nextCursor: null } };
    });
    const fetchStub = globalThis.fetch as unknown as { mock: { calls: Array<[string]> } };
    renderAt(`/alerts?database=${DB_ID}&kind=failing&status=all`, { '/alerts': AlertsPage });
    await screen.findByText(ALERT.title);
    // (rows by selector: role queries over a whole table are slow in jsdom)
    const row = () => document.querySelector(`tr[data-alert-id="${ALERT.id}"]`) as HTMLElement;
    for (const [url] of fetchStub.mock.calls) if (url.includes('/v1/alerts')) urls.push(url);
    expect(queryOf(urls[0]!)).toMatchObject({ status: 'all', subjectId: DB_ID, kind: 'failing' });
    expect(row().textContent).toContain('Critical');
    expect(row().textContent).toContain('Failing backups');
    expect(within(row()).getByText(ALERT.title).getAttribute('href')).toBe(`/alerts/${ALERT.id}`);

    fireEvent.click(within(row()).getByLabelText(`Acknowledge alert: ${ALERT.title}`));
    await waitFor(() => expect(row().textContent).toContain('Acknowledged'));
    expect(calls.find((c) => c.method === 'POST')?.path).toBe(`/alerts/${ALERT.id}/acknowledge`);
  });

  it('says when nothing matches the filters', async () => {
    stubApi((_m, path) =>
      path === '/databases'
        ? { status: 200, body: { items: [] } }
        : { status: 200, body: { items: [], nextCursor: null } },
    );
    renderAt('/alerts?kind=size_drop', { '/alerts': AlertsPage });
    expect(await screen.findByText('No alerts match')).toBeTruthy();
  });
});

describe('one alert', () => {
  it('explains the alert, what to do, its history and its deliveries, and acknowledges it', async () => {
    const calls = stubApi((method, path) => {
      if (method === 'POST')
        return { status: 200, body: { alert: { ...ALERT, acknowledgedAt: '2026-11-30T11:00:00.000Z' } } };
      if (path === `/alerts/${ALERT.id}`) return { status: 200, body: { alert: ALERT } };
      if (path === '/alerts') return { status: 200, body: { items: [ALERT, EARLIER], nextCursor: null } };
      if (path === '/notifications') return { status: 200, body: { items: [DELIVERY], nextCursor: null } };
      return { status: 404, body: { error: { code: 'not_found', message: 'no' } } };
    });
    renderAt(`/alerts/${ALERT.id}`, { '/alerts/:id': AlertDetailPage });
    await screen.findByTestId('alert-detail');
    expect(document.querySelector('h1')?.textContent).toBe(ALERT.title);
    expect(screen.getByTestId('alert-detail').textContent).toContain('password authentication failed');
    expect(screen.getByTestId('alert-advice').textContent).toContain('wrong password');
    expect(screen.getByTestId('alert-subject').getAttribute('href')).toBe(`/databases/${DB_ID}#errors`);
    const history = screen.getByTestId('alert-history');
    expect(history.textContent).toContain('This alert');
    expect(within(history).getByRole('link').getAttribute('href')).toBe(`/alerts/${EARLIER.id}`);
    expect(history.textContent).toMatch(/resolved after 30\s?m/);
    const delivery = document.querySelector(`tr[data-delivery-id="${DELIVERY.id}"]`) as HTMLElement;
    expect(delivery.textContent).toContain('ops@example.test');
    expect(delivery.textContent).toContain('Failed');
    expect(delivery.textContent).toContain('mail server answered 550');
    const listCall = calls.find((c) => c.path === '/notifications');
    expect(listCall).toBeDefined();

    fireEvent.click(screen.getByText('Acknowledge', { selector: 'button' }));
    expect(await screen.findByTestId('acknowledged-at')).toBeTruthy();
    expect(screen.queryByText('Acknowledge', { selector: 'button' })).toBeNull();
  });

  it('shows the German advice in German', async () => {
    setLocale('de');
    stubApi((_m, path) => {
      if (path === `/alerts/${ALERT.id}`)
        return { status: 200, body: { alert: { ...ALERT, kind: 'storage_full' } } };
      return { status: 200, body: { items: [], nextCursor: null } };
    });
    renderAt(`/alerts/${ALERT.id}`, { '/alerts/:id': AlertDetailPage });
    expect((await screen.findByTestId('alert-advice')).textContent).toContain('Der Speicher ist voll');
    expect(screen.getByText('Keine Benachrichtigungen gesendet')).toBeTruthy();
  });
});

describe('states the dashboard used to get wrong', () => {
  it('does not call a database active while its agent is offline', async () => {
    stubApi((_m, path) =>
      path === '/agents'
        ? { status: 200, body: { items: [AGENT] } }
        : { status: 200, body: { items: [DATABASE] } },
    );
    renderAt('/databases', { '/databases': DatabasesPage });
    const row = await screen.findByRole('row', { name: /shop/ });
    expect(row.textContent).toContain('Agent offline');
    expect(row.textContent).not.toContain('Active');
  });

  it('reads a just-finished backup as now, never in the future, and a due run as now', () => {
    const now = new Date('2026-11-30T10:00:00.000Z');
    const ahead = '2026-11-30T10:00:05.000Z'; // the server's clock is 5 s ahead of the browser's
    expect(formatRelative(ahead, now)).toBe('in 5 seconds');
    expect(formatRelative(ahead, now, 'past')).toBe('now');
    expect(formatRelative('2026-11-30T09:59:55.000Z', now, 'future')).toBe('now');
    expect(formatRelative('2026-11-30T09:58:00.000Z', now, 'past')).toBe('2 minutes ago');
  });

  it('finds an agent that registered before the onboarding page opened', () => {
    const openedAt = Date.parse('2026-11-30T10:00:00.000Z');
    const fresh = { ...AGENT, online: true, createdAt: '2026-11-30T09:58:00.000Z' };
    const old = { ...AGENT, id: 'old', online: true, createdAt: '2026-10-01T00:00:00.000Z' };
    // first load: the recently registered, online agent is the one being set up
    expect(connectedAgent([old, fresh], undefined, undefined, openedAt)?.id).toBe(AGENT_ID);
    expect(connectedAgent([old], undefined, undefined, openedAt)).toBeUndefined();
    expect(connectedAgent([{ ...fresh, online: false }], undefined, undefined, openedAt)).toBeUndefined();
    expect(
      connectedAgent(
        [{ ...fresh, createdAt: new Date(openedAt - RECENT_AGENT_MS - 1).toISOString() }],
        undefined,
        undefined,
        openedAt,
      ),
    ).toBeUndefined();
    // later loads: a new agent, or a known one that now uses the key created on the page
    const known = new Set(['old']);
    expect(connectedAgent([old], known, 'k1', openedAt)).toBeUndefined();
    expect(connectedAgent([{ ...old, apiKeyId: 'k1' }], known, 'k1', openedAt)?.id).toBe('old');
    expect(connectedAgent([old, fresh], known, undefined, openedAt)?.id).toBe(AGENT_ID);
  });
});
