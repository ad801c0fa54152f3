// The add/edit database form as plain data: defaults, per-field validation (message keys, so
// the text follows the language), the next runs of the schedule, and the request body, in which
// the password is sealed to the agent's public key before it leaves the browser.
import { isValidCron, isValidTimeZone, nextRuns } from '@resistro/contract/schedule';
import {
  type Agent,
  type CreateDatabaseBody,
  type Database,
  DEFAULT_PORTS,
  type Engine,
  type Schedule,
  type SourceSettings,
  type UpdateDatabaseBody,
} from '@resistro/contract/schemas';
import { sealToAgent } from '@resistro/contract/seal';
import type { Problem } from './validate.ts';

export type DatabaseFormValues = {
  name: string;
  engine: Engine;
  host: string;
  port: string;
  database: string;
  user: string;
  credentialsMode: 'sealed' | 'local';
  password: string;
  scheduleKind: 'daily' | 'cron';
  time: string;
  timezone: string;
  expression: string;
  retentionDays: string;
  agentId: string;
  /** SQLite: the database file */
  sqlitePath: string;
  /** directories: one absolute path per line; patterns one per line */
  paths: string;
  include: string;
  exclude: string;
  /** Redis: connect with TLS */
  redisTls: boolean;
};
export type DatabaseFormField = keyof DatabaseFormValues;
export type DatabaseFormProblems = Partial<Record<DatabaseFormField, Problem>>;

export type DatabaseFormContext = {
  maxRetentionDays: number;
  agents: Agent[];
  /** the database being edited; absent when adding one */
  editing?: Database | undefined;
};

export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

export function defaultValues(ctx: DatabaseFormContext): DatabaseFormValues {
  const agent = ctx.agents.find((a) => a.online) ?? ctx.agents[0];
  return {
    name: '',
    engine: 'postgres',
    host: 'localhost',
    port: String(DEFAULT_PORTS.postgres),
    database: '',
    user: '',
    credentialsMode: 'sealed',
    password: '',
    scheduleKind: 'daily',
    time: '02:00',
    timezone: browserTimeZone(),
    expression: '0 2 * * *',
    retentionDays: String(ctx.maxRetentionDays),
    agentId: agent?.id ?? '',
    sqlitePath: '',
    paths: '',
    include: '',
    exclude: '',
    redisTls: false,
  };
}

export function valuesFromDatabase(db: Database): DatabaseFormValues {
  return {
    name: db.name,
    engine: db.engine,
    host: db.host,
    port: String(db.port),
    database: db.database,
    user: db.user,
    credentialsMode: db.credentialsMode,
    password: '',
    scheduleKind: db.schedule.kind,
    time: db.schedule.kind === 'daily' ? db.schedule.time : '02:00',
    timezone: db.schedule.timezone,
    expression: db.schedule.kind === 'cron' ? db.schedule.expression : '0 2 * * *',
    retentionDays: String(db.retentionDays),
    agentId: db.agentId ?? '',
    sqlitePath: db.source?.kind === 'sqlite' ? db.source.path : '',
    paths: db.source?.kind === 'directory' ? db.source.paths.join('\n') : '',
    include: db.source?.kind === 'directory' ? db.source.include.join('\n') : '',
    exclude: db.source?.kind === 'directory' ? db.source.exclude.join('\n') : '',
    redisTls: db.source?.kind === 'redis' ? db.source.tls : false,
  };
}

/** The port to show after the engine changes: the new default, unless the user typed their own. */
export function portAfterEngineChange(current: string, from: Engine, to: Engine): string {
  if (!DEFAULT_PORTS[to]) return current;
  return current.trim() === '' || current.trim() === String(DEFAULT_PORTS[from]) || !DEFAULT_PORTS[from]
    ? String(DEFAULT_PORTS[to])
    : current;
}

const HOST = /^[A-Za-z0-9._:[\]-]+$/;
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

/** Does this form need a (new) password to be typed? */
export function passwordRequired(v: DatabaseFormValues, ctx: DatabaseFormContext): boolean {
  if (v.credentialsMode !== 'sealed') return false;
  const db = ctx.editing;
  if (!db) return true;
  // A sealed password opens only with the agent it was sealed to.
  return db.credentialsMode !== 'sealed' || db.agentId !== v.agentId;
}

