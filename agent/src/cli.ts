// resistro: the only module that reads argv, prints usage and exits. It parses the arguments,
// loads the configuration once (with what the command needs), and hands both to the command,
// which is loaded lazily. Exit codes: 0 ok, 1 a failure the user can fix (message + hint),
// 2 bad usage or configuration, 70 a bug (stack and causes printed).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { CommandInput, CommandModule } from './command.ts';
import { type ConfigNeeds, loadConfig } from './config.ts';
import {
  classifyError,
  EXIT_BUG,
  EXIT_USAGE,
  EXIT_USER,
  formatBug,
  Interrupted,
  UsageError,
} from './errors.ts';
import { createLogger, type Logger } from './log.ts';
import { VERSION, VERSION_LINE } from './version.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

type CommandSpec = {
  summary: string;
  usage: string;
  options: Options;
  needs(options: CommandInput['options']): ConfigNeeds | 'none';
  load(): Promise<CommandModule>;
  /** the daemon handles SIGTERM itself (finish or fail-report, then exit 0) */
  ownsSignals?: boolean;
  /** one positional argument is taken, as this option (wal-push %p) */
  positional?: string;
};

const keyFile = { 'key-file': { type: 'string' } } as const;

const COMMANDS: Record<string, CommandSpec> = {
  agent: {
    summary: 'run the agent daemon (heartbeat, schedules, backups, offline spool)',
    usage: `resistro agent [--heartbeat-interval <seconds>]

Runs in the foreground (systemd starts it as resistro-agent.service). Sends a heartbeat every 60 s
(or --heartbeat-interval, at least 1), runs each database's schedule from the last configuration it
received (also while the control plane is unreachable), handles "back up now", retries failed
backups at the next heartbeats, and delivers spooled backups. SIGTERM: stops taking work, reports
the running backup as failed, exits 0.`,
    options: { 'heartbeat-interval': { type: 'string' } },
    needs: () => ({ apiKey: true, encryptionKey: 'encrypt' }),
    load: () => import('./commands/agent.ts'),
    ownsSignals: true,
  },
  backup: {
    summary: 'back up one database now',
    usage: `resistro backup --database <id or name>

Backs up one database of this agent now: dump, zstd, encrypt, upload. When the control plane or the
storage is unreachable the encrypted backup goes to the offline spool and is delivered later.`,
    options: { database: { type: 'string', short: 'd' } },
    needs: () => ({ apiKey: true, encryptionKey: 'encrypt' }),
    load: () => import('./commands/backup.ts'),
  },
  restore: {
    summary: 'restore a backup file (or a backup from the service) into a database',
    usage: `resistro restore --file <backup.resistro> --host <host> --port <port> --database <name> --user <user> [--replace]
resistro restore --backup <backup id> --host … --port … --database … --user … [--replace]
resistro restore --file <backup.resistro> --list
resistro restore --file <backup.resistro> --table <schema.table> [--table …] [--as <new name>] --host … --database … --user …

Streams decrypt → decompress → psql / mysql into the database. PostgreSQL restores in one
transaction, so a damaged file rolls everything back; MySQL/MariaDB cannot roll back DDL, so the
whole file (key, every chunk, the compression) is checked first. Refuses a database that is not
empty unless --replace. The password comes from PGPASSWORD (PostgreSQL) or MYSQL_PWD (MySQL/MariaDB), else from
~/.pgpass or ~/.my.cnf, else a prompt on a terminal; never from the command line.
Options: --engine postgres|mysql|mariadb (default: read from the dump), --key-file <file> (default:
RESISTRO_ENCRYPTION_KEY), --no-password (never prompt).
PostgreSQL backups made in sections (format version 2) and deduplicated backups (straight from
storage with --backup, or their downloaded file) restore over several connections:
-j/--jobs <n> (default: this machine's cores, at most 8): schema first, then the tables N at a time,
then indexes and constraints N at a time. The target must be empty; if anything fails, everything
the restore created is dropped again. --replace and -j 1 restore in one transaction instead.
--list checks the whole file and shows what it holds: its tables with their row counts (backups
from resistro 0.3 on) and, for sectioned backups, the sections; for a deduplicated backup
(--backup) it reads only the manifest and lists its sections. --table restores only that table
(several --table allowed; --as <name> restores one under a new name): its definition, unless it
exists, and its rows, streaming (memory stays flat at any size). PostgreSQL reads only the table's
section, in one transaction; MySQL/MariaDB checks the whole file first, then replays only the
table's part of the dump (triggers are left out, and with --as its foreign keys). A table that
already has rows is refused unless --replace. A deduplicated backup (--backup, or its downloaded
file) reads only the chunks of the schema and of that table (MySQL/MariaDB: checked first, then
replayed), with ranged reads from storage; nothing is written to disk.

SQLite, Redis and directory backups are restored into files (the engine is read from the backup):
resistro restore --file <b> --target-file /srv/app/db.sqlite [--replace]   SQLite: refuses an existing
  file (and says when a process has it open) unless --replace; the copy is integrity-checked first.
resistro restore --file <b> --target-dir /var/tmp/redis-restore             Redis: writes dump.rdb (and
  the AOF folder) and prints how to restart Redis on them.
resistro restore --file <b> --target-dir /srv/restore [--path /srv/uploads/2026 …]   directories: the
  whole tree, or only the chosen paths, with owners (as root), modes, times and links.

Point-in-time recovery, MySQL/MariaDB: the dump, then the binary log replayed up to a moment:
resistro restore --pitr --from <database id or name> --time "2026-12-01 15:30:00+01" \
  --host … --database <new db> --user …      (or --position mysql-bin.000042:1234, or --latest)
  The service picks the newest dump before the target and the log segments after it.
resistro restore --pitr --file <dump.resistro> --segments <dir> --time …   the same from local copies
Every log segment from the dump's position to the target is fetched and checked first: a missing
or damaged one refuses the restore with its name, before anything is written. Times have whole
seconds (the binlog's precision): changes from the target's second on are not replayed. The
account needs BINLOG REPLAY (MariaDB 10.5.2+; SUPER before) besides the restore rights. See
/docs/pitr-mariadb.

Point-in-time recovery, PostgreSQL: a base backup and the WAL after it, into a new data directory:
resistro restore --pitr --from <database id or name> --data-dir /var/lib/postgresql/15/restored \
  --time "2026-12-01 15:30:00+01"     (or --lsn 0/3000060, or --latest) [--start /usr/lib/postgresql/15/bin]
  The directory must be new or empty. The recovery settings fetch each WAL file with
  "resistro wal-fetch"; a missing or damaged one stops recovery with its name. Without --start it
  prints how to start the server; with --start (the PostgreSQL bin folder) it starts it, waits for
  recovery to reach the target and promote, and stops it again. See /docs/pitr-postgres.`,
    options: {
      'target-file': { type: 'string' },
      'target-dir': { type: 'string' },
      path: { type: 'string', multiple: true },
      file: { type: 'string', short: 'f' },
      jobs: { type: 'string', short: 'j' },
      list: { type: 'boolean' },
      table: { type: 'string', multiple: true },
      as: { type: 'string' },
      backup: { type: 'string' },
      host: { type: 'string', short: 'h' },
      port: { type: 'string', short: 'p' },
      database: { type: 'string', short: 'd' },
      user: { type: 'string', short: 'U' },
      engine: { type: 'string' },
      replace: { type: 'boolean' },
      'no-password': { type: 'boolean' },
      pitr: { type: 'boolean' },
      time: { type: 'string' },
      position: { type: 'string' },
      latest: { type: 'boolean' },
      segments: { type: 'string' },
      from: { type: 'string' },
      'data-dir': { type: 'string' },
      lsn: { type: 'string' },
      start: { type: 'string' },
      ...keyFile,
    },
    needs: (o) => ({
      apiKey: o.backup !== undefined || o.from !== undefined,
      ...(o['key-file'] === undefined && { encryptionKey: 'decrypt' as const }),
    }),
    load: () => import('./commands/restore.ts'),
  },
  'wal-fetch': {
    summary: "PostgreSQL's restore_command during a point-in-time restore (written by restore --pitr)",
    usage: `resistro wal-fetch --database <id> --manifest <resistro-pitr.json> --file %f --dest %p

Fetches one WAL file from storage, checks and decrypts it. Exit 0: written; 1: no such file (the
end of the archive); 255: a file the restore needs is missing or damaged (PostgreSQL stops
recovery and the message names the file). resistro restore --pitr --data-dir writes this command
into the restored cluster's settings; you do not run it yourself.`,
    options: {
      database: { type: 'string' },
      manifest: { type: 'string' },
      file: { type: 'string' },
      dest: { type: 'string' },
    },
    needs: () => ({ apiKey: true, encryptionKey: 'decrypt' }),
    load: () => import('./commands/wal-fetch.ts'),
  },
  'wal-push': {
    summary: "PostgreSQL's archive_command where replication is not allowed: hands WAL to the agent",
    usage: `resistro wal-push [--database <id or name>] [--socket <path>] <WAL file>

PostgreSQL's archive_command for continuous protection without a replication connection:
  archive_command = 'resistro wal-push %p'
Hands the file to the running agent over its socket (RESISTRO_WAL_PUSH_SOCKET, default
/run/resistro-agent/wal-push.sock) and exits 0 once the agent holds it on its disk; the agent
compresses, encrypts and uploads it. Exit 1 (PostgreSQL keeps the file and retries) when the agent
is not running or refuses it. --database picks the database when several on this agent use the
method; without it the agent matches the segment's cluster.`,
    options: { database: { type: 'string' }, socket: { type: 'string' }, file: { type: 'string' } },
    needs: () => 'none',
    load: () => import('./commands/wal-push.ts'),
    positional: 'file',
  },
  decrypt: {
    summary: 'decrypt a backup file to plain SQL',
    usage: `resistro decrypt --file <backup.resistro> --output <dump.sql> [--key-file <file>] [--no-decompress] [--force]

Writes the plain SQL (psql/mysql read it). The output appears only once the whole file verified;
a damaged file or a wrong key leaves nothing behind. An existing output file is kept unless --force.`,
    options: {
      file: { type: 'string', short: 'f' },
      output: { type: 'string', short: 'o' },
      'no-decompress': { type: 'boolean' },
      force: { type: 'boolean' },
      ...keyFile,
    },
    needs: (o) => (o['key-file'] === undefined ? { encryptionKey: 'decrypt' } : {}),
    load: () => import('./commands/decrypt.ts'),
  },
  verify: {
    summary: 'check a backup file completely, or prove it restores (--restore)',
    usage: `resistro verify --file <backup.resistro> [--key-file <file>]
resistro verify --restore --backup <backup id> [--time-limit <minutes>] [--json]
resistro verify --restore --file <backup.resistro> --host … --port … --user … --database … [--json]

Without --restore: checks the header, the key, every chunk, the end of the file and the compressed
content.
With --restore: a test restore. Checks the whole file, checks the free disk space, restores into a
new scratch database resistro_verify_<id> on the same server (never into the backed-up database)
with the tools at low priority, dumps the copy again and compares every table's row count and
checksum with those taken while backing up, then drops the scratch database (also on failure,
Ctrl-C or --time-limit, default 120 minutes). --backup fetches the backup and uses the settings
of its database on this agent; --file needs the server like restore (--database: where to connect;
the password from PGPASSWORD / MYSQL_PWD, ~/.pgpass / ~/.my.cnf, or a prompt). Prints the verdict
(--json: as JSON); exit 0 only when it passed, 1 when a table differs or the test could not finish.`,
    options: {
      file: { type: 'string', short: 'f' },
      restore: { type: 'boolean' },
      backup: { type: 'string' },
      host: { type: 'string', short: 'h' },
      port: { type: 'string', short: 'p' },
      user: { type: 'string', short: 'U' },
      database: { type: 'string', short: 'd' },
      engine: { type: 'string' },
      'time-limit': { type: 'string' },
      json: { type: 'boolean' },
      'no-password': { type: 'boolean' },
      ...keyFile,
    },
    needs: (o) => ({
      apiKey: o.backup !== undefined,
      ...(o['key-file'] === undefined && { encryptionKey: 'decrypt' as const }),
    }),
    load: () => import('./commands/verify.ts'),
  },
  export: {
    summary: 'download every backup of the account (or of one database), verified',
    usage: `resistro export --all --to <folder>
resistro export --database <database id> --to <folder>

Downloads every successful backup of the account (with --all) or of one database into
<folder>/<database>-<id>/backup-<database>-<date>-<id>.resistro, checks each file against the
SHA-256 recorded when it was uploaded, and writes SHA256SUMS (sha256sum -c SHA256SUMS checks the
folder again). Run it again after an interruption: verified files are skipped, partial ones are
downloaded again. Works while the account is cancelled (until its purge). Needs only the API key;
the files stay encrypted (resistro decrypt / restore with your encryption key).
Exit 0 when every backup is there and verified, 1 when any is missing.`,
    options: { all: { type: 'boolean' }, database: { type: 'string', short: 'd' }, to: { type: 'string' } },
    needs: () => ({ apiKey: true }),
    load: () => import('./commands/export.ts'),
  },
  check: {
    summary: 'check that every deduplicated backup is whole (--read-data: read every chunk)',
    usage: `resistro check [--backup <backup id>] [--read-data] [--key-file <file>]

Checks the account's deduplicated backups (or one), read straight from storage as a restore reads
them. Without --read-data only its manifest is read: it must authenticate under your key, and the
service must place every piece it lists in a stored pack. With --read-data every piece is read
(ranged reads) and authenticated too, as a restore would; a missing or damaged piece is named.
Prints one line per backup; exit 0 only when all passed.`,
    options: { backup: { type: 'string' }, 'read-data': { type: 'boolean' }, ...keyFile },
    needs: (o) => ({
      apiKey: true,
      ...(o['key-file'] === undefined && { encryptionKey: 'decrypt' as const }),
    }),
    load: () => import('./commands/check.ts'),
  },
  keygen: {
    summary: 'make a new encryption key',
    usage: `resistro keygen [--output <file>] [--public-key-mode]

Prints a new 256-bit key for RESISTRO_ENCRYPTION_KEY, or writes it to --output (mode 0600).
--public-key-mode makes an X25519 key pair instead: the database server gets only the public key
(resistro-pub-1:…), so a compromised server cannot read older backups; the private key
(resistro-sec-1:…) is needed to restore and belongs somewhere else. With --output the private key
goes to the file and the public key to <file>.pub.`,
    options: { output: { type: 'string', short: 'o' }, 'public-key-mode': { type: 'boolean' } },
    needs: () => 'none',
    load: () => import('./commands/keygen.ts'),
  },
  status: {
    summary: 'show configuration, connectivity, dump tools and databases',
    usage: `resistro status [--json]

Checks the configuration, reaches the control plane (this registers the agent on first use), and
lists the dump tools found, the databases of this agent and the offline spool. Exit 1 when
something needs attention.`,
    options: { json: { type: 'boolean' } },
    needs: () => ({}),
    load: () => import('./commands/status.ts'),
  },
  install: {
    summary: 'install the systemd service and the configuration file',
    usage: `resistro install [--prefix <dir>] [--dry-run] [--no-start]

Writes /etc/systemd/system/resistro-agent.service and /etc/resistro-agent/env (root, mode 0600; an
existing env file is never overwritten), creates /var/lib/resistro-agent, and, when systemd is
running, enables and starts the service with systemctl (in a container without systemd it says how
to run \`resistro agent\` instead). --prefix installs below another root (for packaging and tests); --dry-run prints
what would be done. RESISTRO_API_KEY, RESISTRO_ENDPOINT and RESISTRO_ENCRYPTION_KEY from the
environment go into a new env file; without an encryption key a new one is generated.`,
    options: { prefix: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'no-start': { type: 'boolean' } },
    needs: () => 'none',
    load: () => import('./commands/install.ts'),
  },
  update: {
    summary: 'replace this agent with the version the service hands out',
    usage: `resistro update [--prefix <dir>]

Fetches the service's installer (<service>/install-agent.sh, the service from RESISTRO_ENDPOINT) and
runs it: the executable for this machine is downloaded, checked against its SHA-256 and run once,
then replaces /usr/local/bin/resistro by rename, and the service is restarted when systemd runs it.
A failed update leaves the installed agent as it was. The env file and the state are kept. Needs root.`,
    options: { prefix: { type: 'string' } },
    needs: () => ({}),
    load: () => import('./commands/update.ts'),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `resistro ${VERSION}: encrypted backups of PostgreSQL, MySQL and MariaDB

Usage: resistro <command> [options]

Commands:
${lines.join('\n')}

Configuration: /etc/resistro-agent/env (or RESISTRO_ENV_FILE), overridden by the environment:
RESISTRO_API_KEY, RESISTRO_ENDPOINT, RESISTRO_ENCRYPTION_KEY, RESISTRO_STATE_DIR,
RESISTRO_SPOOL_MAX_BYTES, RESISTRO_LOG_LEVEL, RESISTRO_LOG_FORMAT, RESISTRO_COMPRESSOR.

Run "resistro <command> --help" for a command's options.
`;
}

/** zstd in node:zlib (compression fallback, restores) arrived in Node.js 22.15. */
function nodeTooOld(): string | undefined {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 15)) return undefined;
  return `Node.js ${process.versions.node} is too old; resistro needs Node.js 22.15 or newer`;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const code = await runCommand(argv, env);
  // PostgreSQL's restore_command: 1 means "no such file" and ends recovery normally; any other
  // failure of wal-fetch (its settings, a bug) must stop recovery instead (above 125 is fatal).
  return argv[0] === 'wal-fetch' && code > 1 ? 255 : code;
}

