// install-agent.sh, as `curl …/install-agent.sh | sudo sh` runs it, below a prefix: it checks the
// single-file build against its SHA-256, places it and a `resistro` command, and installs the
// service files. A tampered download is refused.
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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

  const run = (env: Record<string, string>) =>
    spawnSync('sh', [SCRIPT], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH!, RESISTRO_NODE: process.execPath, ...env },
    });

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
    expect(readFileSync(join(prefix, 'etc/systemd/system/resistro-agent.service'), 'utf8')).toMatch(
      /ExecStart=.*resistro\.mjs agent/,
    );
    expect(statSync(join(prefix, 'etc/resistro-agent/env')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(prefix, 'etc/resistro-agent/env'), 'utf8')).toMatch(
      /^RESISTRO_API_KEY=rsk_0123456789abcdef0123$/m,
    );
    expect(r.stderr).toMatch(/installed \/usr\/local\/bin\/resistro \(resistro \d+\.\d+\.\d+\)/);
  }, 60_000);

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
