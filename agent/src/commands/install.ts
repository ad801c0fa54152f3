// `resistro install`: the systemd unit, the env file and the state directory, then enable the
// service if systemd is running (not merely installed: containers and WSL have systemctl without
// it; there the files are written and the agent is left to another service manager). An existing
// env file is never overwritten (it holds the keys). --prefix installs below another root
// (packaging, tests) and never touches systemd; --dry-run only says what would happen.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isSea } from 'node:sea';
import { childEnv } from '../child-env.ts';
import type { CommandInput } from '../command.ts';
import { DEFAULT_ENDPOINT, DEFAULT_ENV_FILE, DEFAULT_STATE_DIR } from '../config.ts';
import { UsageError, UserError } from '../errors.ts';
import { generateSymmetricKey } from '../format/index.ts';

export const UNIT_PATH = '/etc/systemd/system/resistro-agent.service';

export function unitFile(execStart: string): string {
  return `# Installed by "resistro install". Configuration: ${DEFAULT_ENV_FILE}
[Unit]
Description=Resistro backup agent (encrypted database backups)
Documentation=https://cloud.resistro.org/docs
Wants=network-online.target
After=network-online.target postgresql.service mariadb.service mysql.service

[Service]
Type=simple
ExecStart=${execStart}
Restart=on-failure
RestartSec=10
# Exit code 2 is a configuration error: restarting will not fix it; fix ${DEFAULT_ENV_FILE}.
RestartPreventExitStatus=2
# SIGTERM goes to the agent only: it stops the running dump itself and reports the backup.
KillMode=mixed
TimeoutStopSec=90
UMask=0077
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=strict
ProtectHome=read-only
ReadWritePaths=${DEFAULT_STATE_DIR}
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes
LockPersonality=yes

[Install]
WantedBy=multi-user.target
`;
}

export function envFile(values: {
  apiKey?: string;
  endpoint?: string;
  encryptionKey: string;
  generated: boolean;
}): string {
  return `# Resistro agent configuration, read by resistro-agent.service. Mode 0600: it holds secrets.
# After a change: sudo systemctl restart resistro-agent

# API key from the dashboard (Settings → API keys, scope "agent"):
RESISTRO_API_KEY=${values.apiKey ?? ''}
RESISTRO_ENDPOINT=${values.endpoint ?? DEFAULT_ENDPOINT}

# The key that encrypts every backup on this server. It is never sent to Resistro.
${values.generated ? '# Generated at installation. COPY IT TO A SAFE PLACE: without it no backup can be restored.\n' : ''}# For public-key mode put a public key (resistro-pub-1:…, from "resistro keygen --public-key-mode") here.
RESISTRO_ENCRYPTION_KEY=${values.encryptionKey}

# RESISTRO_STATE_DIR=${DEFAULT_STATE_DIR}
# RESISTRO_SPOOL_MAX_BYTES=5GiB
# RESISTRO_LOG_LEVEL=info
`;
}

/**
 * The unit's ExecStart, as the running system will see it: the executable itself (the single
 * executable, `sea`), or this node and this script (the single-file build). Below --prefix
 * (install-agent.sh runs the staged copy, <prefix>/usr/local/bin/resistro) the prefix is left out:
 * it only says where the files are written, never what they contain.
 */