async function runCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const tooOld = nodeTooOld();
  if (tooOld) {
    process.stderr.write(
      `resistro: error: ${tooOld}\nhint: install a current Node.js LTS (https://nodejs.org or your distribution's nodejs package)\n`,
    );
    return EXIT_USAGE;
  }
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    const spec = topic ? COMMANDS[topic] : undefined;
    process.stdout.write(spec ? `${spec.usage}\n` : usage());
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`resistro ${VERSION_LINE}\n`);
    return 0;
  }
  const spec = COMMANDS[name];
  const controller = new AbortController();
  // Until the configuration is read, errors follow the environment's RESISTRO_LOG_FORMAT (JSON
  // off a terminal by default), so that a usage or configuration error looks like every other.
  const format = env.RESISTRO_LOG_FORMAT;
  let log: Logger | undefined = createLogger({
    json: format === 'json' ? true : format === 'text' ? false : undefined,
  });
  try {
    if (!spec) {
      throw new UsageError(
        `unknown command "${name.slice(0, 40)}"`,
        `Commands: ${Object.keys(COMMANDS).join(', ')}. Run "resistro --help".`,
      );
    }
    if (rest.includes('--help') || (rest.includes('-h') && name !== 'restore' && name !== 'verify')) {
      process.stdout.write(`${spec.usage}\n`);
      return 0;
    }
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: rest,
        options: spec.options,
        allowPositionals: spec.positional !== undefined,
        strict: true,
      });
    } catch (error) {
      throw new UsageError(`${name}: ${(error as Error).message}`, `Run "resistro ${name} --help".`);
    }
    const options = parsed.values as CommandInput['options'];
    if (spec.positional) {
      if (parsed.positionals.length > 1)
        throw new UsageError(`${name}: one ${spec.positional} only`, `Run "resistro ${name} --help".`);
      if (parsed.positionals[0] !== undefined) options[spec.positional] ??= parsed.positionals[0];
    }
    const needs = spec.needs(options);
    // A command that needs no configuration (keygen) still works while the env file is being
    // written: its problems become a warning instead of an error.
    const { config, warnings } = needs === 'none' ? loadConfigLeniently(env) : loadConfig(env, needs);
    // SECURITY: the secrets are parsed now. Child processes never see them: every spawn takes its
    // environment from childEnv() (child-env.ts), which leaves out all RESISTRO_* settings.
    log = createLogger({
      level: config.logLevel,
      json: config.logFormat === 'auto' ? undefined : config.logFormat === 'json',
    });
    for (const warning of warnings) log.warn('config.warning', warning);
    const command = await spec.load();
    if (!spec.ownsSignals) {
      const onSignal = (signal: NodeJS.Signals) => {
        if (controller.signal.aborted) process.exit(130);
        controller.abort(new Interrupted(signal));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }
    return await command.run({
      options,
      config,
      log,
      env,
      signal: controller.signal,
      out: (t) => process.stdout.write(t),
    });
  } catch (error) {
    return reportError(error, log);
  }
}

