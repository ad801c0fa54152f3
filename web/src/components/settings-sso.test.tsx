import type { Account } from '@resistro/contract/schemas';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@solidjs/testing-library';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setLocale } from '../i18n/index.ts';
import { setSession } from '../lib/session.ts';
import { stubApi } from '../test-utils.tsx';
import { parseDomains, SsoSection } from './settings-sso.tsx';

const ACCOUNT: Account = {
  id: '11111111-1111-4111-8111-111111111111',
  plan: 'enterprise',
  limits: { maxDatabases: null, maxRetentionDays: 365, storageBytes: 10_000_000_000 },
  usage: { databases: 0, storageBytes: 0 },
  alertEmails: [],
  verifiedAlertEmails: [],
  require2fa: false,
  language: 'en',
  timeZone: 'UTC',
  closing: null,
  createdAt: '2026-11-01T10:00:00.000Z',
};
const owner = {
  id: '22222222-2222-4222-8222-222222222222',
  email: 'owner@acme.example',
  role: 'owner' as const,
  canDownload: true,
  createdAt: ACCOUNT.createdAt,
  emailVerified: true,
  twoFactorEnabled: false,
};
const STORED = {
  issuer: 'https://login.acme.example/realms/acme',
  clientId: 'resistro',
  hasClientSecret: true,
  domains: ['acme.example'],
  enabled: true,
  redirectUri: 'https://resistro.example/api/v1/auth/sso/callback',
};

beforeEach(() => {
  setLocale('en');
  setSession({ user: owner, account: ACCOUNT });
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('single sign-on in the settings', () => {
  it('sets it up: the secret is sent once, then never shown; leaving it empty keeps it', async () => {
    let stored: typeof STORED | null = null;
    const calls = stubApi((method, _path, body) => {
      if (method === 'PATCH') {
        const b = body as { issuer: string; clientId: string; domains: string[]; enabled: boolean };
        // the real server answers without the secret: hasClientSecret only
        stored = { ...STORED, ...b, hasClientSecret: true };
        return { status: 200, body: { sso: stored } };
      }
      return { status: 200, body: { sso: stored } };
    });
    render(() => <SsoSection account={ACCOUNT} />);
    expect((await screen.findByTestId('sso-state')).textContent).toBe('Not set up');
    expect(screen.getByTestId('sso-redirect-uri').textContent).toBe(
      `${location.origin}/api/v1/auth/sso/callback`,
    );

    // everything is checked before anything is sent
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(screen.getAllByText('This field is required.')).toHaveLength(4);
    expect(calls.some((c) => c.method === 'PATCH')).toBe(false);
    fireEvent.input(screen.getByLabelText('Issuer URL'), { target: { value: 'login.acme.example' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(screen.getByText('Enter the address, starting with https://.')).toBeTruthy();

    fireEvent.input(screen.getByLabelText('Issuer URL'), { target: { value: STORED.issuer } });
    fireEvent.input(screen.getByLabelText('Client ID'), { target: { value: 'resistro' } });
    fireEvent.input(screen.getByLabelText('Client secret'), { target: { value: 'the-client-secret' } });
    fireEvent.input(screen.getByLabelText('E-mail domains'), { target: { value: 'Acme.example, acme.de' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.getByTestId('sso-state').textContent).toContain('On'));
    expect(calls.filter((c) => c.method === 'PATCH').map((c) => c.body)).toEqual([
      {
        issuer: STORED.issuer,
        clientId: 'resistro',
        clientSecret: 'the-client-secret',
        domains: ['acme.example', 'acme.de'],
        enabled: true,
      },
    ]);
    // the secret is gone from the page: an empty field that says one is stored
    const secretField = screen.getByLabelText('Client secret') as HTMLInputElement;
    expect(secretField.value).toBe('');
    expect(secretField.type).toBe('password');
    expect(secretField.placeholder).toBe('Stored – leave empty to keep it');
    expect(document.body.innerHTML).not.toContain('the-client-secret');
    expect(screen.getByTestId('sso-state').textContent).toContain('On');

    // a second save without typing the secret again keeps it (no clientSecret in the request)
    fireEvent.click(screen.getByLabelText('Offer single sign-on on the log-in page'));
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(calls.filter((c) => c.method === 'PATCH')).toHaveLength(2));
    const second = calls.filter((c) => c.method === 'PATCH')[1]?.body as Record<string, unknown>;
    expect(second).not.toHaveProperty('clientSecret');
    expect(second.enabled).toBe(false);
  });

  it("shows the server's refusal at the field, and turns SSO off after confirmation", async () => {
    const calls = stubApi((method) => {
      if (method === 'PATCH')
        return {
          status: 422,
          body: {
            error: {
              code: 'validation_failed',
              message: 'The identity provider cannot be reached or has no OpenID configuration',
              fields: { issuer: 'has no /.well-known/openid-configuration' },
            },
          },
        };
      if (method === 'DELETE') return { status: 204 };
      return { status: 200, body: { sso: STORED } };
    });
    render(() => <SsoSection account={ACCOUNT} />);
    await waitFor(() =>
      expect((screen.getByLabelText('Issuer URL') as HTMLInputElement).value).toBe(STORED.issuer),
    );
    expect((screen.getByLabelText('E-mail domains') as HTMLInputElement).value).toBe('acme.example');
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('has no /.well-known/openid-configuration')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Turn off single sign-on' }));
    const dialog = screen.getByRole('dialog');
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Turn off single sign-on' }));
    await waitFor(() =>
      expect(calls.some((c) => c.method === 'DELETE' && c.path === '/account/sso')).toBe(true),
    );
    await waitFor(() => expect(screen.getByTestId('sso-state').textContent).toBe('Not set up'));
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('is disabled on other plans, and for anyone but an owner with the reason', async () => {
    stubApi(() => ({ status: 200, body: { sso: null } }));
    render(() => <SsoSection account={{ ...ACCOUNT, plan: 'business' }} />);
    expect((await screen.findByTestId('sso-enterprise-only')).textContent).toBe(
      'Single sign-on is part of the Enterprise plan.',
    );
    expect((await screen.findByRole('button', { name: 'Save' })).matches(':disabled')).toBe(true);
    cleanup();
    setSession({ user: { ...owner, role: 'admin' }, account: ACCOUNT });
    render(() => <SsoSection account={ACCOUNT} />);
    expect((await screen.findByTestId('blocked-reason')).textContent).toContain(
      'Your role (Admin) cannot do this; it needs Owner or higher.',
    );
    expect((await screen.findByRole('button', { name: 'Save' })).matches(':disabled')).toBe(true);
  });

  it('reads domains separated by commas, spaces or lines', () => {
    expect(parseDomains(' Acme.example,acme.de\nfoo.io ;bar.io ')).toEqual([
      'acme.example',
      'acme.de',
      'foo.io',
      'bar.io',
    ]);
  });
});
