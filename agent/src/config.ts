// The agent's configuration: /etc/resistro-agent/env (KEY=VALUE lines), overridden by the
// environment, validated by one valibot schema. Parsed once in cli.ts and passed down typed;
// nothing deeper reads process.env. Every bad or missing value gets its own message.
// SECURITY: the encryption key is parsed into a KeyObject here and never sent or logged; error
// messages never repeat a value, only its name.
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import * as v from 'valibot';
import { parseEnvFile } from './env-file.ts';
import { UsageError } from './errors.ts';
import { type EncryptionKey, FormatError, parseEncryptionKey } from './format/index.ts';
import { LOG_LEVELS, type LogLevel } from './log.ts';

export const DEFAULT_ENV_FILE = '/etc/resistro-agent/env';
export const DEFAULT_ENDPOINT = 'https://cloud.resistro.org/api';
export const DEFAULT_STATE_DIR = '/var/lib/resistro-agent';
export const DEFAULT_SPOOL_MAX_BYTES = 5 * 1024 ** 3;
/** where the daemon takes WAL from `resistro wal-push` (archive_command); /run is cleared at boot */
export const DEFAULT_WAL_PUSH_SOCKET = '/run/resistro-agent/wal-push.sock';

export const CONFIG_KEYS = [
  'RESISTRO_API_KEY',
  'RESISTRO_ENDPOINT',
  'RESISTRO_ENCRYPTION_KEY',
  'RESISTRO_STATE_DIR',
  'RESISTRO_SPOOL_MAX_BYTES',
  'RESISTRO_LOG_LEVEL',
  'RESISTRO_LOG_FORMAT',
  'RESISTRO_COMPRESSOR',
  'RESISTRO_JOBS',
  'RESISTRO_TABLE_STATS',
  'RESISTRO_WAL_PUSH_SOCKET',
] as const;
type ConfigKey = (typeof CONFIG_KEYS)[number];

export type Compressor = 'auto' | 'zstd' | 'node';

export type Config = {
  /** the env file that was read, if any */
  envFile: string | undefined;
  apiKey: string | undefined;
  endpoint: string;
  encryptionKey: EncryptionKey | undefined;
  stateDir: string;
  spoolMaxBytes: number;
  logLevel: LogLevel;
  logFormat: 'auto' | 'json' | 'text';
  compressor: Compressor;
  /** PostgreSQL backups: sections dumped at once; 'auto' = this machine's cores; 1 = one at a time */
  jobs: number | 'auto';
  /** count and hash each table's rows while dumping (for test restores and restore --list); default on */
  tableStats: boolean;
  /** the Unix socket the daemon listens on for `resistro wal-push` (PostgreSQL archive_command) */
  walPushSocket: string;
};

export type ConfigNeeds = {
  apiKey?: boolean;
  /** 'encrypt': the agent (a symmetric or public key); 'decrypt': restore (symmetric or private) */
  encryptionKey?: 'encrypt' | 'decrypt';
};

const HINTS: Record<ConfigKey, string> = {
  RESISTRO_API_KEY:
    'Create an agent API key in the dashboard (Settings → API keys) and set RESISTRO_API_KEY=rsk_…',
  RESISTRO_ENDPOINT:
    'Set RESISTRO_ENDPOINT=https://cloud.resistro.org/api (or the address of your own control plane).',
  RESISTRO_ENCRYPTION_KEY:
    'Generate a key with `resistro keygen`, keep a copy off this server, and set RESISTRO_ENCRYPTION_KEY to it.',
  RESISTRO_STATE_DIR: 'Use an absolute path, e.g. /var/lib/resistro-agent.',
  RESISTRO_SPOOL_MAX_BYTES:
    'Give a size like 5GiB, 500MB or a number of bytes; 0 turns the offline spool off.',
  RESISTRO_LOG_LEVEL: 'Use one of debug, info, warn, error.',
  RESISTRO_LOG_FORMAT: 'Use one of auto, json, text.',
  RESISTRO_COMPRESSOR: 'Use auto (the zstd program when installed, else Node), zstd or node.',
  RESISTRO_JOBS: 'Use auto (one per CPU core) or a number from 1 to 64.',
  RESISTRO_TABLE_STATS: 'Use on (count and hash each table while backing up, the default) or off.',
  RESISTRO_WAL_PUSH_SOCKET: 'Use an absolute path, e.g. /run/resistro-agent/wal-push.sock.',
};

