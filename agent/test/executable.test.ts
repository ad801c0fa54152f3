// The agent as a customer installs it on a stock server: a Debian 12 root filesystem without
// Node.js (scripts/test/rootfs.ts), the one-line install served by the control plane, the env file
// it writes, then a backup through the control plane and the S3 server and a restore into a fresh
// database, which dumps to the same SQL. All by the executable the worker hands out at /downloads.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { publishAgentDownloads } from '../../scripts/publish-agent.ts';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import { stackInfo } from '../../scripts/test/api.ts';
import { ensureRootfs, overlayRootfs, type Rootfs } from '../../scripts/test/rootfs.ts';
import { objectUrl, s3Client } from '../../worker/src/storage/s3-common.ts';
import { buildExecutables } from '../sea/build.ts';
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
} from './helpers.ts';
import { postgresSeed } from './seeds.ts';

const ARCH = process.arch === 'arm64' ? 'arm64' : 'x64';

describe('the executable on a server without Node.js', () => {
  const work = testDir('exe');
  let rootfs: Rootfs;
  let pgServer: CustomerPostgres;
  let tenant: Tenant;
  let sourceDump: string;
  let sha256: string;

  beforeAll(async () => {
    // building the root filesystem the first time on a machine downloads Debian's packages
    const lower = ensureRootfs();
    rootfs = overlayRootfs(lower, join(work.dir, 'rootfs'));
    const dist = join(work.dir, 'dist');
    await buildExecutables([ARCH], dist);
    sha256 = readFileSync(join(dist, `resistro-linux-${ARCH}.sha256`), 'utf8').split(' ')[0]!;
    const { s3Url, bucket } = stackInfo();
    await publishAgentDownloads(
      {
        endpoint: s3Url,
        bucket,
        region: 'us-east-1',
        accessKeyId: S3_ACCESS_KEY_ID,
        secretAccessKey: S3_SECRET_ACCESS_KEY,
        pathStyle: true,
      },
      dist,
    );
    pgServer = await startCustomerPostgres('pg-exe');
    await pgServer.createDatabase('shop');
    await pgServer.asOwner(postgresSeed(), 'shop');
    sourceDump = await pgServer.dump('shop');
    tenant = await createTenant();
  }, 900_000);

  afterAll(async () => {
    await pgServer?.stop();
    work.remove();
  });

  test('the root filesystem is a server without Node.js but with the dump tools', () => {
    const r = rootfs.run(
      'for c in node nodejs npm pg_dump mariadb-dump curl; do command -v $c || true; done',
    );
    expect(r.stdout.trim().split('\n')).toEqual([
      '/usr/bin/pg_dump',
      '/usr/bin/mariadb-dump',
      '/usr/bin/curl',
    ]);
  });

  test('/downloads hands out the published executable and its checksum, nothing else', async () => {
    const { url } = stackInfo();
    const sum = await fetch(`${url}/downloads/resistro-linux-${ARCH}.sha256`);
    expect(sum.status).toBe(200);
    expect(await sum.text()).toBe(`${sha256}  resistro-linux-${ARCH}\n`);
    const head = await fetch(`${url}/downloads/resistro-linux-${ARCH}`, { redirect: 'manual' });
    expect(head.status).toBe(302);
    // a short-lived presigned URL on the storage: the bytes never pass through the worker
    expect(head.headers.get('location')).toMatch(/X-Amz-Signature=/);
    for (const name of ['resistro.mjs', '..%2Fbackups', 'resistro-linux-riscv64']) {
      const r = await fetch(`${url}/downloads/${name}`, { redirect: 'manual' });
      expect(r.status, name).toBe(404);
    }
  });

  test('one-line install, then a backup and a restore that match the source', async () => {
    const { url } = stackInfo();
    // as the user guide says: curl …/install-agent.sh | sudo sh (root here), with the API key
    const install = rootfs.run(`curl -fsSL ${url}/install-agent.sh | sh`, {
      RESISTRO_API_KEY: tenant.apiKey,
    });
    expect(install.status, install.stderr).toBe(0);
    expect(install.stderr).toMatch(
      /installed \/usr\/local\/bin\/resistro \(resistro \d+\.\d+\.\d+ \([\w-]+\)\)/,
    );
    // no systemd in a chroot: the files are there and it says how to start the agent
    expect(install.stdout).toMatch(/start the agent with `resistro agent`/);
    const env = readFileSync(join(rootfs.upper, 'etc/resistro-agent/env'), 'utf8');
    expect(env).toContain(`RESISTRO_ENDPOINT=${url}/api`);
    expect(env).toMatch(/^RESISTRO_ENCRYPTION_KEY=resistro-key-1:/m);

    // the first heartbeat registers the agent
    const status = rootfs.run('resistro status --json');
    expect(status.status, status.stderr + status.stdout).toBe(0);
    const identity = JSON.parse(
      readFileSync(join(rootfs.upper, 'var/lib/resistro-agent/identity.json'), 'utf8'),
    );
    const agents = await tenant.session.json<{ items: { id: string; publicKey: string; version: string }[] }>(
      '/agents',
    );
    const agent = agents.body.items.find((a) => a.publicKey === identity.publicKey);
    expect(agent).toBeDefined();

    await addDatabase(tenant, agent!, {
      name: 'shop',
      engine: 'postgres',
      port: pgServer.port,
      database: 'shop',
      user: pgServer.user,
      password: pgServer.password,
    });
    const backup = rootfs.run('resistro backup --database shop');
    expect(backup.status, backup.stderr).toBe(0);
    expect(backup.stderr + backup.stdout).toContain('backup.succeeded');
    const databases = await tenant.session.json<{ items: { id: string; name: string }[] }>('/databases');
    const db = databases.body.items.find((d) => d.name === 'shop')!;
    const [stored] = await listBackups(tenant, db.id);
    expect(stored).toMatchObject({ status: 'succeeded' });

    await pgServer.createDatabase('shop_restored');
    const args = restoreArgs({ backup: stored!.id }, pgServer, 'shop_restored')
      .map((a) => `'${a.replaceAll("'", "'\\''")}'`)
      .join(' ');
    const restore = rootfs.run(`resistro ${args}`, { PGPASSWORD: pgServer.password });
    expect(restore.status, restore.stderr).toBe(0);
    expect(firstDifference(await pgServer.dump('shop_restored'), sourceDump)).toBeUndefined();
  });

  test('resistro update replaces the executable from the service; a bad download leaves it working', async () => {
    const exe = join(rootfs.upper, 'usr/local/bin/resistro');
    const before = statSync(exe).ino;
    const update = rootfs.run('resistro update');
    expect(update.status, update.stderr).toBe(0);
    expect(update.stderr).toMatch(/installed \/usr\/local\/bin\/resistro/);
    // a new file renamed into place: a running agent keeps the file it started from
    expect(statSync(exe).ino).not.toBe(before);

    // the service now hands out a checksum that does not match: nothing is replaced
    const { s3Url, bucket } = stackInfo();
    const storage = {
      endpoint: s3Url,
      bucket,
      region: 'us-east-1',
      accessKeyId: S3_ACCESS_KEY_ID,
      secretAccessKey: S3_SECRET_ACCESS_KEY,
      pathStyle: true,
    };
    const s3 = s3Client(storage);
    const key = objectUrl(storage, `downloads/resistro-linux-${ARCH}.sha256`);
    const put = await s3.fetch(key, { method: 'PUT', body: `${'0'.repeat(64)}  resistro-linux-${ARCH}\n` });
    expect(put.ok).toBe(true);
    try {
      const current = statSync(exe).ino;
      const bad = rootfs.run('resistro update');
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/does not match its SHA-256/);
      expect(bad.stderr).toMatch(/the update failed; the installed agent was left as it was/);
      expect(statSync(exe).ino).toBe(current);
      expect(rootfs.run('resistro --version').status).toBe(0);
    } finally {
      await s3.fetch(key, { method: 'PUT', body: `${sha256}  resistro-linux-${ARCH}\n` });
    }
  });
});
