// `resistro install` against a staged system: the files go below a temporary root, systemd is
// looked up below it (systemctl installed or not, /run/systemd/system present or not), and
// systemctl is a recorder. A machine with systemctl but without a running systemd (containers,
// WSL) gets the files and the fallback advice, not a failed `systemctl daemon-reload`.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { CommandInput } from '../command.ts';
import type { Config } from '../config.ts';
import { UserError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { detectSystemd, type InstallHost, install, selfCommand } from './install.ts';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** A staged root with systemctl installed, and systemd running as init when `booted`. */
function stagedRoot(opts: { systemctl: boolean; booted: boolean }): string {
  const root = mkdtempSync(join(tmpdir(), 'resistro-install-unit-'));
  roots.push(root);
  if (opts.systemctl) {
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    writeFileSync(join(root, 'usr/bin/systemctl'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  }
  if (opts.booted) mkdirSync(join(root, 'run/systemd/system'), { recursive: true });
  return root;
}

async function runInstall(
  root: string,
  opts: { env?: Record<string, string>; dryRun?: boolean; failSystemctl?: boolean; out?: string[] } = {},
) {
  const calls: string[] = [];
  const output: string[] = opts.out ?? [];
  const logs: string[] = [];
  const host: InstallHost = {
    execStart: '/usr/bin/node /usr/local/lib/resistro/resistro.mjs agent',
    systemd: detectSystemd(root),
    spawn: (command, args) => {
      calls.push(`${command} ${args.join(' ')}`);
      return opts.failSystemctl
        ? { status: 1, stdout: '', stderr: 'System has not been booted with systemd as init system (PID 1).' }
        : { status: 0, stdout: '', stderr: '' };
    },
  };
  const input: CommandInput = {
    options: { prefix: root, 'dry-run': opts.dryRun },
    config: {} as Config,
    log: createLogger({ json: false, write: (line) => logs.push(line) }),
    env: opts.env ?? {},
    signal: new AbortController().signal,
    out: (text) => output.push(text),
  };
  const code = await install(input, host);
  return { code, calls, out: output.join(''), logs: logs.join('') };
}

describe('resistro install and systemd', () => {
  test('sd_booted(3): systemd runs when <root>/run/systemd/system is a directory', () => {
    expect(detectSystemd(stagedRoot({ systemctl: true, booted: false }))).toMatchObject({ running: false });
    const booted = stagedRoot({ systemctl: true, booted: true });
    expect(detectSystemd(booted)).toEqual({ systemctl: join(booted, 'usr/bin/systemctl'), running: true });
    expect(detectSystemd(stagedRoot({ systemctl: false, booted: false }))).toEqual({
      systemctl: undefined,
      running: false,
    });
    const file = stagedRoot({ systemctl: true, booted: false });
    mkdirSync(join(file, 'run/systemd'), { recursive: true });
    writeFileSync(join(file, 'run/systemd/system'), '');
    expect(detectSystemd(file).running).toBe(false);
  });

  test('systemctl without a running systemd: writes the files, runs no systemctl, says how to start the agent, exit 0', async () => {
    const root = stagedRoot({ systemctl: true, booted: false });
    const dry = await runInstall(root, { dryRun: true });
    expect(dry.code).toBe(0);
    expect(dry.out).not.toMatch(/systemctl (daemon-reload|enable|restart)/);

    const r = await runInstall(root, { failSystemctl: true });
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([]);
    const env = readFileSync(join(root, 'etc/resistro-agent/env'), 'utf8');
    expect(env).toMatch(/^RESISTRO_ENCRYPTION_KEY=resistro-key-1:\S+$/m);
    expect(readFileSync(join(root, 'etc/systemd/system/resistro-agent.service'), 'utf8')).toMatch(
      /^ExecStart=\/usr\/bin\/node \/usr\/local\/lib\/resistro\/resistro\.mjs agent$/m,
    );
    expect(r.out).toMatch(
      /A new encryption key is in \S+\/etc\/resistro-agent\/env\. Copy it to a safe place/,
    );
    expect(r.out).toMatch(/systemd is installed but not running .*start the agent with `resistro agent`/);
    expect(r.out).not.toMatch(/systemctl restart/);
    // the key's value is in the file only, never in what the installer prints or logs
    const key = /^RESISTRO_ENCRYPTION_KEY=(.*)$/m.exec(env)![1]!;
    expect(r.out + r.logs).not.toContain(key);
  });

  test('no systemctl at all: the same fallback, worded for a machine without systemd', async () => {
    const r = await runInstall(stagedRoot({ systemctl: false, booted: false }));
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([]);
    expect(r.out).toMatch(/systemd was not found: start the agent with `resistro agent`/);
  });

  test('a running systemd: reloads, enables and (with an API key) starts the service', async () => {
    const root = stagedRoot({ systemctl: true, booted: true });
    const dry = await runInstall(root, {
      dryRun: true,
      env: { RESISTRO_API_KEY: 'rsk_0123456789abcdef0123' },
    });
    expect(dry.out).toMatch(
      /systemctl daemon-reload\n {2}- systemctl enable resistro-agent\n {2}- systemctl restart/,
    );
    const r = await runInstall(root, { env: { RESISTRO_API_KEY: 'rsk_0123456789abcdef0123' } });
    expect(r.code).toBe(0);
    const systemctl = join(root, 'usr/bin/systemctl');
    expect(r.calls).toEqual([
      `${systemctl} daemon-reload`,
      `${systemctl} enable resistro-agent`,
      `${systemctl} restart resistro-agent`,
    ]);
    expect(r.out).toMatch(/The agent is running/);
    expect(r.out).not.toMatch(/start the agent with `resistro agent`/);
  });

  test('a failing systemctl on a running systemd is still an error with a hint, after saying where the new key is', async () => {
    const root = stagedRoot({ systemctl: true, booted: true });
    const output: string[] = [];
    const error = await runInstall(root, { failSystemctl: true, out: output }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(
      /^systemctl daemon-reload failed: System has not been booted/,
    );
    expect((error as UserError).hint).toMatch(/journalctl -u resistro-agent/);
    expect(output.join('')).toMatch(/A new encryption key is in \S+\/etc\/resistro-agent\/env\. Copy it/);
  });
});

describe('the unit ExecStart', () => {
  test('names the script as the installed system sees it: without --prefix', () => {
    const root = mkdtempSync(join(tmpdir(), 'resistro-prefix-'));
    roots.push(root);
    const script = join(root, 'usr/local/lib/resistro/resistro.mjs');
    mkdirSync(join(root, 'usr/local/lib/resistro'), { recursive: true });
    writeFileSync(script, '');
    expect(selfCommand(root, '/usr/bin/node', script)).toBe(
      '/usr/bin/node /usr/local/lib/resistro/resistro.mjs agent',
    );
    expect(selfCommand(`${root}/`, '/usr/bin/node', script)).toBe(
      '/usr/bin/node /usr/local/lib/resistro/resistro.mjs agent',
    );
    // the prefix given through a symbolic link (e.g. /tmp → /private/tmp)
    const link = `${root}-link`;
    symlinkSync(root, link);
    roots.push(link);
    expect(selfCommand(link, '/usr/bin/node', join(link, 'usr/local/lib/resistro/resistro.mjs'))).toBe(
      '/usr/bin/node /usr/local/lib/resistro/resistro.mjs agent',
    );
    // a script outside the prefix (a checkout installing into a staging tree) keeps its path
    expect(selfCommand('/nonexistent-prefix', '/usr/bin/node', script)).toBe(`/usr/bin/node ${script} agent`);
    expect(selfCommand('', '/usr/bin/node', script)).toBe(`/usr/bin/node ${script} agent`);
  });

  test('the single executable runs itself: no node, the prefix left out', () => {
    const root = mkdtempSync(join(tmpdir(), 'resistro-prefix-'));
    roots.push(root);
    const exe = join(root, 'usr/local/bin/resistro');
    mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
    writeFileSync(exe, '');
    // argv[1] of an executable is however it was called: it must not matter
    expect(selfCommand(root, exe, './resistro', true)).toBe('/usr/local/bin/resistro agent');
    expect(selfCommand('', exe, 'resistro', true)).toBe(`${exe} agent`);
  });
});
