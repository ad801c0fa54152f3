// Directories against a real tree (GNU tar does the archive): the source contract, then content and
// metadata — owners, modes, times, symlinks, hard links — restored identically, sockets and FIFOs
// left out with a note, include/exclude patterns, and a restore of chosen paths only.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DatabaseTarget, getEngine } from '../../src/engines/index.ts';
import { makeTestDataDir, recordingSpawn } from './helpers.ts';
import { byteStream, dumpToBuffer, runSourceContract } from './source-contract.ts';

const data = makeTestDataDir('directory');
let n = 0;
const scratch = () => join(data.dir, `s${n++}`);
const sockets: Server[] = [];
afterAll(async () => {
  for (const s of sockets) await new Promise((r) => s.close(r));
  data.remove();
});
const asRoot = process.getuid?.() === 0;

const target = (paths: string[], include: string[] = [], exclude: string[] = []): DatabaseTarget => ({
  engine: 'directory',
  host: 'localhost',
  port: 0,
  database: paths.join(', '),
  user: '',
  source: { kind: 'directory', paths, include, exclude },
});

/** An uploads folder: nested files, odd names, modes, owners, times, a symlink, a hard link, big file. */
async function makeTree(root: string): Promise<void> {
  mkdirSync(join(root, 'uploads/2026/07'), { recursive: true });
  mkdirSync(join(root, 'uploads/cache'), { recursive: true });
  mkdirSync(join(root, 'config'), { recursive: true });
  writeFileSync(
    join(root, 'uploads/2026/07/photo.jpg'),
    Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256)),
  );
  writeFileSync(join(root, 'uploads/2026/07/Grüße 😀 "quoted" -C.txt'), 'awkward name\n');
  writeFileSync(join(root, 'uploads/big.bin'), Buffer.alloc(12 * 1024 * 1024, 0x5a));
  writeFileSync(join(root, 'uploads/cache/tmp.log'), 'log line\n');
  writeFileSync(join(root, 'config/app.conf'), 'secret=1\n');
  chmodSync(join(root, 'config/app.conf'), 0o640);
  chmodSync(join(root, 'config'), 0o750);
  writeFileSync(join(root, 'uploads/setuid-ish'), '#!/bin/sh\n');
  chmodSync(join(root, 'uploads/setuid-ish'), 0o2755);
  symlinkSync('2026/07/photo.jpg', join(root, 'uploads/latest.jpg'));
  symlinkSync('/nonexistent/target', join(root, 'uploads/dangling'));
  linkSync(join(root, 'uploads/2026/07/photo.jpg'), join(root, 'uploads/photo-hardlink.jpg'));
  if (asRoot) {
    chownSync(join(root, 'config/app.conf'), 1234, 5678);
    chownSync(join(root, 'uploads/2026'), 4321, 8765);
  }
  spawnSync('mkfifo', [join(root, 'uploads/pipe')]);
  const sock = createServer();
  await new Promise<void>((r) => sock.listen(join(root, 'uploads/app.sock'), r));
  sockets.push(sock);
  const when = new Date('2024-02-29T12:34:56.789Z');
  for (const p of [
    'uploads/2026/07/photo.jpg',
    'config/app.conf',
    'uploads/2026/07',
    'uploads/2026',
    'config',
  ])
    utimesSync(join(root, p), when, when);
  lutimesSync(join(root, 'uploads/latest.jpg'), when, when);
}

type Entry = {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
  size: number;
  sha?: string;
  link?: string;
  inodeGroup?: string;
};

/** Content and metadata of every entry below `root`, with hard links named by their first path. */
function describeTree(root: string, skip: (rel: string) => boolean = () => false): Entry[] {
  const out: Entry[] = [];
  const inodes = new Map<number, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const abs = join(dir, name);
      const rel = relative(root, abs);
      if (skip(rel)) continue;
      const st = lstatSync(abs);
      if (st.isSocket() || st.isFIFO()) continue;
      const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'file';
      const e: Entry = {
        path: rel,
        type,
        mode: st.mode,
        uid: st.uid,
        gid: st.gid,
        mtimeMs: st.mtimeMs,
        size: type === 'dir' ? 0 : st.size,
      };
      if (type === 'file') {
        e.sha = createHash('sha256').update(readFileSync(abs)).digest('hex');
        if (st.nlink > 1) {
          if (!inodes.has(st.ino)) inodes.set(st.ino, rel);
          e.inodeGroup = inodes.get(st.ino);
        }
      }
      if (type === 'symlink') e.link = readlinkSync(abs);
      out.push(e);
      if (type === 'dir') walk(abs);
    }
  };
  walk(root);
  return out;
}

