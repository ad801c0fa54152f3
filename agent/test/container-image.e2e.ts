// The agent's container image as a customer runs it (`npm run test:container`, not in `npm test`:
// building the image takes one to two minutes). Builds the image with podman from the local Debian
// 12 base, then runs it against the local stack and a customer PostgreSQL: `status` registers the
// agent, the default command (`resistro agent`) runs a "back up now" from the dashboard with its
// state on a volume, stops cleanly on SIGTERM, and `restore` from the same image writes a database
// that dumps to the same SQL. Prints the peak memory of the container's processes during the backup
// (the Kubernetes manifests' requests and limits are set from it).
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stackInfo } from '../../scripts/test/api.ts';
import { buildImage, containerEngine } from '../container/build.ts';
import {
  addDatabase,
  type CustomerPostgres,
  createTenant,
  firstDifference,
  listBackups,
  restoreArgs,
  startCustomerPostgres,
  type Tenant,
  testDir,
  waitForBackups,
} from './helpers.ts';
import { postgresSeed } from './seeds.ts';

const UID = 10001;
const TAG = `localhost/resistro-agent:test-${process.pid}`;
const engine = containerEngine();
const podman = (args: string[], input?: string) =>
  spawnSync(engine.cmd, [...engine.global, ...args], { encoding: 'utf8', input, maxBuffer: 64 << 20 });

/** Resident memory of the container user's processes (uid 10001 on this host: only the container's). */
function containerRss(): { total: number; byName: Map<string, number> } {
  const byName = new Map<string, number>();
  let total = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) !== UID) continue;
    const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    const name = /^Name:\s+(\S+)/m.exec(status)?.[1] ?? '?';
    total += kb * 1024;
    byName.set(name, Math.max(byName.get(name) ?? 0, kb * 1024));
  }
  return { total, byName };
}