function integerIn(text: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(text.trim())) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

/** Which fields an engine has: a SQL server's, Redis', a SQLite file's or directories'. */
export function engineKind(engine: Engine): 'server' | 'redis' | 'sqlite' | 'directory' {
  return engine === 'redis' || engine === 'sqlite' || engine === 'directory' ? engine : 'server';
}

/** Lines of a textarea, trimmed, empty ones dropped. */
export function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

function absolutePath(path: string): Problem | undefined {
  return path.trim().startsWith('/') ? undefined : { key: 'validation.absolutePath' };
}

export function sourceOf(v: DatabaseFormValues): SourceSettings | undefined {
  switch (v.engine) {
    case 'sqlite':
      return { kind: 'sqlite', path: v.sqlitePath.trim() };
    case 'redis':
      return { kind: 'redis', tls: v.redisTls };
    case 'directory':
      return {
        kind: 'directory',
        paths: lines(v.paths),
        include: lines(v.include),
        exclude: lines(v.exclude),
      };
    default:
      return undefined;
  }
}

export function validateDatabaseForm(v: DatabaseFormValues, ctx: DatabaseFormContext): DatabaseFormProblems {
  const p: DatabaseFormProblems = {};
  const required = (value: string): Problem | undefined =>
    value.trim() ? undefined : { key: 'validation.required' };

  p.name =
    required(v.name) ??
    (v.name.trim().length > 100 ? { key: 'validation.tooLong', params: { max: 100 } } : undefined);
  if (!ctx.editing && !(v.engine in DEFAULT_PORTS)) p.engine = { key: 'validation.engine' };
  const kind = engineKind(v.engine);
  if (kind === 'server' || kind === 'redis') {
    p.host =
      required(v.host) ??
      (v.host.trim().length > 253 || !HOST.test(v.host.trim()) ? { key: 'validation.host' } : undefined);
    p.port =
      required(v.port) ??
      (integerIn(v.port, 1, 65535) === undefined ? { key: 'validation.port' } : undefined);
  }
  if (kind === 'server') {
    p.database =
      required(v.database) ??
      (v.database.length > 63
        ? { key: 'validation.tooLong', params: { max: 63 } }
        : /[\0/\\]/.test(v.database)
          ? { key: 'validation.forbiddenChars' }
          : undefined);
    p.user =
      required(v.user) ??
      (v.user.length > 63 ? { key: 'validation.tooLong', params: { max: 63 } } : undefined);
  }
  if (kind === 'redis' && v.user.length > 63) p.user = { key: 'validation.tooLong', params: { max: 63 } };
  if (kind === 'sqlite') p.sqlitePath = required(v.sqlitePath) ?? absolutePath(v.sqlitePath);
  if (kind === 'directory') {
    const list = lines(v.paths);
    p.paths = list.length === 0 ? { key: 'validation.required' } : list.map(absolutePath).find(Boolean);
  }
  if (passwordRequired(v, ctx) && !v.password) p.password = { key: 'validation.passwordForAgent' };
  else if (v.password.length > 1000) p.password = { key: 'validation.tooLong', params: { max: 1000 } };

  if (!isValidTimeZone(v.timezone) || !v.timezone) p.timezone = { key: 'validation.timezone' };
  if (v.scheduleKind === 'daily') {
    if (!TIME.test(v.time)) p.time = { key: 'validation.time' };
  } else if (!isValidCron(v.expression.trim(), p.timezone ? 'UTC' : v.timezone)) {
    p.expression = { key: 'validation.cron' };
  }
  if (integerIn(v.retentionDays, 1, ctx.maxRetentionDays) === undefined) {
    p.retentionDays = { key: 'validation.retention', params: { max: ctx.maxRetentionDays } };
  }
  if (!v.agentId) p.agentId = { key: 'validation.agent' };
  else if (!ctx.agents.some((a) => a.id === v.agentId)) p.agentId = { key: 'validation.agentUnknown' };

  for (const k of Object.keys(p) as DatabaseFormField[]) if (!p[k]) delete p[k];
  return p;
}

export function scheduleOf(v: DatabaseFormValues): Schedule {
  return v.scheduleKind === 'daily'
    ? { kind: 'daily', time: v.time, timezone: v.timezone }
    : { kind: 'cron', expression: v.expression.trim(), timezone: v.timezone };
}

