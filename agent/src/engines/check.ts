// The connection check every engine runs when a database is added or edited: can a backup run?
// Steps in order: reach the server, log in, open the database (a failure there ends the check),
// then every privilege the dump needs and a dump tool that reads this server's version. Each step
// becomes one item with a code and parameters (see contract/src/checks.ts); the dashboard words
// them in the user's language and shows the server's own message as detail.
import type { CheckCode, CheckItem } from '@resistro/contract';
import { EngineError } from './engine.ts';

export type { CheckItem };

export type ConnectionCheckResult = {
  serverVersion?: string;
  toolVersion?: string;
  items: CheckItem[];
};

/** What an engine provides to the check; each call may reject with an EngineError. */
export type CheckProbe = {
  /** connects to the target database and returns the server's version string */
  connect(): Promise<string>;
  /** one item per privilege or object kind the dump needs */
  privileges(serverVersion: string): Promise<CheckItem[]>;
  /** the dump tool that would run for this server, or an EngineError (tool_missing/tool_too_old) */
  dumpTool(serverVersion: string): Promise<{ name: string; version: string }>;
};

const DETAIL_MAX = 2000;

/** The server's or tool's own words, for the detail line: stderr if any, else the message. */
export function detailOf(error: unknown): string {
  const text =
    error instanceof EngineError && error.stderr
      ? error.stderr
      : ((error as Error)?.message ?? String(error));
  const trimmed = text.trim();
  return trimmed.length > DETAIL_MAX ? `…${trimmed.slice(-DETAIL_MAX)}` : trimmed;
}

/** "… apt-get install -y postgresql-client-17 (from …)" → "apt-get install -y postgresql-client-17" */
export function installCommand(hint: string): string | undefined {
  return /apt-get install -y [\w.+-]+/.exec(hint)?.[0];
}

const passed = (...steps: CheckItem['step'][]): CheckItem[] => steps.map((step) => ({ step, ok: true }));

function failed(
  step: CheckItem['step'],
  code: CheckCode,
  params: Record<string, string>,
  error: unknown,
): CheckItem {
  return { step, ok: false, code, params, detail: detailOf(error) };
}

/**
 * Which step a failure to connect belongs to, and what it means. The engines' own readings of the
 * client's stderr (explainPostgres/explainMysql) already chose the EngineError code.
 */
export function connectFailure(
  t: { host: string; port: number; user: string; database: string },
  error: unknown,
): CheckItem[] {
  const where = { host: t.host, port: String(t.port) };
  if (!(error instanceof EngineError)) {
    return [failed('connection', 'check_failed', {}, error)];
  }
  const text = `${error.message}\n${error.stderr ?? ''}`;
  switch (error.code) {
    case 'tool_missing':
      return [
        failed(
          'connection',
          'tool_missing',
          {
            tool: /could not start (\S+)/.exec(error.message)?.[1] ?? error.message.split(' ')[0] ?? '',
            install: installCommand(error.hint) ?? '',
          },
          error,
        ),
      ];
    case 'connection_failed':
      return [
        failed(
          'connection',
          /does not speak|protocol|SSL negotiation|expected authentication/.test(text)
            ? 'wrong_protocol'
            : 'unreachable',
          where,
          error,
        ),
      ];
    case 'auth_failed':
      return [
        ...passed('connection'),
        failed(
          'authentication',
          /pg_hba\.conf/.test(text) ? 'host_not_allowed' : 'auth_failed',
          { user: t.user },
          error,
        ),
      ];
    case 'database_missing':
      return [
        ...passed('connection', 'authentication'),
        failed('database', 'database_missing', { database: t.database }, error),
      ];
    case 'permission_denied':
      return [
        ...passed('connection', 'authentication'),
        failed('database', 'database_denied', { database: t.database, user: t.user }, error),
      ];
    default:
      return [failed('connection', 'check_failed', {}, error)];
  }
}

/** Runs the steps; never throws: every failure is an item of the result. */
export async function runConnectionCheck(
  t: { host: string; port: number; user: string; database: string },
  probe: CheckProbe,
): Promise<ConnectionCheckResult> {
  let serverVersion: string;
  try {
    serverVersion = await probe.connect();
  } catch (error) {
    return { items: connectFailure(t, error) };
  }
  const items = passed('connection', 'authentication', 'database');
  try {
    items.push(...(await probe.privileges(serverVersion)));
  } catch (error) {
    items.push(failed('privilege', 'check_failed', {}, error));
  }
  let toolVersion: string | undefined;
  try {
    const tool = await probe.dumpTool(serverVersion);
    toolVersion = tool.version;
    items.push({
      step: 'version',
      subject: tool.name,
      ok: true,
      params: { tool: tool.name, toolVersion: tool.version, serverVersion },
    });
  } catch (error) {
    if (error instanceof EngineError && (error.code === 'tool_too_old' || error.code === 'tool_missing')) {
      items.push({
        step: 'version',
        ok: false,
        code: error.code,
        params: {
          tool: /pg_dump|mysqldump|mariadb-dump/.exec(error.message)?.[0] ?? '',
          toolVersion: /found: ([^)]*)/.exec(error.message)?.[1] ?? '',
          serverVersion,
          install: installCommand(error.hint) ?? '',
        },
        detail: error.message,
      });
    } else {
      items.push(failed('version', 'check_failed', {}, error));
    }
  }
  return { serverVersion, ...(toolVersion !== undefined && { toolVersion }), items };
}
