// The container image's recipe, the Kubernetes manifests and the Compose example, checked without
// building anything (the image's round trip runs in `npm run test:container`,
// agent/test/container-image.e2e.ts): the image runs `resistro agent` as a non-root user with its
// state on a volume and no secrets baked in; the manifests parse, and the names, paths, user and
// probe in them agree with each other and with the image.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CONFIG_KEYS } from '../src/config.ts';
import { ROOT } from './helpers.ts';

const DIR = join(ROOT, 'agent/container');
const containerfile = readFileSync(join(DIR, 'Containerfile'), 'utf8');
/** The Containerfile's instructions, continuation lines joined, comments dropped. */
const instructions = containerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const [op = '', ...rest] = l.split(/\s+/);
    return { op: op.toUpperCase(), arg: rest.join(' ') };
  });
const last = (op: string) => instructions.filter((i) => i.op === op).at(-1)?.arg;
const STATE_DIR = /RESISTRO_STATE_DIR=(\S+)/.exec(last('ENV') ?? '')?.[1];

type Doc = any;
function yamlFile(path: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'));
  for (const d of docs) expect(d.errors, path).toEqual([]);
  return docs.map((d) => d.toJS());
}

/** "256Mi" → bytes */
function quantity(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|K|M|G)?$/.exec(q);
  if (!m) throw new Error(`not a quantity: ${q}`);
  const f = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, K: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * f;
}

