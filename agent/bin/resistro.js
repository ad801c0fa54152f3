#!/usr/bin/env node
// Launcher for `npm exec resistro` / a global npm install: runs the single-file build when it
// exists, else the TypeScript sources (Node >= 22.18 strips types by itself).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  process.stderr.write(
    `resistro: error: Node.js ${process.versions.node} is too old; resistro needs Node.js 22.15 or newer (zstd in node:zlib)\nhint: install a current Node.js LTS (https://nodejs.org or your distribution's nodejs package)\n`,
  );
  process.exit(2);
}
const { existsSync } = await import('node:fs');
const bundle = new URL('../dist/resistro.mjs', import.meta.url);
const { main } = await import(
  existsSync(bundle) ? bundle.href : new URL('../src/cli.ts', import.meta.url).href
);
process.exit(await main(process.argv.slice(2)));