/** Prints an error the way its kind deserves and returns the exit code. */
export function reportError(error: unknown, log?: Logger): number {
  const report = classifyError(error);
  if (report.kind === 'bug') {
    process.stderr.write(
      `resistro: internal error (this is a bug in resistro ${VERSION}; please report it with the text below)\n${formatBug(error)}\n`,
    );
    return EXIT_BUG;
  }
  if (log?.json) {
    log.error('command.failed', report.message, {
      hint: report.hint,
      code: report.code,
      exitCode: report.kind === 'usage' ? EXIT_USAGE : EXIT_USER,
    });
  } else {
    const hint = report.hint ? `hint: ${report.hint.replaceAll('\n', '\n      ')}\n` : '';
    process.stderr.write(`resistro: error: ${report.message}\n${hint}`);
  }
  return report.kind === 'usage' ? EXIT_USAGE : EXIT_USER;
}

// Run when executed directly (node cli.ts, or the single-file bundle); bin/resistro.js calls main().
const invokedDirectly = (() => {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();
if (invokedDirectly) {
  // Exit explicitly: idle keep-alive connections must not keep a finished command alive.
  // (stdout and stderr are synchronous for files and pipes on Linux, so nothing is lost.)
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`resistro: internal error\n${formatBug(error)}\n`);
      process.exit(EXIT_BUG);
    },
  );
}

function loadConfigLeniently(env: NodeJS.ProcessEnv): ReturnType<typeof loadConfig> {
  try {
    return loadConfig(env, {});
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const defaults = loadConfig({ RESISTRO_ENV_FILE: '/dev/null' }, {});
    return {
      ...defaults,
      warnings: [
        ...defaults.warnings,
        `the configuration is not usable yet: ${error.message.replaceAll('\n', ' ')}`,
      ],
    };
  }
}
