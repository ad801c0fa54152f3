// Redis: a consistent RDB snapshot taken the way a replica takes it (`redis-cli --rdb`: the server
// forks, writes the snapshot and sends it; works over the network, with a password and TLS), plus
// the AOF folder when the server persists with it and runs on this machine. The dump is a tar of
// resistro-redis.json (what was taken), dump.rdb and appendonlydir/. Restore writes those files into
// a folder and says how to start Redis on them: Redis loads files only at start.
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { runConnectionCheck } from './check.ts';
import {
  type DatabaseTarget,
  type DumpProcess,
  type Engine,
  EngineError,
  type EngineOptions,
  type RestoreOptions,
  type RestoreReport,
  type ToolInfo,
} from './engine.ts';
import { noServerDatabases, privateTempDir, toolDump } from './file-dump.ts';
import { defaultSpawn, type Explanation, feedStdin, runTool, type SpawnFn } from './process.ts';
import { findTar, tarCreate, tarExtract } from './tar.ts';
import { describeTools, findExecutables, nodeToolHost, type ToolHost } from './tools.ts';

export const REDIS_MANIFEST = 'resistro-redis.json';
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export type RedisManifest = {
  redisVersion: string;
  host: string;
  port: number;
  /** appendonly was on when the snapshot was taken */
  appendonly: boolean;
  /** the AOF folder is in the archive (only when the server runs on the agent's machine) */
  aofIncluded: boolean;
  aofDirName: string | null;
  takenAt: string;
};

export function explainRedis(t: DatabaseTarget, text: string): Explanation | undefined {
  const where = `${t.host}:${t.port}`;
  if (/Could not connect|Connection refused|Name or service not known|timed out|No route/i.test(text))
    return {
      code: 'connection_failed',
      summary: `cannot reach Redis at ${where}`,
      hint: 'Check host and port, and that Redis listens there (bind/protected-mode in redis.conf).',
    };
  if (/NOAUTH|WRONGPASS|AUTH failed|invalid password|invalid username-password/i.test(text))
    return {
      code: 'auth_failed',
      summary: `Redis at ${where} refused the password${t.user ? ` of user "${t.user}"` : ''}`,
      hint: 'Enter the password (requirepass, or the ACL user’s) again in the dashboard.',
    };
  if (/NOPERM/i.test(text))
    return {
      code: 'permission_denied',
      summary: `the Redis user${t.user ? ` "${t.user}"` : ''} may not run what a snapshot needs`,
      hint: 'Allow it the snapshot commands, e.g. ACL SETUSER <user> +sync +psync +info +config|get +ping.',
    };
  if (/SSL|TLS|certificate|wrong version number/i.test(text))
    return {
      code: 'connection_failed',
      summary: `the TLS connection to ${where} failed`,
      hint: 'Turn TLS on or off to match the server (tls-port), and check its certificate.',
    };
  return undefined;
}