export function selfCommand(
  prefix: string,
  node = process.execPath,
  argv1 = process.argv[1],
  sea = isSea(),
): string {
  let script = sea ? realpathSync(node) : argv1 ? realpathSync(argv1) : undefined;
  if (!script)
    throw new UserError(
      'cannot tell where resistro is installed',
      'Run it by its full path, e.g. /usr/local/bin/resistro install.',
    );
  if (prefix) {
    for (const root of new Set([resolve(prefix), existsSync(prefix) ? realpathSync(prefix) : ''])) {
      if (root && root !== '/' && script.startsWith(`${root}/`)) {
        script = script.slice(root.length);
        break;
      }
    }
  }
  const quote = (s: string) =>
    /^[\w@%+=:,./-]+$/.test(s) ? s : `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  return sea ? `${quote(script)} agent` : `${quote(node)} ${quote(script)} agent`;
}

/** systemd on this machine, as `resistro install` needs to know it. */
export type Systemd = {
  /** the systemctl binary, if installed */
  systemctl: string | undefined;
  /**
   * systemd is the running init system. Containers and WSL often have systemctl without it; there
   * every systemctl call fails ("System has not been booted with systemd as init system").
   */
  running: boolean;
};

/** sd_booted(3): systemd runs as init exactly when <root>/run/systemd/system is a directory. */
export function detectSystemd(root = '/'): Systemd {
  const systemctl = ['usr/bin/systemctl', 'bin/systemctl']
    .map((p) => join(root, p))
    .find((p) => existsSync(p));
  let running = false;
  try {
    running = statSync(join(root, 'run/systemd/system')).isDirectory();
  } catch {
    // absent: not booted with systemd
  }
  return { systemctl, running };
}

/** What install() does not decide itself; run() gives it the real system, tests a staged one. */
export type InstallHost = {
  /** the unit's ExecStart */
  execStart: string;
  /** undefined: leave the service manager alone (--prefix: a staged tree, not this system) */
  systemd: Systemd | undefined;
  spawn(command: string, args: string[]): { status: number | null; stdout: string; stderr: string };
};

export async function run(input: CommandInput): Promise<number> {
  const { options } = input;
  const prefix = (options.prefix as string | undefined) ?? '';
  const dryRun = Boolean(options['dry-run']);
  if (prefix && !prefix.startsWith('/'))
    throw new UsageError('--prefix must be an absolute path', 'Example: --prefix /tmp/stage');
  if (!prefix && !dryRun && process.getuid?.() !== 0) {
    throw new UserError('installing the service needs root', 'Run: sudo resistro install');
  }
  return install(input, {
    execStart: selfCommand(prefix),
    systemd: prefix ? undefined : detectSystemd('/'),
    spawn: (command, args) => spawnSync(command, args, { encoding: 'utf8', env: childEnv() }),
  });
}

export async function install({ options, env, log, out }: CommandInput, host: InstallHost): Promise<number> {
  const prefix = (options.prefix as string | undefined) ?? '';
  const dryRun = Boolean(options['dry-run']);
  const at = (path: string) => (prefix ? join(prefix, path) : path);
  const unitPath = at(UNIT_PATH);
  const envPath = at(DEFAULT_ENV_FILE);
  const statePath = at(DEFAULT_STATE_DIR);
  const steps: string[] = [];

  const unit = unitFile(host.execStart);
  steps.push(`write ${unitPath}`);
  const keepEnv = existsSync(envPath);
  const providedKey = env.RESISTRO_ENCRYPTION_KEY?.trim();
  const encryptionKey = providedKey || generateSymmetricKey();
  const envText = envFile({
    apiKey: env.RESISTRO_API_KEY?.trim() || undefined,
    endpoint: env.RESISTRO_ENDPOINT?.trim() || undefined,
    encryptionKey,
    generated: !providedKey,
  });
  steps.push(
    keepEnv
      ? `keep the existing ${envPath} (never overwritten)`
      : `write ${envPath} (mode 0600)${providedKey ? '' : ' with a new encryption key'}`,
  );
  steps.push(`create ${statePath} (mode 0700)`);

  const configured = keepEnv || Boolean(env.RESISTRO_API_KEY?.trim());
  const systemctl = host.systemd?.running ? host.systemd.systemctl : undefined;
  const systemctlArgs = systemctl
    ? [
        ['daemon-reload'],
        ['enable', 'resistro-agent'],
        ...(configured && !options['no-start'] ? [['restart', 'resistro-agent']] : []),
      ]
    : [];
  for (const args of systemctlArgs) steps.push(`systemctl ${args.join(' ')}`);

  if (dryRun) {
    out(`would:\n${steps.map((s) => `  - ${s}`).join('\n')}\n\n--- ${unitPath} ---\n${unit}`);
    return 0;
  }

  mkdirSync(dirname(unitPath), { recursive: true, mode: 0o755 });
  writeFileSync(unitPath, unit, { mode: 0o644 });
  chmodSync(unitPath, 0o644);
  if (!keepEnv) {
    mkdirSync(dirname(envPath), { recursive: true, mode: 0o700 });
    // SECURITY: the env file holds the API key and the encryption key: root only (0600), created
    // exclusively so that an existing file is never replaced.
    writeFileSync(envPath, envText, { mode: 0o600, flag: 'wx' });
    chmodSync(envPath, 0o600);
  }
  mkdirSync(statePath, { recursive: true, mode: 0o700 });
  chmodSync(statePath, 0o700);
  log.info(
    'install.files',
    `installed ${unitPath}; ${keepEnv ? `kept ${envPath}` : `wrote ${envPath}`}; state in ${statePath}`,
  );

  const keyNote =
    !keepEnv && !providedKey
      ? `A new encryption key is in ${envPath}. Copy it to a safe place now: without it no backup can be restored.`
      : undefined;
  for (const args of systemctlArgs) {
    const r = host.spawn(systemctl!, args);
    if (r.status !== 0) {
      // The key is written whatever systemd does: say where it is before the error.
      if (keyNote) out(`${keyNote}\n`);
      throw new UserError(
        `systemctl ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim()}`,
        'Check `systemctl status resistro-agent` and `journalctl -u resistro-agent`.',
      );
    }
  }
  const next: string[] = [];
  if (keyNote) next.push(keyNote);
  if (!configured)
    next.push(
      `Put your API key into ${envPath} (RESISTRO_API_KEY=…)${systemctl || !host.systemd ? ', then: sudo systemctl restart resistro-agent' : '.'}`,
    );
  else if (systemctl) next.push('The agent is running: resistro status shows its connection and databases.');
  if (host.systemd && !systemctl)
    next.push(
      host.systemd.systemctl
        ? 'systemd is installed but not running (no /run/systemd/system: a container or WSL?), so the service was not enabled: start the agent with `resistro agent` under your service manager.'
        : 'systemd was not found: start the agent with `resistro agent` under your service manager.',
    );
  out(`${['resistro agent installed.', ...next].join('\n')}\n`);
  return 0;
}
