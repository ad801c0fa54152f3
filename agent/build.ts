// `npm run build -w agent`: the agent as one file, agent/dist/resistro.mjs, that runs with a plain
// `node` >= 22 and no node_modules: what install-agent.sh places on a server. Also writes its
// SHA-256 next to it for the install script to check.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build, type Plugin } from 'esbuild';

// Node's ES module loader refuses to even start a file that imports a name a built-in module does
// not have. On Node 20, `import { createZstdCompress } from 'node:zlib'` would crash with a
// SyntaxError before resistro could say "Node.js too old". Built-ins are therefore reached through
// a namespace import: missing names are just undefined, and cli.ts checks the version first.
const require = createRequire(import.meta.url);
const builtinShim: Plugin = {
  name: 'builtin-namespace',
  setup(b) {
    b.onResolve({ filter: /^(node:)?zlib$/ }, (args) =>
      args.namespace === 'builtin-shim'
        ? { path: 'node:zlib', external: true }
        : { path: 'zlib', namespace: 'builtin-shim' },
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin-shim' }, () => {
      const names = Object.keys(require('node:zlib')).filter(
        (n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default',
      );
      return {
        contents: `import * as m from 'node:zlib';\nexport default m;\nexport const { ${names.join(', ')} } = m;\n`,
        loader: 'js',
      };
    });
  },
};

// `--out PATH`: somewhere else (the tests build a copy another system user can run)
const outAt = process.argv.indexOf('--out');
const out =
  outAt > 0 && process.argv[outAt + 1]
    ? process.argv[outAt + 1]!
    : new URL('./dist/resistro.mjs', import.meta.url).pathname;
const result = await build({
  entryPoints: [new URL('./src/cli.ts', import.meta.url).pathname],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: false,
  sourcemap: false,
  legalComments: 'none',
  metafile: true,
  // Some dependencies are CommonJS; give them a require() inside the ES module.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __resistroCreateRequire } from 'node:module';\nconst require = __resistroCreateRequire(import.meta.url);",
  },
  plugins: [builtinShim],
  logLevel: 'warning',
});
const bytes = readFileSync(out);
const sha256 = createHash('sha256').update(bytes).digest('hex');
writeFileSync(`${out}.sha256`, `${sha256}  resistro.mjs\n`);
const inputs = Object.keys(result.metafile.inputs).length;
console.log(`${out}: ${(bytes.length / 1024).toFixed(0)} KiB from ${inputs} modules, sha256 ${sha256}`);
