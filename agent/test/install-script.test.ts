// install-agent.sh, as `curl …/install-agent.sh | sudo sh` runs it, below a prefix: it checks the
// single-file build against its SHA-256, places it and a `resistro` command, and installs the
// service files, which name the installed paths (never the prefix) and, when a service served the
// script, that service's API as the endpoint. A tampered download is refused.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ROOT, testDir } from './helpers.ts';

const SCRIPT = join(ROOT, 'agent/install-agent.sh');
const BUNDLE = join(ROOT, 'agent/dist/resistro.mjs');

describe('install-agent.sh', () => {
  const work = testDir('install');
  beforeAll(() => {
    const build = spawnSync(process.execPath, ['--no-warnings', join(ROOT, 'agent/build.ts')], {
      encoding: 'utf8',
    });
    expect(build.status, build.stderr).toBe(0);
  }, 60_000);
  afterAll(() => work.remove());

  const run = (env: Record<string, string>, script = SCRIPT) =>
    spawnSync('sh', [script], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH!, RESISTRO_NODE: process.execPath, ...env },
    });

  /** The script as the worker serves it (worker/src/install/install-script.ts): origin filled in. */
  const served = (origin: string) => {
    const path = join(work.dir, `served-${origin.replace(/\W+/g, '-')}.sh`);
    writeFileSync(path, readFileSync(SCRIPT, 'utf8').replaceAll('__RESISTRO_ORIGIN__', origin));
    return path;
  };
  const installed = (prefix: string) =>
    ['usr/local/bin/resistro', 'etc/systemd/system/resistro-agent.service', 'etc/resistro-agent/env'].map(
      (f) => readFileSync(join(prefix, f), 'utf8'),
    );

  test('installs the checked single file, a resistro command, the unit and a private env file', () => {
    const prefix = join(work.dir, 'root');
    const r = run({
      RESISTRO_PREFIX: prefix,
      RESISTRO_AGENT_FILE: BUNDLE,
      RESISTRO_API_KEY: 'rsk_0123456789abcdef0123',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(
      readFileSync(join(prefix, 'usr/local/lib/resistro/resistro.mjs')).equals(readFileSync(BUNDLE)),
    ).toBe(true);
    const wrapper = readFileSync(join(prefix, 'usr/local/bin/resistro'), 'utf8');
    expect(wrapper).toContain(`exec "${process.execPath}" "/usr/local/lib/resistro/resistro.mjs" "$@"`);
    expect(statSync(join(prefix, 'usr/local/bin/resistro')).mode & 0o777).toBe(0o755);
    // the prefix says where the files go, not what they contain
    expect(readFileSync(join(prefix, 'etc/systemd/system/resistro-agent.service'), 'utf8')).toMatch(
      /^ExecStart=\S*node \/usr\/local\/lib\/resistro\/resistro\.mjs agent$/m,
    );
    for (const text of installed(prefix)) expect(text).not.toContain(prefix);
    expect(statSync(join(prefix, 'etc/resistro-agent/env')).mode & 0o777).toBe(0o600);
    const env = readFileSync(join(prefix, 'etc/resistro-agent/env'), 'utf8');
    expect(env).toMatch(/^RESISTRO_API_KEY=rsk_0123456789abcdef0123$/m);
    // not served by a service: the default endpoint
    expect(env).toMatch(/^RESISTRO_ENDPOINT=https:\/\/cloud\.resistro\.org\/api$/m);
    expect(r.stderr).toMatch(/installed \/usr\/local\/bin\/resistro \(resistro \d+\.\d+\.\d+\)/);
  }, 60_000);

  test('served by a service, it configures the agent to report to that service', () => {
    const origin = 'http://127.0.0.1:8787';
    const prefix = join(work.dir, 'served');
    const r = run({ RESISTRO_PREFIX: prefix, RESISTRO_AGENT_FILE: BUNDLE }, served(origin));
    expect(r.status, r.stderr).toBe(0);
    const env = readFileSync(join(prefix, 'etc/resistro-agent/env'), 'utf8');
    expect(env).toMatch(/^RESISTRO_ENDPOINT=http:\/\/127\.0\.0\.1:8787\/api$/m);
    for (const text of installed(prefix)) expect(text).not.toContain(prefix);

    // RESISTRO_ENDPOINT set by the user wins
    const own = join(work.dir, 'served-own-endpoint');
    const r2 = run(
      { RESISTRO_PREFIX: own, RESISTRO_AGENT_FILE: BUNDLE, RESISTRO_ENDPOINT: 'https://backup.example/api' },
      served(origin),
    );
    expect(r2.status, r2.stderr).toBe(0);
    expect(readFileSync(join(own, 'etc/resistro-agent/env'), 'utf8')).toMatch(
      /^RESISTRO_ENDPOINT=https:\/\/backup\.example\/api$/m,
    );
  }, 60_000);

  test('not run as root, it says how to run it as root with a clean URL', () => {
    // an `id` that says "not root", whoever runs the test
    const bin = join(work.dir, 'fake-bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'id'), '#!/bin/sh\necho 1000\n');
    chmodSync(join(bin, 'id'), 0o755);
    const path = `${bin}:${process.env.PATH}`;
    const r = run({ PATH: path, RESISTRO_AGENT_FILE: BUNDLE }, served('http://127.0.0.1:8787'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      'resistro: error: installing the agent needs root: curl -fsSL http://127.0.0.1:8787/install-agent.sh | sudo sh\n',
    );
    const unserved = run({ PATH: path, RESISTRO_AGENT_FILE: BUNDLE });
    expect(unserved.status).toBe(1);
    expect(unserved.stderr).toMatch(/installing the agent needs root: run this script again with sudo/);
    expect(r.stderr + unserved.stderr).not.toMatch(/\.\.\/|__RESISTRO_ORIGIN__/);
  });

  test('refuses an agent file that does not match its SHA-256', () => {
    const tampered = join(work.dir, 'resistro.mjs');
    copyFileSync(BUNDLE, tampered);
    copyFileSync(`${BUNDLE}.sha256`, `${tampered}.sha256`);
    writeFileSync(tampered, `${readFileSync(tampered, 'utf8')}\n// tampered\n`);
    const r = run({ RESISTRO_PREFIX: join(work.dir, 'root2'), RESISTRO_AGENT_FILE: tampered });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/does not match its SHA-256; not installing it/);
  }, 60_000);

  test('refuses a Node.js older than 22.15 with a clear message', () => {
    const r = run({
      RESISTRO_PREFIX: join(work.dir, 'root3'),
      RESISTRO_AGENT_FILE: BUNDLE,
      RESISTRO_NODE: '/usr/bin/node',
    });
    if (!/^v2[01]\./.test(spawnSync('/usr/bin/node', ['--version'], { encoding: 'utf8' }).stdout ?? ''))
      return;
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is too old; the agent needs 22\.15 or newer/);
  });
});