runSourceContract(
  'Directory',
  async () => {
    const root = scratch();
    await makeTree(root);
    const { spawn, records } = recordingSpawn();
    return {
      engine: getEngine('directory', { spawn }),
      spawned: records,
      target: target([root]),
      missing: target([join(root, 'does-not-exist')]),
      missingCodes: ['database_missing'],
      restoreOptions: (dir) => ({ target: target([root]), options: { targetDir: dir } }),
      fingerprintSource: async () => describeTree(root),
      fingerprintRestored: async (dir) => describeTree(join(dir, relative('/', root))),
      expectedTools: ['tar'],
      stop: async () => {},
    };
  },
  scratch,
);

describe('directories', () => {
  const engine = getEngine('directory');
  let root: string;
  beforeAll(async () => {
    root = scratch();
    await makeTree(root);
  });

  test('keeps content, owners, modes, times, symlinks and hard links; skips the socket and FIFO with a note', async () => {
    const { bytes, notes } = await dumpToBuffer(engine, target([root]));
    expect([...notes].sort()).toEqual(
      [
        `skipped socket ${join(root, 'uploads/app.sock')}`,
        `skipped FIFO ${join(root, 'uploads/pipe')}`,
      ].sort(),
    );
    const dir = scratch();
    await engine.restore(target([root]), byteStream(bytes), { targetDir: dir });
    const restoredRoot = join(dir, relative('/', root));
    const restored = describeTree(restoredRoot);
    expect(restored).toEqual(describeTree(root));
    // the facts behind that equality, spelled out
    const by = (p: string) => restored.find((e) => e.path === p)!;
    expect(by('uploads/latest.jpg')).toMatchObject({ type: 'symlink', link: '2026/07/photo.jpg' });
    expect(by('uploads/photo-hardlink.jpg').inodeGroup).toBe('uploads/2026/07/photo.jpg');
    expect(lstatSync(join(restoredRoot, 'uploads/photo-hardlink.jpg')).ino).toBe(
      lstatSync(join(restoredRoot, 'uploads/2026/07/photo.jpg')).ino,
    );
    expect(by('config/app.conf').mode & 0o7777).toBe(0o640);
    expect(by('uploads/setuid-ish').mode & 0o7777).toBe(0o2755);
    expect(by('config/app.conf').mtimeMs).toBe(new Date('2024-02-29T12:34:56.789Z').getTime());
    if (asRoot) expect(by('config/app.conf')).toMatchObject({ uid: 1234, gid: 5678 });
  });

  test('include and exclude patterns pick what is backed up', async () => {
    const { bytes } = await dumpToBuffer(
      engine,
      target([root], ['*.jpg', '*.conf'], ['cache', 'photo-hardlink.jpg']),
    );
    const dir = scratch();
    await engine.restore(target([root]), byteStream(bytes), { targetDir: dir });
    const files = describeTree(join(dir, relative('/', root)))
      .filter((e) => e.type !== 'dir')
      .map((e) => e.path);
    expect(files).toEqual(['config/app.conf', 'uploads/2026/07/photo.jpg', 'uploads/latest.jpg']);
  });

  test('restores chosen paths only', async () => {
    const { bytes } = await dumpToBuffer(engine, target([root]));
    const dir = scratch();
    await engine.restore(target([root]), byteStream(bytes), {
      targetDir: dir,
      paths: [join(root, 'config')],
    });
    const restoredRoot = join(dir, relative('/', root));
    expect(readdirSync(restoredRoot)).toEqual(['config']);
    expect(describeTree(join(restoredRoot, 'config'))).toEqual(describeTree(join(root, 'config')));
    const err = await engine
      .restore(target([root]), byteStream(bytes), { targetDir: scratch(), paths: [join(root, 'nope')] })
      .catch((e) => e);
    expect(err.message).toMatch(/not in this backup|Not found in archive/);
  });

  test('several paths go into one backup', async () => {
    const other = scratch();
    mkdirSync(join(other, 'etc'), { recursive: true });
    writeFileSync(join(other, 'etc/x.conf'), 'x');
    const { bytes } = await dumpToBuffer(engine, target([join(root, 'config'), other]));
    const dir = scratch();
    await engine.restore(target([]), byteStream(bytes), { targetDir: dir });
    expect(describeTree(join(dir, relative('/', other)))).toEqual(describeTree(other));
    expect(describeTree(join(dir, relative('/', root), 'config'))).toEqual(
      describeTree(join(root, 'config')),
    );
  });
});