describe('the agent container image', () => {
  const work = testDir('container');
  const state = join(work.dir, 'state');
  const envFile = join(work.dir, 'env');
  let pgServer: CustomerPostgres;
  let tenant: Tenant;
  let sourceDump: string;
  let agent: { id: string; publicKey: string };
  const run = (args: string[]) =>
    podman([
      'run',
      '--rm',
      ...engine.run,
      '--env-file',
      envFile,
      '-v',
      `${state}:/var/lib/resistro-agent`,
      TAG,
      ...args,
    ]);

  beforeAll(async () => {
    await buildImage({ tag: TAG });
    pgServer = await startCustomerPostgres('pg-container');
    await pgServer.createDatabase('shop');
    await pgServer.asOwner(postgresSeed(), 'shop');
    // enough data (about 90 MB of SQL) for the memory of a backup to show
    await pgServer.asOwner(
      "create table bulk (id int primary key, body text); insert into bulk select g, md5(g::text) || repeat('x', 250) from generate_series(1, 300000) g",
      'shop',
    );
    sourceDump = await pgServer.dump('shop');
    tenant = await createTenant();
    // the volume: owned by the image's user, as a Kubernetes fsGroup or a Docker volume makes it
    mkdirSync(state, { recursive: true });
    chownSync(state, UID, UID);
    chmodSync(state, 0o700);
    const key = podman(['run', '--rm', ...engine.run, TAG, 'keygen']);
    expect(key.status, key.stderr).toBe(0);
    // SECURITY: the secrets go in through a file (--env-file), never on podman's command line
    writeFileSync(
      envFile,
      [
        `RESISTRO_API_KEY=${tenant.apiKey}`,
        `RESISTRO_ENDPOINT=${stackInfo().url}/api`,
        `RESISTRO_ENCRYPTION_KEY=${key.stdout.trim()}`,
        `PGPASSWORD=${pgServer.password}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  }, 900_000);

  afterAll(async () => {
    podman(['rm', '-f', '-t', '0', `resistro-agent-${process.pid}`]);
    podman(['rmi', '-f', TAG]);
    await pgServer?.stop();
    work.remove();
  });

  test('runs `resistro agent` as a non-root user, its state on a volume, with the dump tools and no Node.js', () => {
    const inspect = podman(['image', 'inspect', TAG]);
    expect(inspect.status, inspect.stderr).toBe(0);
    const [image] = JSON.parse(inspect.stdout) as {
      Config: { User: string; Entrypoint: string[]; Cmd: string[]; Env: string[]; Volumes: object };
    }[];
    expect(image!.Config.User).toBe(`${UID}:${UID}`);
    expect([...image!.Config.Entrypoint, ...image!.Config.Cmd]).toEqual(['/usr/local/bin/resistro', 'agent']);
    expect(image!.Config.Env).toContain('RESISTRO_STATE_DIR=/var/lib/resistro-agent');
    expect(Object.keys(image!.Config.Volumes)).toEqual(['/var/lib/resistro-agent']);
    const inside = podman([
      'run',
      '--rm',
      ...engine.run,
      '--entrypoint',
      'sh',
      TAG,
      '-c',
      'id -u; for c in node nodejs npm pg_dump mariadb-dump mysqldump zstd resistro; do command -v $c || true; done',
    ]);
    expect(inside.stdout.trim().split('\n')).toEqual([
      String(UID),
      '/usr/bin/pg_dump',
      '/usr/bin/mariadb-dump',
      '/usr/bin/mysqldump',
      '/usr/bin/zstd',
      '/usr/local/bin/resistro',
    ]);
  });

  test('`status` in the container registers the agent and finds pg_dump per major version', async () => {
    const status = run(['status', '--json']);
    expect(status.status, status.stderr + status.stdout).toBe(0);
    const report = JSON.parse(status.stdout) as {
      stateDir: string;
      tools: { name: string; path: string }[];
      controlPlane: { reachable: boolean; agentId: string };
    };
    expect(report.stateDir).toBe('/var/lib/resistro-agent');
    expect(report.controlPlane.reachable).toBe(true);
    // the versioned directory the agent selects by the server's major, not Debian's wrapper
    expect(report.tools.find((t) => t.name === 'pg_dump')?.path).toMatch(
      /^\/usr\/lib\/postgresql\/\d+\/bin\/pg_dump$/,
    );
    // the identity lives on the volume: the next container is the same agent
    const identity = JSON.parse(readFileSync(join(state, 'identity.json'), 'utf8')) as { publicKey: string };
    const agents = await tenant.session.json<{ items: { id: string; publicKey: string }[] }>('/agents');
    agent = agents.body.items.find((a) => a.publicKey === identity.publicKey)!;
    expect(agent.id).toBe(report.controlPlane.agentId);
  });

  test('the default command backs up on "back up now", stops cleanly, and the image restores it', async () => {
    const db = await addDatabase(tenant, agent, {
      name: 'shop',
      engine: 'postgres',
      port: pgServer.port,
      database: 'shop',
      user: pgServer.user,
      password: pgServer.password,
    });
    const name = `resistro-agent-${process.pid}`;
    const started = podman([
      'run',
      '-d',
      '--name',
      name,
      ...engine.run,
      '--env-file',
      envFile,
      '-v',
      `${state}:/var/lib/resistro-agent`,
      TAG,
      'agent',
      '--heartbeat-interval',
      '1',
    ]);
    expect(started.status, started.stderr).toBe(0);
    let peak = 0;
    let peakByName = new Map<string, number>();
    const sampler = setInterval(() => {
      const rss = containerRss();
      if (rss.total > peak) {
        peak = rss.total;
        peakByName = rss.byName;
      }
    }, 50);
    try {
      const requested = await tenant.session.json(`/databases/${db.id}/backup-now`, { method: 'POST' });
      expect(requested.status).toBe(202);
      await waitForBackups(tenant, db.id, (b) => b.some((x) => x.status === 'succeeded'), 180_000);
    } finally {
      clearInterval(sampler);
    }
    const [backup] = await listBackups(tenant, db.id);
    expect(backup).toMatchObject({ status: 'succeeded', trigger: 'manual', agentId: agent.id });
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
    console.log(
      `container peak RSS during the backup: ${mb(peak)} (${[...peakByName].map(([n, b]) => `${n} ${mb(b)}`).join(', ')}); backup ${mb(backup!.sizeBytes ?? 0)} stored`,
    );

    // the liveness probe of the Kubernetes manifest, next to the running agent
    const probe = podman(['exec', name, '/usr/local/bin/resistro', 'status']);
    expect(probe.status, probe.stderr + probe.stdout).toBe(0);
    expect(probe.stdout).toMatch(/control plane:\s+reachable/i);

    // SIGTERM (podman stop): the agent takes no new work and exits 0 before the grace period ends
    const stop = podman(['stop', '-t', '60', name]);
    expect(stop.status, stop.stderr).toBe(0);
    const exit = podman(['inspect', '-f', '{{.State.ExitCode}}', name]);
    expect(exit.stdout.trim()).toBe('0');
    const logs = podman(['logs', name]);
    const events = (logs.stderr + logs.stdout)
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => (JSON.parse(l) as { event: string }).event);
    expect(events).toContain('backup.succeeded');
    expect(events.at(-1)).toBe('agent.stopped');
    podman(['rm', name]);

    await pgServer.createDatabase('shop_restored');
    const restore = run(restoreArgs({ backup: backup!.id }, pgServer, 'shop_restored'));
    expect(restore.status, restore.stderr).toBe(0);
    expect(firstDifference(await pgServer.dump('shop_restored'), sourceDump)).toBeUndefined();
  });
});
