// Every failure a user can fix exits 1 (2 for usage and configuration) with a message and a hint,
// never as "internal error … this is a bug" (exit 70). Real CLI processes; the control plane is an
// address nobody listens on, so `resistro backup` works from its cached configuration.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseWork } from '@resistro/contract';
import { beforeAll, describe, expect, test } from 'vitest';
import { generateSymmetricKey } from './format/index.ts';

const CLI = new URL('./cli.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'resistro-user-errors-'));
const envFile = join(dir, 'env');
writeFileSync(envFile, '');
/** a PATH with no zstd and no database tools on it */
const emptyPath = join(dir, 'bin');
mkdirSync(emptyPath);

const shop: DatabaseWork = {
  id: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  name: 'shop',
  engine: 'postgres',
  host: '127.0.0.1',
  port: 5432,
  database: 'shop',
  user: 'backup',
  credentials: { mode: 'local' },
  schedule: { kind: 'daily', time: '02:00', timezone: 'UTC' } as DatabaseWork['schedule'],
  compressionLevel: 3,
  paused: false,
};

/** A state directory whose cached configuration (the last heartbeat's answer) lists "shop". */
function stateDir(name: string): string {
  const state = join(dir, name);
  mkdirSync(state, { recursive: true, mode: 0o700 });
  writeFileSync(
    join(state, 'config.json'),
    JSON.stringify({
      savedAt: new Date().toISOString(),
      agentId: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c',
      heartbeatIntervalSeconds: 60,
      databases: [shop],
    }),
    { mode: 0o600 },
  );
  return state;
}

let unreachable: string;
beforeAll(async () => {
  // A port that was free a moment ago: connections to it are refused.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  unreachable = `http://127.0.0.1:${port}/api`;
});

function backupShop(env: Record<string, string>) {
  return new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--no-warnings', CLI, 'backup', '--database', 'shop'], {
      env: {
        PATH: emptyPath,
        HOME: dir,
        RESISTRO_ENV_FILE: envFile,
        RESISTRO_LOG_FORMAT: 'text',
        RESISTRO_ENDPOINT: unreachable,
        RESISTRO_API_KEY: 'rsk_test_0123456789abcdefghij',
        RESISTRO_ENCRYPTION_KEY: generateSymmetricKey(),
        ...env,
      },
    });
    let stderr = '';
    child.stderr.on('data', (b) => {
      stderr += b;
    });
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('user errors of a backup', { timeout: 60_000 }, () => {
  test('RESISTRO_COMPRESSOR=zstd without the zstd program: exit 1 with a hint, and no dump started', async () => {
    const r = await backupShop({ RESISTRO_COMPRESSOR: 'zstd', RESISTRO_STATE_DIR: stateDir('compressor') });
    expect(r.stderr).not.toMatch(/internal error|this is a bug/);
    expect(r.stderr).toMatch(
      /resistro: error: backup of "shop" failed: RESISTRO_COMPRESSOR=zstd, but the zstd program is not installed\nhint: Install it \(apt-get install -y zstd/,
    );
    // pg_dump is not on this PATH either: the compressor was checked before any dump was tried
    expect(r.stderr).not.toMatch(/pg_dump/);
    expect(r.code).toBe(1);
  });

  test('offline with the spool turned off: exit 1 with a hint', async () => {
    const r = await backupShop({ RESISTRO_SPOOL_MAX_BYTES: '0', RESISTRO_STATE_DIR: stateDir('spool-off') });
    expect(r.stderr).not.toMatch(/internal error|this is a bug/);
    expect(r.stderr).toMatch(
      /resistro: error: backup of "shop" failed: the control plane or storage is unreachable and the offline spool is turned off \(RESISTRO_SPOOL_MAX_BYTES=0\)\nhint: Set RESISTRO_SPOOL_MAX_BYTES to a size/,
    );
    expect(r.code).toBe(1);
  });
});