describe('the container image recipe', () => {
  test('runs `resistro agent` as uid 10001 with its state on a volume', () => {
    expect(last('USER')).toBe('10001:10001');
    expect(JSON.parse(last('ENTRYPOINT') ?? '')).toEqual(['/usr/local/bin/resistro']);
    expect(JSON.parse(last('CMD') ?? '')).toEqual(['agent']);
    expect(STATE_DIR).toBe('/var/lib/resistro-agent');
    expect(JSON.parse(last('VOLUME') ?? '')).toEqual([STATE_DIR]);
    // the user exists with that id and owns the state directory
    expect(containerfile).toMatch(/useradd [^;]*--uid 10001 --gid 10001/);
    expect(containerfile).toMatch(new RegExp(`install -d -m 0700 -o 10001 -g 10001 ${STATE_DIR}`));
  });

  test('bakes in no secret and checks the executable against its SHA-256', () => {
    const env = instructions.filter((i) => i.op === 'ENV' || i.op === 'ARG').map((i) => i.arg);
    for (const key of ['RESISTRO_API_KEY', 'RESISTRO_ENCRYPTION_KEY', 'PGPASSWORD', 'MYSQL_PWD']) {
      expect(env.join('\n')).not.toContain(key);
    }
    expect(containerfile).toMatch(/COPY resistro-linux-\$\{ARCH\}\.sha256 \/usr\/local\/share\/resistro\//);
    expect(containerfile).toContain('| sha256sum -c;');
  });

  test('installs pg_dump per PostgreSQL major (15 from Debian by default), mariadb-dump and zstd', () => {
    const args = Object.fromEntries(
      instructions.filter((i) => i.op === 'ARG').map((i) => i.arg.split('=') as [string, string]),
    );
    expect(args.PG_MAJORS).toBe('15');
    expect(args.PGDG).toBe('');
    expect(containerfile).toContain('postgresql-client-$major');
    expect(containerfile).toMatch(/apt-get install [^;]*\$clients mariadb-client zstd/);
    // the build fails unless every requested client is where the agent looks for it
    expect(containerfile).toContain('/usr/lib/postgresql/$major/bin/pg_dump --version');
  });

  test('npm run agent:image refuses an unknown architecture or option before building anything', () => {
    for (const args of [['--arch', 'sparc'], ['--push']]) {
      const r = spawnSync(process.execPath, ['--no-warnings', join(DIR, 'build.ts'), ...args], {
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^unknown (--arch sparc|option --push)/);
      expect(r.stderr).toContain('usage: npm run agent:image');
    }
  });
});

describe('the Kubernetes manifests', () => {
  const k8s = join(DIR, 'kubernetes');
  const files = readdirSync(k8s).filter((f) => f.endsWith('.yaml'));
  const all = files.flatMap((f) => yamlFile(join(k8s, f)));
  const one = (kind: string) => {
    const found = all.filter((d) => d.kind === kind);
    expect(found, kind).toHaveLength(1);
    return found[0];
  };

  test('kustomization lists every manifest, all in one namespace', () => {
    const kustomization = one('Kustomization');
    expect([...kustomization.resources].sort()).toEqual(
      files.filter((f) => f !== 'kustomization.yaml').sort(),
    );
    const namespace = one('Namespace').metadata.name;
    for (const d of all.filter((d) => !['Kustomization', 'Namespace'].includes(d.kind))) {
      expect(d.metadata.namespace, d.kind).toBe(namespace);
    }
  });

  test('the Secret holds agent settings only, and the Deployment takes its environment from it', () => {
    const secret = one('Secret');
    const keys = Object.keys(secret.stringData);
    expect(keys).toEqual(expect.arrayContaining(['RESISTRO_API_KEY', 'RESISTRO_ENCRYPTION_KEY']));
    for (const k of keys) expect(CONFIG_KEYS as readonly string[]).toContain(k);
    const [container] = one('Deployment').spec.template.spec.containers;
    expect(container.envFrom).toEqual([{ secretRef: { name: secret.metadata.name } }]);
  });

  test('one agent on the claimed volume, as the image user, with the image command', () => {
    const deployment = one('Deployment');
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy.type).toBe('Recreate');
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001 });
    const [container] = pod.containers;
    expect(container.args).toEqual(['agent']);
    const claim = one('PersistentVolumeClaim').metadata.name;
    const volume = pod.volumes.find((v: Doc) => v.persistentVolumeClaim?.claimName === claim);
    expect(volume).toBeDefined();
    expect(container.volumeMounts).toContainEqual({ name: volume.name, mountPath: STATE_DIR });
    expect(container.env).toContainEqual({ name: 'RESISTRO_STATE_DIR', value: STATE_DIR });
    // a read-only root filesystem leaves /tmp writable through its own volume
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(container.volumeMounts.map((m: Doc) => m.mountPath)).toContain('/tmp');
  });

  test('memory leaves room for the measured peak (176 MB: agent, zstd and pg_dump during a backup)', () => {
    const [container] = one('Deployment').spec.template.spec.containers;
    const request = quantity(container.resources.requests.memory);
    const limit = quantity(container.resources.limits.memory);
    expect(request).toBeGreaterThanOrEqual(200 * 1024 ** 2);
    expect(limit).toBeGreaterThanOrEqual(request);
  });

  test('liveness runs `resistro status` and tolerates an outage the spool covers', () => {
    const [container] = one('Deployment').spec.template.spec.containers;
    const probe = container.livenessProbe;
    expect(probe.exec.command).toEqual(['/usr/local/bin/resistro', 'status']);
    expect(probe.periodSeconds * probe.failureThreshold).toBeGreaterThanOrEqual(30 * 60);
  });
});

describe('the Docker Compose example', () => {
  test('runs the agent with its state on a volume, from an env file, next to PostgreSQL', () => {
    const [compose] = yamlFile(join(DIR, 'compose.yaml'));
    const agent = compose.services['resistro-agent'];
    expect(agent.command).toEqual(['agent']);
    expect(agent.env_file).toBe('resistro.env');
    expect(agent.environment).toBeUndefined(); // no secrets in the file itself
    const [volume, path] = agent.volumes[0].split(':');
    expect(path).toBe(STATE_DIR);
    expect(Object.keys(compose.volumes)).toContain(volume);
    expect(agent.healthcheck.test).toEqual(['CMD', '/usr/local/bin/resistro', 'status']);
    expect(compose.services.db.image).toMatch(/^postgres:/);
    expect(agent.depends_on.db.condition).toBe('service_healthy');
  });
});
