// Reports the gzipped size of the JavaScript a first visit loads (the entry chunk and everything
// it imports statically) and fails the build above the budget. Lazy chunks are listed apart:
// they load only when their page opens.
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

type Chunk = {
  type: 'chunk';
  fileName: string;
  code: string;
  isEntry: boolean;
  imports: string[];
  facadeModuleId: string | null;
};
type Asset = { type: 'asset'; fileName: string; source: string | Uint8Array };

const kB = (n: number) => `${(n / 1000).toFixed(1)} kB`;

export function bundleSize(opts: {
  limitBytes: number;
  /**
   * Lazy chunks of which a first visit loads exactly one before it renders (one language's
   * texts): the largest of them counts towards the first load.
   */
  oneOf?: RegExp;
}): Plugin {
  return {
    name: 'resistro-bundle-size',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = Object.values(bundle) as Array<Chunk | Asset>;
      const chunks = new Map(files.filter((f): f is Chunk => f.type === 'chunk').map((c) => [c.fileName, c]));
      const gz = (c: Chunk) => gzipSync(c.code, { level: 9 }).length;
      const initial = new Set<string>();
      const visit = (name: string) => {
        if (initial.has(name)) return;
        initial.add(name);
        for (const dep of chunks.get(name)?.imports ?? []) visit(dep);
      };
      for (const c of chunks.values()) if (c.isEntry) visit(c.fileName);
      let initialBytes = 0;
      const lines: string[] = [];
      for (const name of initial) {
        const size = gz(chunks.get(name)!);
        initialBytes += size;
        lines.push(`  ${name.padEnd(48)} ${kB(size).padStart(9)}`);
      }
      const alternatives = [...chunks.values()].filter(
        (c) => !initial.has(c.fileName) && opts.oneOf?.test(c.facadeModuleId ?? ''),
      );
      const largest = alternatives.sort((a, b) => gz(b) - gz(a))[0];
      if (largest) {
        const size = gz(largest);
        initialBytes += size;
        lines.push(
          `  ${largest.fileName.padEnd(48)} ${kB(size).padStart(9)}  (largest of ${alternatives.length}: one loads first)`,
        );
      }
      const lazy = [...chunks.values()].filter((c) => !initial.has(c.fileName));
      const lazyLines = lazy.map((c) => `  ${c.fileName.padEnd(48)} ${kB(gz(c)).padStart(9)}`);
      const css = files
        .filter((f): f is Asset => f.type === 'asset' && f.fileName.endsWith('.css'))
        .map((a) => `  ${a.fileName.padEnd(48)} ${kB(gzipSync(a.source).length).padStart(9)}`);
      const report = [
        `initial JS: ${kB(initialBytes)} gzipped (budget ${kB(opts.limitBytes)})`,
        ...lines,
        `lazy JS chunks (loaded per page):`,
        ...lazyLines,
        ...(css.length ? ['CSS:', ...css] : []),
      ].join('\n');
      // Printed on stdout so `vite build --logLevel warn` (the test setup) still shows a breach.
      console.log(report);
      this.emitFile({
        type: 'asset',
        fileName: 'bundle-size.json',
        source: JSON.stringify({ initialJsGzipBytes: initialBytes, limitBytes: opts.limitBytes }, null, 2),
      });
      if (initialBytes > opts.limitBytes) {
        this.error(`initial JS is ${kB(initialBytes)} gzipped, over the budget of ${kB(opts.limitBytes)}`);
      }
    },
  };
}