export function createRedisEngine(opts: EngineOptions = {}): Engine {
  const spawn: SpawnFn = opts.spawn ?? defaultSpawn;
  const host: ToolHost = opts.toolHost ?? nodeToolHost(spawn);

  async function detectTools(): Promise<ToolInfo[]> {
    return describeTools(
      host,
      'redis-cli',
      findExecutables(host, 'redis-cli'),
      (o) => /redis-cli (\d+\.\d+(\.\d+)?)/.exec(o)?.[1],
    );
  }
  async function redisCli(): Promise<ToolInfo> {
    const [tool] = await detectTools();
    if (!tool)
      throw new EngineError(
        'tool_missing',
        'could not start redis-cli: it is not installed',
        'Install the Redis client: apt-get install -y redis-tools',
      );
    return tool;
  }
  function baseArgs(t: DatabaseTarget): string[] {
    const tls = t.source?.kind === 'redis' && t.source.tls;
    return [
      '-h',
      t.host,
      '-p',
      String(t.port),
      ...(t.user && t.user !== 'default' ? ['--user', t.user] : []),
      ...(tls ? ['--tls'] : []),
      '--no-auth-warning',
    ];
  }
  /** SECURITY: the password goes through REDISCLI_AUTH, never argv (ps shows argv to every user). */
  function env(t: DatabaseTarget): Record<string, string> {
    return t.password !== undefined ? { REDISCLI_AUTH: t.password } : {};
  }
  async function command(t: DatabaseTarget, ...args: string[]): Promise<string> {
    const tool = await redisCli();
    const out = await runTool({
      tool: 'redis-cli',
      path: tool.path,
      args: [...baseArgs(t), ...args],
      env: env(t),
      errorLine: /^(Could not connect|Error:)/,
      explain: (stderr) => explainRedis(t, stderr),
      spawn,
    });
    // redis-cli exits 0 on a server error reply and prints it on stdout
    if (/^(ERR|NOAUTH|WRONGPASS|NOPERM|WRONGTYPE)\b/m.test(out) && !/^# /m.test(out)) {
      const e = explainRedis(t, out);
      throw new EngineError(
        e?.code ?? 'tool_failed',
        `redis-cli ${args[0]}: ${e?.summary ?? out.trim()}`,
        e?.hint ?? 'Read the server reply above.',
        { stderr: out.trim() },
      );
    }
    return out;
  }
  async function version(t: DatabaseTarget): Promise<string> {
    const info = await command(t, 'INFO', 'server');
    const v = /^redis_version:(\S+)/m.exec(info)?.[1];
    if (!v)
      throw new EngineError(
        'connection_failed',
        `${t.host}:${t.port} did not answer like Redis`,
        'Check host and port.',
        { stderr: info.slice(0, 500) },
      );
    return v;
  }
  async function configGet(t: DatabaseTarget, name: string): Promise<string | undefined> {
    try {
      const lines = (await command(t, 'CONFIG', 'GET', name)).split('\n');
      return lines[0] === name ? lines[1]?.trim() : undefined;
    } catch {
      return undefined; // CONFIG may be renamed or not allowed to this user
    }
  }

  return {
    name: 'redis',
    ...noServerDatabases('Redis'),
    detectTools,
    serverVersion: version,
    async dump(t): Promise<DumpProcess> {
      const redisVersion = await version(t);
      const tool = await redisCli();
      const tar = await findTar(host);
      const temp = await privateTempDir('redis');
      const notes: string[] = [];
      try {
        const rdb = join(temp.dir, 'dump.rdb');
        await runTool({
          tool: 'redis-cli',
          path: tool.path,
          args: [...baseArgs(t), '--rdb', rdb],
          env: env(t),
          errorLine: /^(Could not connect|Error|SYNC with master failed|I\/O error)/,
          explain: (stderr) => explainRedis(t, stderr),
          spawn,
          isDump: true,
        });
        const head = (await readFile(rdb)).subarray(0, 5).toString('latin1');
        if (head !== 'REDIS')
          throw new EngineError(
            'integrity_failed',
            'the snapshot Redis sent is not an RDB file',
            'Run "redis-cli --rdb /tmp/x.rdb" by hand to see what the server sends.',
          );
        const appendonly = (await configGet(t, 'appendonly')) === 'yes';
        const dir = appendonly ? await configGet(t, 'dir') : undefined;
        const aofDirName = appendonly ? ((await configGet(t, 'appenddirname')) ?? 'appendonlydir') : null;
        let aofIncluded = false;
        if (appendonly) {
          const local = LOCAL_HOSTS.has(t.host);
          const aofPath = dir && aofDirName ? join(dir, aofDirName) : undefined;
          if (local && aofPath && (await stat(aofPath).catch(() => undefined))?.isDirectory())
            aofIncluded = true;
          else
            notes.push(
              local
                ? `appendonly is on, but the AOF folder ${aofPath ?? '(CONFIG GET dir refused)'} cannot be read: only the RDB snapshot is in this backup`
                : `appendonly is on, but Redis runs on ${t.host}, not on this machine: only the RDB snapshot is in this backup`,
            );
        }
        const manifest: RedisManifest = {
          redisVersion,
          host: t.host,
          port: t.port,
          appendonly,
          aofIncluded,
          aofDirName,
          takenAt: new Date().toISOString(),
        };
        await writeFile(join(temp.dir, REDIS_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
        const running = tarCreate(
          tar,
          [
            `--directory=${temp.dir}`,
            REDIS_MANIFEST,
            'dump.rdb',
            ...(aofIncluded ? [`--directory=${dir}`, aofDirName!] : []),
          ],
          spawn,
        );
        running.stdin?.end();
        return toolDump(running, temp.remove, notes);
      } catch (error) {
        await temp.remove();
        throw error;
      }
    },
    async isEmpty(t) {
      return (await readdir(t.database).catch(() => [])).length === 0;
    },
    async restore(_t, input: Readable, o: RestoreOptions = {}): Promise<RestoreReport> {
      const dir = o.targetDir;
      if (!dir)
        throw new EngineError(
          'database_missing',
          'a Redis backup is restored into a folder',
          'Pass --target-dir <folder>; Redis loads the files from there when it starts.',
        );
      await mkdir(dir, { recursive: true });
      const present = (await readdir(dir)).filter(
        (n) => n === 'dump.rdb' || n === REDIS_MANIFEST || n.startsWith('appendonly'),
      );
      if (present.length > 0 && !o.replace)
        throw new EngineError(
          'target_not_empty',
          `${dir} already holds ${present.join(', ')}; refusing to overwrite`,
          'Choose an empty folder, or add --replace.',
        );
      const tar = await findTar(host);
      const running = tarExtract(tar, dir, [], spawn);
      running.stdout.resume();
      await feedStdin(running, input).catch((e) => {
        throw new EngineError(
          'input_failed',
          `reading the backup failed: ${(e as Error).message}`,
          'The restore was stopped; check the backup file.',
          { cause: e },
        );
      });
      await running.done;
      const manifest = JSON.parse(await readFile(join(dir, REDIS_MANIFEST), 'utf8')) as RedisManifest;
      return { notes: redisRestartNotes(dir, manifest) };
    },
    async checkConnection(t) {
      return runConnectionCheck(
        { host: t.host, port: t.port, user: t.user || 'default', database: '' },
        {
          connect: () => version(t),
          privileges: async () => {
            // the snapshot runs SYNC as a replica would; a user without it would fail at 3 a.m.
            const acl = await command(t, 'ACL', 'DRYRUN', t.user || 'default', 'SYNC').catch(() => 'OK');
            return /^OK/m.test(acl) || /unknown subcommand|ERR/i.test(acl)
              ? []
              : [
                  {
                    step: 'privilege',
                    subject: 'SYNC',
                    ok: false,
                    code: 'privilege_missing',
                    params: { privilege: 'SYNC', grant: `ACL SETUSER ${t.user || 'default'} +sync +psync` },
                    detail: acl.trim(),
                  },
                ];
          },
          dumpTool: async () => {
            const tool = await redisCli();
            return { name: 'redis-cli', version: tool.version };
          },
        },
      );
    },
  };
}

/** What to do with the restored files: Redis reads them only when it starts. */
export function redisRestartNotes(dir: string, m: RedisManifest): string[] {
  const notes = [
    `Wrote dump.rdb${m.aofIncluded ? ` and ${m.aofDirName}/` : ''} (Redis ${m.redisVersion}, taken ${m.takenAt}) to ${dir}.`,
  ];
  notes.push(
    'To load them: stop Redis (systemctl stop redis-server); copy the files into its "dir" (redis-cli CONFIG GET dir; on Debian /var/lib/redis) and give them to its user (chown redis:redis); start Redis again (systemctl start redis-server).',
  );
  if (m.aofIncluded)
    notes.push(
      `appendonly was on: copy ${m.aofDirName}/ too. With appendonly yes Redis loads the AOF and ignores dump.rdb.`,
    );
  else if (m.appendonly)
    notes.push(
      'appendonly was on but the AOF is not in this backup: start Redis once with "appendonly no" so it loads dump.rdb, then run "redis-cli CONFIG SET appendonly yes" (it writes a new AOF) and set appendonly yes again in redis.conf.',
    );
  return notes;
}
