// `resistro install`: the systemd unit, the env file and the state directory, then enable the
// service. An existing env file is never overwritten (it holds the keys). --prefix installs below
// another root (packaging, tests); --dry-run only says what would happen.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CommandInput } from '../cli.ts';
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

function selfCommand(): string {
  const script = process.argv[1] ? realpathSync(process.argv[1]) : undefined;
  if (!script)
    throw new UserError(
      'cannot tell where resistro is installed',
      'Run it by its full path, e.g. /usr/local/bin/resistro install.',
    );
  const quote = (s: string) =>
    /^[\w@%+=:,./-]+$/.test(s) ? s : `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  return `${quote(process.execPath)} ${quote(script)} agent`;
}

export async function run({ options, env, log, out }: CommandInput): Promise<number> {
  const prefix = (options.prefix as string | undefined) ?? '';
  const dryRun = Boolean(options['dry-run']);
  if (prefix && !prefix.startsWith('/'))
    throw new UsageError('--prefix must be an absolute path', 'Example: --prefix /tmp/stage');
  if (!prefix && !dryRun && process.getuid?.() !== 0) {
    throw new UserError('installing the service needs root', 'Run: sudo resistro install');
  }
  const at = (path: string) => (prefix ? join(prefix, path) : path);
  const unitPath = at(UNIT_PATH);
  const envPath = at(DEFAULT_ENV_FILE);
  const statePath = at(DEFAULT_STATE_DIR);
  const steps: string[] = [];

  const unit = unitFile(selfCommand());
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

  const systemctl = ['/usr/bin/systemctl', '/bin/systemctl'].find((p) => existsSync(p));
  const configured = keepEnv || Boolean(env.RESISTRO_API_KEY?.trim());
  const manage = !prefix && systemctl !== undefined;
  if (manage) {
    steps.push('systemctl daemon-reload', 'systemctl enable resistro-agent');
    if (configured && !options['no-start']) steps.push('systemctl restart resistro-agent');
  }

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

  if (manage) {
    for (const args of [
      ['daemon-reload'],
      ['enable', 'resistro-agent'],
      ...(configured && !options['no-start'] ? [['restart', 'resistro-agent']] : []),
    ]) {
      const r = spawnSync(systemctl!, args, { encoding: 'utf8' });
      if (r.status !== 0) {
        throw new UserError(
          `systemctl ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim()}`,
          'Check `systemctl status resistro-agent` and `journalctl -u resistro-agent`.',
        );
      }
    }
  }
  const next: string[] = [];
  if (!keepEnv && !providedKey)
    next.push(
      `A new encryption key is in ${envPath}. Copy it to a safe place now: without it no backup can be restored.`,
    );
  if (!configured)
    next.push(
      `Put your API key into ${envPath} (RESISTRO_API_KEY=…), then: sudo systemctl restart resistro-agent`,
    );
  else if (manage) next.push('The agent is running: resistro status shows its connection and databases.');
  if (!manage && !prefix)
    next.push('systemd was not found: start the agent with `resistro agent` under your service manager.');
  out(`${['resistro agent installed.', ...next].join('\n')}\n`);
  return 0;
}
