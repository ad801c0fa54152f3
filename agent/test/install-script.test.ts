// install-agent.sh, as `curl …/install-agent.sh | sudo sh` runs it, below a prefix: it checks the
// executable against its SHA-256 and that it runs here, places it at /usr/local/bin/resistro in one
// atomic step, and installs the service files, which name the installed paths (never the prefix)
// and, when a service served the script, that service's API as the endpoint. No Node.js is used:
// the script runs with a PATH that has none. A tampered or broken download never replaces a
// working agent.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildExecutables } from '../sea/build.ts';
import { ROOT, testDir } from './helpers.ts';

const SCRIPT = join(ROOT, 'agent/install-agent.sh');
const NAME = process.arch === 'arm64' ? 'resistro-linux-arm64' : 'resistro-linux-x64';

describe('install-agent.sh', () => {
  const work = testDir('install');
  let exe: string;
  /** the system's tools, with a `node` first that fails: the installer must not need one */
  const bin = join(work.dir, 'bin');
  const PATH = `${bin}:/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin`;

  beforeAll(async () => {
    const [built] = await buildExecutables(
      [process.arch === 'arm64' ? 'arm64' : 'x64'],
      join(work.dir, 'dist'),
    );
    exe = built!;
    mkdirSync(bin, { recursive: true });
    fake('node', 'echo "node was called" >&2; exit 99');
  }, 180_000);
  afterAll(() => work.remove());

  const run = (env: Record<string, string>, script = SCRIPT) =>
    spawnSync('sh', [script], { encoding: 'utf8', env: { PATH, ...env } });

  /** The script as the worker serves it (worker/src/install/install-script.ts): origin filled in. */
  const served = (origin: string) => {
    const path = join(work.dir, `served-${origin.replace(/\W+/g, '-')}.sh`);
    writeFileSync(path, readFileSync(SCRIPT, 'utf8').replaceAll('__RESISTRO_ORIGIN__', origin));
    return path;
  };
  const installed = (prefix: string) =>
    ['etc/systemd/system/resistro-agent.service', 'etc/resistro-agent/env'].map((f) =>
      readFileSync(join(prefix, f), 'utf8'),
    );
  /** a fake command on the script's PATH */
  const fake = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  const unfake = (name: string) => spawnSync('rm', ['-f', join(bin, name)]);

  test('installs the checked executable, the unit and a private env file, without Node.js', () => {
    const prefix = join(work.dir, 'root');
    const r = run({
      RESISTRO_PREFIX: prefix,
      RESISTRO_AGENT_FILE: exe,
      RESISTRO_API_KEY: 'rsk_0123456789abcdef0123',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('node was called');
    const target = join(prefix, 'usr/local/bin/resistro');
    expect(readFileSync(target).equals(readFileSync(exe))).toBe(true);
    expect(statSync(target).mode & 0o777).toBe(0o755);
    // the executable runs by itself and names its version and commit
    const version = spawnSync(target, ['--version'], { encoding: 'utf8', env: { PATH } });
    expect(version.stdout).toMatch(/^resistro \d+\.\d+\.\d+ \((?!source)[\w-]+\)\n$/);
    // the unit starts the executable itself: no node, no prefix
    expect(readFileSync(join(prefix, 'etc/systemd/system/resistro-agent.service'), 'utf8')).toMatch(
      /^ExecStart=\/usr\/local\/bin\/resistro agent$/m,
    );
    for (const text of installed(prefix)) expect(text).not.toContain(prefix);
    expect(statSync(join(prefix, 'etc/resistro-agent/env')).mode & 0o777).toBe(0o600);
    const env = readFileSync(join(prefix, 'etc/resistro-agent/env'), 'utf8');
    expect(env).toMatch(/^RESISTRO_API_KEY=rsk_0123456789abcdef0123$/m);
    // not served by a service: the default endpoint
    expect(env).toMatch(/^RESISTRO_ENDPOINT=https:\/\/cloud\.resistro\.org\/api$/m);
    expect(r.stderr).toMatch(/installed \/usr\/local\/bin\/resistro \(resistro \d+\.\d+\.\d+ \([\w-]+\)\)/);
  }, 60_000);

  test('served by a service, it configures the agent to report to that service', () => {
    const origin = 'http://127.0.0.1:8787';
    const prefix = join(work.dir, 'served');
    const r = run({ RESISTRO_PREFIX: prefix, RESISTRO_AGENT_FILE: exe }, served(origin));
    expect(r.status, r.stderr).toBe(0);
    const env = readFileSync(join(prefix, 'etc/resistro-agent/env'), 'utf8');
    expect(env).toMatch(/^RESISTRO_ENDPOINT=http:\/\/127\.0\.0\.1:8787\/api$/m);
    for (const text of installed(prefix)) expect(text).not.toContain(prefix);

    // RESISTRO_ENDPOINT set by the user wins
    const own = join(work.dir, 'served-own-endpoint');
    const r2 = run(
      { RESISTRO_PREFIX: own, RESISTRO_AGENT_FILE: exe, RESISTRO_ENDPOINT: 'https://backup.example/api' },
      served(origin),
    );
    expect(r2.status, r2.stderr).toBe(0);
    expect(readFileSync(join(own, 'etc/resistro-agent/env'), 'utf8')).toMatch(
      /^RESISTRO_ENDPOINT=https:\/\/backup\.example\/api$/m,
    );
  }, 60_000);

  test('run again, it replaces the executable by rename, keeps the env file and removes the old Node.js build', () => {
    const prefix = join(work.dir, 'update');
    expect(run({ RESISTRO_PREFIX: prefix, RESISTRO_AGENT_FILE: exe }).status).toBe(0);
    const target = join(prefix, 'usr/local/bin/resistro');
    const envBefore = readFileSync(join(prefix, 'etc/resistro-agent/env'), 'utf8');
    const inodeBefore = statSync(target).ino;
    // what an install of the earlier, Node.js-based agent left behind
    mkdirSync(join(prefix, 'usr/local/lib/resistro'), { recursive: true });
    writeFileSync(join(prefix, 'usr/local/lib/resistro/resistro.mjs'), '// old\n');

    const r = run({ RESISTRO_PREFIX: prefix, RESISTRO_AGENT_FILE: exe });
    expect(r.status, r.stderr).toBe(0);
    // a new file renamed over the old one: a running agent keeps its open file
    expect(statSync(target).ino).not.toBe(inodeBefore);
    expect(readFileSync(target).equals(readFileSync(exe))).toBe(true);
    expect(existsSync(join(prefix, 'usr/local/bin/.resistro.new'))).toBe(false);
    expect(readFileSync(join(prefix, 'etc/resistro-agent/env'), 'utf8')).toBe(envBefore);
    expect(existsSync(join(prefix, 'usr/local/lib/resistro'))).toBe(false);
  }, 60_000);

  test('a tampered or broken download is refused and the installed agent keeps working', () => {
    const prefix = join(work.dir, 'keep');
    expect(run({ RESISTRO_PREFIX: prefix, RESISTRO_AGENT_FILE: exe }).status).toBe(0);
    const target = join(prefix, 'usr/local/bin/resistro');

    const tampered = join(work.dir, 'tampered', NAME);
    mkdirSync(join(work.dir, 'tampered'), { recursive: true });
    copyFileSync(exe, tampered);
    copyFileSync(`${exe}.sha256`, `${tampered}.sha256`);
    writeFileSync(tampered, Buffer.concat([readFileSync(tampered), Buffer.from('tampered')]));
    const r = run({ RESISTRO_PREFIX: prefix, RESISTRO_AGENT_FILE: tampered });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/does not match its SHA-256; not installing it/);

    // a file that matches its checksum but does not run on this machine (wrong architecture, cut)
    const broken = join(work.dir, 'broken', NAME);
    mkdirSync(join(work.dir, 'broken'), { recursive: true });
    writeFileSync(broken, '#!/bin/sh\necho "cannot execute binary file: Exec format error" >&2\nexit 126\n');
    const sum = spawnSync('sha256sum', [broken], { encoding: 'utf8' }).stdout.split(' ')[0];
    writeFileSync(`${broken}.sha256`, `${sum}  ${NAME}\n`);
    const r2 = run({ RESISTRO_PREFIX: prefix, RESISTRO_AGENT_FILE: broken });
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/does not run on this machine: cannot execute binary file/);

    expect(readFileSync(target).equals(readFileSync(exe))).toBe(true);
    expect(spawnSync(target, ['--version'], { encoding: 'utf8' }).status).toBe(0);
  }, 60_000);

  test('picks the executable by architecture and refuses one it has none for', () => {
    fake('uname', 'case "$1" in -s) echo Linux ;; -m) echo riscv64 ;; *) echo Linux ;; esac');
    try {
      const r = run({
        RESISTRO_PREFIX: join(work.dir, 'riscv'),
        RESISTRO_DOWNLOAD_URL: 'http://127.0.0.1:9/downloads',
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /no agent is built for riscv64; supported: x86_64 \(x64\) and aarch64 \(arm64\)/,
      );
      fake('uname', 'case "$1" in -s) echo Linux ;; -m) echo aarch64 ;; *) echo Linux ;; esac');
      // nothing listens on port 9: the download fails, naming the arm64 executable
      const arm = run({
        RESISTRO_PREFIX: join(work.dir, 'arm'),
        RESISTRO_DOWNLOAD_URL: 'http://127.0.0.1:9/downloads',
      });
      expect(arm.status).toBe(1);
      expect(arm.stderr).toMatch(/downloading the agent for linux-arm64/);
      expect(arm.stderr).toMatch(
        /download of http:\/\/127\.0\.0\.1:9\/downloads\/resistro-linux-arm64\.sha256 failed/,
      );
    } finally {
      unfake('uname');
    }
  });

  test('not run as root, it says how to run it as root with a clean URL', () => {
    fake('id', 'echo 1000');
    try {
      const r = run({ RESISTRO_AGENT_FILE: exe }, served('http://127.0.0.1:8787'));
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(
        'resistro: error: installing the agent needs root: curl -fsSL http://127.0.0.1:8787/install-agent.sh | sudo sh\n',
      );
      const unserved = run({ RESISTRO_AGENT_FILE: exe });
      expect(unserved.status).toBe(1);
      expect(unserved.stderr).toMatch(/installing the agent needs root: run this script again with sudo/);
      expect(r.stderr + unserved.stderr).not.toMatch(/\.\.\/|__RESISTRO_ORIGIN__/);
      expect(r.stderr + unserved.stderr).not.toContain('node was called');
    } finally {
      unfake('id');
    }
  });
});
