import { cleanup, fireEvent, screen } from '@solidjs/testing-library';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setLocale } from '../i18n/index.ts';
import { renderAt, stubApi } from '../test-utils.tsx';
import AgentsPage from './agents.tsx';

const AGENT = {
  id: '44444444-4444-4444-8444-444444444444',
  hostname: 'db1.example.com',
  os: 'Debian GNU/Linux 12',
  version: '0.1.0',
  tools: [{ name: 'pg_dump', version: '15.8', path: '/usr/bin/pg_dump' }],
  publicKey: 'A'.repeat(43),
  createdAt: '2026-11-01T10:00:00.000Z',
  lastSeenAt: new Date(Date.now() - 30_000).toISOString(),
  online: true,
  outdated: false,
  latestVersion: '0.1.0',
  apiKeyId: null,
  keyRevokedAt: null,
};

beforeEach(() => setLocale('en'));
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('agents page', () => {
  it("shows the server's message when loading fails, and the list after a retry", async () => {
    let fail = true;
    stubApi(() =>
      fail
        ? {
            status: 500,
            body: { error: { code: 'internal', message: 'Internal error; it has been logged' } },
          }
        : {
            status: 200,
            body: {
              items: [
                AGENT,
                {
                  ...AGENT,
                  id: '55555555-5555-4555-8555-555555555555',
                  hostname: 'old.example.com',
                  online: false,
                  tools: [],
                  version: '0.0.9 (3f2a9c1e0b7d)',
                  outdated: true,
                  latestVersion: '0.1.0',
                },
              ],
            },
          },
    );
    renderAt('/agents', { '/agents': AgentsPage });
    expect(screen.getByRole('status').textContent).toContain('Loading');
    expect((await screen.findByRole('alert')).textContent).toContain('Internal error; it has been logged');

    fail = false;
    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    const row = await screen.findByRole('row', { name: /db1\.example\.com/ });
    expect(row.textContent).toContain('Online');
    expect(row.textContent).toContain('pg_dump 15.8');
    expect(row.textContent).toContain('0.1.0');
    expect(row.querySelector('time')?.textContent).toBe('30 seconds ago');
    const old = screen.getByRole('row', { name: /old\.example\.com/ });
    expect(old.textContent).toContain('Offline');
    expect(old.textContent).toContain('None found');
    // an agent older than the one the service hands out says so, with the command that updates it
    expect(old.textContent).toContain('Update available: 0.1.0');
    expect(old.textContent).toContain('sudo resistro update');
    expect(row.textContent).not.toContain('Update available');
  });

  it('explains how to connect the first agent when there is none', async () => {
    stubApi(() => ({ status: 200, body: { items: [] } }));
    renderAt('/agents', { '/agents': AgentsPage });
    expect(await screen.findByText('No agent connected')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Connect an agent' }).getAttribute('href')).toBe('/onboarding');
  });
});
