import { cleanup, fireEvent, screen, waitFor } from '@solidjs/testing-library';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setLocale } from '../i18n/index.ts';
import { setSession } from '../lib/session.ts';
import { renderAt, stubApi } from '../test-utils.tsx';
import LoginPage from './login.tsx';
import SignupPage from './signup.tsx';

const ME = {
  user: {
    id: '11111111-1111-4111-8111-111111111111',
    email: 'a@example.com',
    createdAt: '2026-11-01T00:00:00.000Z',
    emailVerified: true,
    twoFactorEnabled: false,
  },
  account: {
    id: '22222222-2222-4222-8222-222222222222',
    plan: 'business',
    limits: { maxDatabases: 5, maxRetentionDays: 30, storageBytes: 50e9 },
    usage: { databases: 0, storageBytes: 0 },
    alertEmails: ['a@example.com'],
    verifiedAlertEmails: ['a@example.com'],
    require2fa: false,
    closing: null,
    createdAt: '2026-11-01T00:00:00.000Z',
  },
};

const field = (label: string) => screen.getByLabelText(label) as HTMLInputElement;
const type = (label: string, value: string) => fireEvent.input(field(label), { target: { value } });

beforeEach(() => {
  setLocale('en');
  setSession(null);
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('log in', () => {
  it('asks for both fields before calling the server', () => {
    const calls = stubApi(() => ({ status: 500 }));
    renderAt('/login', { '/login': LoginPage });
    type('E-mail address', 'not-an-address');
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(screen.getByText('Enter a valid e-mail address, e.g. name@example.com.')).toBeTruthy();
    expect(screen.getByText('This field is required.')).toBeTruthy();
    expect(calls).toHaveLength(0);
  });

  it("shows the server's message for a wrong password", async () => {
    stubApi(() => ({
      status: 401,
      body: { error: { code: 'unauthorized', message: 'The e-mail address or the password is wrong' } },
    }));
    renderAt('/login', { '/login': LoginPage });
    type('E-mail address', 'a@example.com');
    type('Password', 'wrong password');
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect((await screen.findByRole('alert')).textContent).toContain(
      'The e-mail address or the password is wrong',
    );
  });

  it('explains an expired session and returns to the page the user was on', async () => {
    stubApi((method, path) =>
      method === 'POST' && path === '/auth/login' ? { status: 200, body: ME } : { status: 404 },
    );
    const { history } = renderAt('/login?next=%2Fbackups%3Fstatus%3Dfailed&expired=1', {
      '/login': LoginPage,
    });
    expect(screen.getByText(/Your session has expired/)).toBeTruthy();
    type('E-mail address', 'a@example.com');
    type('Password', 'correct horse battery staple');
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    await waitFor(() => expect(history.get()).toBe('/backups?status=failed'));
  });

  it('never follows a next parameter off the site', async () => {
    stubApi(() => ({ status: 200, body: ME }));
    const { history } = renderAt('/login?next=%2F%2Fevil.example%2F', { '/login': LoginPage });
    type('E-mail address', 'a@example.com');
    type('Password', 'correct horse battery staple');
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    await waitFor(() => expect(history.get()).toBe('/'));
  });
});

describe('sign up', () => {
  it('checks the address and the password length', () => {
    stubApi(() => ({ status: 500 }));
    renderAt('/signup', { '/signup': SignupPage });
    type('E-mail address', 'a@b');
    type('Password', 'short');
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect(screen.getByText('Enter a valid e-mail address, e.g. name@example.com.')).toBeTruthy();
    expect(screen.getByText('Use at least 10 characters.')).toBeTruthy();
  });

  it('shows that the e-mail address is taken, at the field and as the server said', async () => {
    const calls = stubApi(() => ({
      status: 409,
      body: {
        error: {
          code: 'conflict',
          message: 'An account with this e-mail address already exists',
          fields: { email: 'is already registered' },
        },
      },
    }));
    renderAt('/signup', { '/signup': SignupPage });
    type('E-mail address', 'taken@example.com');
    type('Password', 'correct horse battery staple');
    fireEvent.click(screen.getByLabelText(/Professional/));
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect((await screen.findByRole('alert')).textContent).toContain(
      'An account with this e-mail address already exists',
    );
    expect(screen.getByText('is already registered')).toBeTruthy();
    expect(field('E-mail address').getAttribute('aria-invalid')).toBe('true');
    expect(calls[0]?.body).toEqual({
      email: 'taken@example.com',
      password: 'correct horse battery staple',
      plan: 'professional',
      // the account speaks the language this page shows, and tells time in the browser's zone
      language: 'en',
      timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    });
  });

  it('sends a new account to pay for the plan it chose (Paddle checkout), not straight in for free', async () => {
    stubApi(() => ({ status: 201, body: ME }));
    const { history } = renderAt('/signup', { '/signup': SignupPage });
    type('E-mail address', 'new@example.com');
    type('Password', 'correct horse battery staple');
    fireEvent.click(screen.getByLabelText(/Professional/));
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
    await waitFor(() => expect(history.get()).toBe('/checkout?plan=professional'));
  });
});
