import { cleanup, fireEvent, render, screen, waitFor, within } from '@solidjs/testing-library';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setLocale } from '../i18n/index.ts';
import { stubApi } from '../test-utils.tsx';
import { ApiKeysSection } from './settings-api-keys.tsx';

const KEY = {
  id: '33333333-3333-4333-8333-333333333333',
  name: 'Production servers',
  prefix: 'rsk_AbCd',
  scope: 'agent',
  createdAt: '2026-11-01T10:00:00.000Z',
  lastUsedAt: null,
};
const SECRET = 'rsk_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789';

beforeEach(() => setLocale('en'));
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('API keys in the settings', () => {
  it('creates a key with a scope and shows its secret once, with a copy button', async () => {
    const calls = stubApi((method) =>
      method === 'POST'
        ? { status: 201, body: { apiKey: KEY, secret: SECRET } }
        : { status: 200, body: { items: [] } },
    );
    const writeText = vi.fn(async () => {});
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
    render(() => <ApiKeysSection />);
    await screen.findByText('No API keys');

    fireEvent.click(screen.getByRole('button', { name: 'Create key' }));
    expect(screen.getByText('This field is required.')).toBeTruthy();

    fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'Production servers' } });
    fireEvent.change(screen.getByLabelText('Scope'), { target: { value: 'read' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create key' }));
    expect((await screen.findByTestId('api-key-secret')).textContent).toBe(SECRET);
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({
      name: 'Production servers',
      scope: 'read',
    });
    expect(screen.getByText(/shown only once/)).toBeTruthy();
    expect(screen.getByRole('row', { name: /Production servers/ })).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Copy' }));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith(SECRET));
    expect(await screen.findByText('Copied')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'I have stored the key' }));
    expect(screen.queryByTestId('api-key-secret')).toBeNull();
    expect(document.body.textContent).not.toContain(SECRET);
  });

  it("revokes a key only after confirmation and shows the server's refusal", async () => {
    let refuse = true;
    const calls = stubApi((method) => {
      if (method === 'DELETE') {
        return refuse
          ? {
              status: 403,
              body: {
                error: { code: 'forbidden', message: "This API key's scope (read) does not allow this" },
              },
            }
          : { status: 204 };
      }
      return { status: 200, body: { items: [KEY] } };
    });
    render(() => <ApiKeysSection />);
    fireEvent.click(await screen.findByRole('button', { name: 'Revoke key Production servers' }));
    const dialog = screen.getByRole('dialog');
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);

    fireEvent.click(within(dialog).getByRole('button', { name: 'Revoke' }));
    expect((await within(dialog).findByRole('alert')).textContent).toContain(
      "This API key's scope (read) does not allow this",
    );

    refuse = false;
    fireEvent.click(within(dialog).getByRole('button', { name: 'Revoke' }));
    await waitFor(() => expect(screen.queryByRole('row', { name: /Production servers/ })).toBeNull());
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([
      `/api-keys/${KEY.id}`,
      `/api-keys/${KEY.id}`,
    ]);
  });
});