/** The next `count` runs, or undefined while the schedule is incomplete or invalid. */
export function previewRuns(v: DatabaseFormValues, from: Date, count = 5): Date[] | undefined {
  if (!isValidTimeZone(v.timezone)) return undefined;
  if (v.scheduleKind === 'daily' ? !TIME.test(v.time) : !isValidCron(v.expression.trim(), v.timezone))
    return undefined;
  try {
    return nextRuns(scheduleOf(v), from, count);
  } catch {
    return undefined;
  }
}

async function credentialsOf(v: DatabaseFormValues, agent: Agent | undefined) {
  // SQLite files and directories have no password; Redis may have none (credentials "local").
  const kind = engineKind(v.engine);
  if (v.credentialsMode === 'local' || kind === 'sqlite' || kind === 'directory')
    return { mode: 'local' as const };
  if (!agent) throw new Error('no agent to seal the password to');
  // SECURITY: the plaintext password is sealed here to the agent's X25519 key; only the sealed
  // value is sent, so neither the control plane nor its database can read it.
  return { mode: 'sealed' as const, sealedPassword: await sealToAgent(agent.publicKey, v.password) };
}

/** host/port/database/user as the engine takes them (none for files, no database for Redis). */
function connectionOf(v: DatabaseFormValues) {
  const kind = engineKind(v.engine);
  if (kind === 'sqlite' || kind === 'directory') return {};
  return {
    host: v.host.trim(),
    port: Number(v.port),
    ...(kind === 'server' && { database: v.database }),
    ...(kind === 'server' ? { user: v.user } : v.user.trim() ? { user: v.user.trim() } : {}),
  };
}

export async function createBody(v: DatabaseFormValues, agents: Agent[]): Promise<CreateDatabaseBody> {
  const source = sourceOf(v);
  return {
    name: v.name.trim(),
    engine: v.engine,
    ...connectionOf(v),
    credentials: await credentialsOf(
      v,
      agents.find((a) => a.id === v.agentId),
    ),
    schedule: scheduleOf(v),
    retentionDays: Number(v.retentionDays),
    agentId: v.agentId,
    ...(source && { source }),
    // the fields follow the engine (connectionOf, sourceOf); the server checks the combination
  } as CreateDatabaseBody;
}

export async function updateBody(
  v: DatabaseFormValues,
  db: Database,
  agents: Agent[],
): Promise<UpdateDatabaseBody> {
  const source = sourceOf(v);
  const body: UpdateDatabaseBody = {
    name: v.name.trim(),
    ...connectionOf(v),
    schedule: scheduleOf(v),
    retentionDays: Number(v.retentionDays),
    ...(v.agentId !== db.agentId && { agentId: v.agentId }),
    ...(source && { source }),
  };
  // Credentials change only when the user typed a password or switched the mode.
  if (v.password || v.credentialsMode !== db.credentialsMode) {
    body.credentials = await credentialsOf(
      v,
      agents.find((a) => a.id === v.agentId),
    );
  }
  return body;
}

const SERVER_FIELD: Record<string, DatabaseFormField> = {
  name: 'name',
  engine: 'engine',
  host: 'host',
  port: 'port',
  database: 'database',
  user: 'user',
  'source.path': 'sqlitePath',
  'source.paths': 'paths',
  source: 'paths',
  credentials: 'password',
  'credentials.sealedPassword': 'password',
  'credentials.mode': 'credentialsMode',
  schedule: 'scheduleKind',
  'schedule.kind': 'scheduleKind',
  'schedule.time': 'time',
  'schedule.expression': 'expression',
  'schedule.timezone': 'timezone',
  retentionDays: 'retentionDays',
  agentId: 'agentId',
};

/** The server's per-field messages, keyed by the form's own fields. */
export function serverFieldErrors(
  fields: Record<string, string> | undefined,
): Partial<Record<DatabaseFormField, string>> {
  const out: Partial<Record<DatabaseFormField, string>> = {};
  for (const [path, message] of Object.entries(fields ?? {})) {
    const field = SERVER_FIELD[path];
    if (field && !out[field]) out[field] = message;
  }
  return out;
}