const isLoopback = (host: string) =>
  host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);

// One message per key, the first that applies.
const ApiKey = v.pipe(
  v.string(),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const s = dataset.value;
    const problem =
      s.length === 0
        ? 'RESISTRO_API_KEY is empty'
        : /\s/.test(s)
          ? 'RESISTRO_API_KEY contains whitespace'
          : !s.startsWith('rsk_')
            ? 'RESISTRO_API_KEY is not a Resistro API key (those start with rsk_)'
            : !/^rsk_[A-Za-z0-9_-]{16,}$/.test(s)
              ? 'RESISTRO_API_KEY is cut short or mistyped (rsk_ and then at least 16 letters, digits, - or _)'
              : undefined;
    if (problem) addIssue({ message: problem });
  }),
);

const Endpoint = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    let url: URL;
    try {
      url = new URL(dataset.value);
    } catch {
      addIssue({ message: 'RESISTRO_ENDPOINT is not a URL' });
      return NEVER;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      addIssue({ message: `RESISTRO_ENDPOINT must be an https:// URL (it is ${url.protocol})` });
      return NEVER;
    }
    // SECURITY: the API key travels in every request; over plain http anyone on the path reads it.
    if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
      addIssue({
        message:
          'RESISTRO_ENDPOINT uses plain http to another machine; the API key would travel unencrypted (use https://)',
      });
      return NEVER;
    }
    if (url.search || url.hash || url.username || url.password) {
      addIssue({ message: 'RESISTRO_ENDPOINT must not contain a query, fragment or credentials' });
      return NEVER;
    }
    // The client appends /v1 itself; accept the common ".../api/v1" and trailing slashes.
    const path = url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
    return `${url.origin}${path}`;
  }),
);

const LEVELS = new Set<string>(LOG_LEVELS);

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?$/i;
const FACTORS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1000 ** 4,
};

