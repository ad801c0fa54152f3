import type { ConnectionCheck } from '@resistro/contract/checks';
import { CHECK_CODES } from '@resistro/contract/checks';
import { cleanup, fireEvent, render, screen } from '@solidjs/testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { de } from '../i18n/de.ts';
import { en } from '../i18n/en.ts';
import { setLocale } from '../i18n/index.ts';
import { ConnectionCheckPanel } from './connection-check.tsx';

const GRANT = "GRANT SELECT ON mysql.proc TO 'shopbackup'@'%';";

const mariadbFailed: ConnectionCheck = {
  status: 'failed',
  requestedAt: '2026-12-02T05:00:00.000Z',
  checkedAt: '2026-12-02T05:00:40.000Z',
  serverVersion: '10.11.18-MariaDB',
  toolVersion: '10.11.18-MariaDB',
  items: [
    { step: 'connection', ok: true },
    { step: 'authentication', ok: true },
    { step: 'database', ok: true },
    { step: 'privilege', subject: 'SELECT', ok: true },
    {
      step: 'privilege',
      subject: 'SHOW CREATE ROUTINE',
      ok: false,
      code: 'privilege_missing',
      params: { privilege: 'SELECT ON mysql.proc', grant: GRANT },
      detail: 'mariadb-dump: shopbackup has insufficient privileges to SHOW CREATE FUNCTION `add_tax`!',
    },
    { step: 'version', subject: 'mariadb-dump', ok: true },
  ],
};

const pgTables = (count: string, objects: string): ConnectionCheck => ({
  ...mariadbFailed,
  items: [
    {
      step: 'privilege',
      subject: 'tables',
      ok: false,
      code: 'tables_unreadable',
      params: { count, objects, grant: 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO backup;' },
    },
  ],
});

afterEach(() => {
  cleanup();
  setLocale('en');
});

describe('ConnectionCheckPanel', () => {
  it('names the missing MariaDB privilege, what to do, the GRANT to copy and the server message', () => {
    setLocale('en');
    const onTestAgain = vi.fn();
    render(() => <ConnectionCheckPanel check={mariadbFailed} agentOnline onTestAgain={onTestAgain} />);
    const panel = screen.getByTestId('connection-check');
    expect(panel.textContent).toContain('Problem found');
    expect(panel.textContent).toContain('Privilege SHOW CREATE ROUTINE');
    expect(panel.textContent).toContain('The privilege SELECT ON mysql.proc is missing.');
    expect(panel.textContent).toContain('Run this as an administrator');
    expect(screen.getByText(GRANT).tagName).toBe('PRE');
    expect(panel.textContent).toContain('insufficient privileges to SHOW CREATE FUNCTION');
    expect(panel.textContent).toContain('Server 10.11.18-MariaDB');
    expect(screen.getByRole('link', { name: /privileges a backup needs/ }).getAttribute('href')).toBe(
      '/docs/en/privileges',
    );
    fireEvent.click(screen.getByRole('button', { name: 'Test again' }));
    expect(onTestAgain).toHaveBeenCalledOnce();
  });

  it('speaks German on a German account, plurals included', () => {
    setLocale('de');
    render(() => <ConnectionCheckPanel check={mariadbFailed} />);
    const panel = screen.getByTestId('connection-check');
    expect(panel.textContent).toContain('Verbindungstest');
    expect(panel.textContent).toContain('Das Recht SELECT ON mysql.proc fehlt.');
    expect(panel.textContent).toContain('Führen Sie als Administrator');
    expect(panel.textContent).not.toMatch(/Privilege|is missing|Test again/);
    cleanup();
    render(() => <ConnectionCheckPanel check={pgTables('1', 'public.secrets')} />);
    expect(screen.getByTestId('connection-check').textContent).toContain(
      'Der Benutzer kann 1 Tabelle nicht lesen: public.secrets.',
    );
    cleanup();
    render(() => <ConnectionCheckPanel check={pgTables('2', 'private.notes, public.secrets')} />);
    expect(screen.getByTestId('connection-check').textContent).toContain(
      'Der Benutzer kann 2 Tabellen nicht lesen, z. B. private.notes, public.secrets.',
    );
  });

  it('while pending: says the agent tests at its next heartbeat, or that it is offline; no second request', () => {
    setLocale('en');
    const pending: ConnectionCheck = { ...mariadbFailed, status: 'pending' };
    render(() => <ConnectionCheckPanel check={pending} agentOnline onTestAgain={() => {}} />);
    expect(screen.getByText(/at its next heartbeat/)).toBeTruthy();
    expect(screen.getByText(/Previous result from/)).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Test again' }) as HTMLButtonElement).disabled).toBe(true);
    cleanup();
    render(() => <ConnectionCheckPanel check={pending} agentOnline={false} />);
    expect(screen.getByText(/the agent, which is offline/)).toBeTruthy();
  });

  it('has a message and a hint in both languages for every code the agent can report', () => {
    for (const code of CHECK_CODES) {
      for (const dict of [en, de] as Array<Record<string, string>>) {
        const message = dict[`check.code.${code}`] ?? dict[`check.code.${code}_other`];
        expect(message, `${code} message`).toBeTruthy();
        expect(dict[`check.hint.${code}`], `${code} hint`).toBeTruthy();
      }
    }
  });
});