/** "5GiB" → 5368709120, "500MB" → 500000000, "1024" → 1024; undefined when not a size */
export function parseSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  if (!m) return undefined;
  const bytes = Math.floor(Number(m[1]) * FACTORS[(m[2] ?? '').toLowerCase()]!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

function makeSchema(hints: Map<ConfigKey, string>) {
  const keyHint = (hint: string) => hints.set('RESISTRO_ENCRYPTION_KEY', hint);
  return v.object({
    RESISTRO_API_KEY: v.optional(ApiKey),
    RESISTRO_ENDPOINT: v.optional(Endpoint, DEFAULT_ENDPOINT),
    RESISTRO_ENCRYPTION_KEY: v.optional(
      v.pipe(
        v.string(),
        v.rawTransform(({ dataset, addIssue, NEVER }) => {
          try {
            return parseEncryptionKey(dataset.value);
          } catch (error) {
            if (!(error instanceof FormatError)) throw error;
            keyHint(error.hint);
            // SECURITY: the parser's messages describe the key's shape, never its content.
            addIssue({ message: `RESISTRO_ENCRYPTION_KEY: ${error.message}` });
            return NEVER;
          }
        }),
      ),
    ),
    RESISTRO_STATE_DIR: v.optional(
      v.pipe(v.string(), v.check(isAbsolute, 'RESISTRO_STATE_DIR must be an absolute path')),
      DEFAULT_STATE_DIR,
    ),
    RESISTRO_SPOOL_MAX_BYTES: v.optional(
      v.pipe(
        v.string(),
        v.rawTransform(({ dataset, addIssue, NEVER }) => {
          const bytes = parseSize(dataset.value);
          if (bytes === undefined) {
            addIssue({ message: 'RESISTRO_SPOOL_MAX_BYTES is not a size (e.g. 5GiB, 500MB, 1048576)' });
            return NEVER;
          }
          return bytes;
        }),
      ),
      String(DEFAULT_SPOOL_MAX_BYTES),
    ),
    RESISTRO_LOG_LEVEL: v.optional(
      v.pipe(
        v.string(),
        v.toLowerCase(),
        v.check((s) => LEVELS.has(s), 'RESISTRO_LOG_LEVEL must be one of debug, info, warn, error'),
        v.transform((s) => s as LogLevel),
      ),
      'info',
    ),
    RESISTRO_LOG_FORMAT: v.optional(
      v.picklist(['auto', 'json', 'text'], 'RESISTRO_LOG_FORMAT must be one of auto, json, text'),
      'auto',
    ),
    RESISTRO_COMPRESSOR: v.optional(
      v.picklist(['auto', 'zstd', 'node'], 'RESISTRO_COMPRESSOR must be one of auto, zstd, node'),
      'auto',
    ),
    RESISTRO_TABLE_STATS: v.optional(
      v.picklist(['on', 'off'], 'RESISTRO_TABLE_STATS must be on or off'),
      'on',
    ),
    RESISTRO_WAL_PUSH_SOCKET: v.optional(
      v.pipe(v.string(), v.check(isAbsolute, 'RESISTRO_WAL_PUSH_SOCKET must be an absolute path')),
      DEFAULT_WAL_PUSH_SOCKET,
    ),
    RESISTRO_JOBS: v.optional(
      v.pipe(
        v.string(),
        v.check(
          (s) => s === 'auto' || (/^\d{1,2}$/.test(s) && Number(s) >= 1 && Number(s) <= 64),
          'RESISTRO_JOBS must be auto or a number from 1 to 64',
        ),
      ),
      'auto',
    ),
  });
}

export type LoadedConfig = { config: Config; warnings: string[] };

/**
 * Reads the env file (RESISTRO_ENV_FILE, else /etc/resistro-agent/env when it exists), lays the
 * environment over it, validates, and checks that what the command needs is there. Throws one
 * UsageError listing every problem.
 */
export function loadConfig(env: NodeJS.ProcessEnv, needs: ConfigNeeds = {}): LoadedConfig {
  const problems: { key: ConfigKey | undefined; message: string }[] = [];
  const warnings: string[] = [];
  const raw: Partial<Record<ConfigKey, string>> = {};

  const explicitFile = env.RESISTRO_ENV_FILE?.trim() || undefined;
  const envFile = explicitFile ?? DEFAULT_ENV_FILE;
  let fileRead: string | undefined;
  let fileProblem: string | undefined;
  try {
    const parsed = parseEnvFile(readFileSync(envFile, 'utf8'));
    fileRead = envFile;
    // SECURITY: the file holds the API key and the encryption key; others must not read it.
    const mode = statSync(envFile).mode;
    if (
      (mode & 0o077) !== 0 &&
      (parsed.values.has('RESISTRO_API_KEY') || parsed.values.has('RESISTRO_ENCRYPTION_KEY'))
    ) {
      warnings.push(
        `${envFile} holds secrets but other users may read it (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${envFile}`,
      );
    }
    for (const error of parsed.errors) problems.push({ key: undefined, message: `${envFile}, ${error}` });
    for (const [key, { value, line }] of parsed.values) {
      if ((CONFIG_KEYS as readonly string[]).includes(key)) raw[key as ConfigKey] = value;
      else if (key.startsWith('RESISTRO_') && key !== 'RESISTRO_ENV_FILE') {
        warnings.push(`${envFile}, line ${line}: unknown setting ${key}${suggest(key)}`);
      }
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (explicitFile || code !== 'ENOENT') {
      fileProblem =
        code === 'ENOENT'
          ? `RESISTRO_ENV_FILE names ${envFile}, which does not exist`
          : code === 'EACCES'
            ? `cannot read ${envFile} (permission denied; run as root, e.g. with sudo)`
            : `cannot read ${envFile}: ${(error as Error).message}`;
      if (explicitFile) problems.push({ key: undefined, message: fileProblem });
    }
  }
  for (const key of CONFIG_KEYS) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }

  const hints = new Map<ConfigKey, string>();
  const result = v.safeParse(makeSchema(hints), raw, { abortEarly: false });
  for (const issue of result.issues ?? []) {
    const key = issue.path?.[0]?.key as ConfigKey | undefined;
    problems.push({ key, message: issue.message });
  }

  const out = result.success ? result.output : undefined;
  if (needs.apiKey && raw.RESISTRO_API_KEY === undefined) {
    problems.push({ key: 'RESISTRO_API_KEY', message: 'RESISTRO_API_KEY is not set' });
  }
  if (needs.encryptionKey && raw.RESISTRO_ENCRYPTION_KEY === undefined) {
    problems.push({ key: 'RESISTRO_ENCRYPTION_KEY', message: 'RESISTRO_ENCRYPTION_KEY is not set' });
  }
  const key = out?.RESISTRO_ENCRYPTION_KEY;
  if (key && needs.encryptionKey === 'decrypt' && key.kind === 'recipient') {
    problems.push({
      key: 'RESISTRO_ENCRYPTION_KEY',
      message: 'RESISTRO_ENCRYPTION_KEY is a public key (resistro-pub-1:…), which can only encrypt',
    });
    hints.set(
      'RESISTRO_ENCRYPTION_KEY',
      'Restoring a public-key-mode backup needs the private key (resistro-sec-1:…) made with it by `resistro keygen --public-key-mode`.',
    );
  }
  if (key && needs.encryptionKey === 'encrypt' && key.kind === 'private') {
    warnings.push(
      'RESISTRO_ENCRYPTION_KEY holds a private key; on the database server put only its public key (resistro-pub-1:…), so that this server cannot read older backups',
    );
  }

  if (problems.length > 0 || !out) {
    const head =
      problems.length === 1
        ? 'The configuration has a problem'
        : `The configuration has ${problems.length} problems`;
    const list = problems.map((p) => `  - ${p.message}`).join('\n');
    const keyed = [...new Set(problems.map((p) => p.key).filter((k): k is ConfigKey => k !== undefined))];
    const hintLines = keyed.map((k) => hints.get(k) ?? HINTS[k]);
    if (fileProblem && !explicitFile) hintLines.push(`Note: ${fileProblem}.`);
    const where = fileRead
      ? `Edit ${fileRead} or set the variables in the environment.`
      : `Put the settings into ${DEFAULT_ENV_FILE} or the environment.`;
    const unknown = warnings.filter((w) => w.includes('unknown setting'));
    throw new UsageError(
      `${head}:\n${list}${unknown.length ? `\n${unknown.map((w) => `  - ${w}`).join('\n')}` : ''}`,
      [...hintLines, where].join('\n'),
    );
  }

  return {
    config: {
      envFile: fileRead,
      apiKey: out.RESISTRO_API_KEY,
      endpoint: out.RESISTRO_ENDPOINT,
      encryptionKey: out.RESISTRO_ENCRYPTION_KEY,
      stateDir: out.RESISTRO_STATE_DIR,
      spoolMaxBytes: out.RESISTRO_SPOOL_MAX_BYTES,
      logLevel: out.RESISTRO_LOG_LEVEL,
      logFormat: out.RESISTRO_LOG_FORMAT,
      compressor: out.RESISTRO_COMPRESSOR,
      jobs: out.RESISTRO_JOBS === 'auto' ? 'auto' : Number(out.RESISTRO_JOBS),
      tableStats: out.RESISTRO_TABLE_STATS === 'on',
      walPushSocket: out.RESISTRO_WAL_PUSH_SOCKET,
    },
    warnings,
  };
}

/** " (did you mean RESISTRO_API_KEY?)" for a near miss */
function suggest(key: string): string {
  const squash = (s: string) => s.replace(/[^A-Z]/gi, '').toUpperCase();
  const match = CONFIG_KEYS.find(
    (k) =>
      squash(k) === squash(key) || squash(k).startsWith(squash(key)) || squash(key).startsWith(squash(k)),
  );
  return match ? ` (did you mean ${match}?)` : '';
}
