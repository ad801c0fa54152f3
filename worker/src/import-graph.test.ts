/// <reference types="node" />
// The folder-level import graph of worker/src has no loops (issue 10): a feature folder may use
// another, but never the other way round as well, so each can be read, tested and changed from
// the bottom up. The scan needs node:fs and the TypeScript parser; vitest runs it under Node.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = import.meta.dirname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

/**
 * The node a file belongs to: its top-level folder (`accounts`, `lib`, …), or the file itself for
 * files directly in worker/src (`db.ts`, `schema.ts`, `errors.ts`, `index.ts`…), so that the entry
 * point importing every feature and every feature importing `errors.ts` is not counted as a loop.
 */
function nodeOf(file: string): string {
  return relative(ROOT, file).split(sep)[0] ?? file;
}

/**
 * The relative modules a file imports at run time. `import type …`, `export type … from` and
 * imports whose every name is marked `type` are left out (unless `withTypes`): they are erased
 * when compiled, so they cannot make a module wait for another while loading. The one type-only
 * loop is accepted: every feature names `Db` from `db.ts`, whose `schema.ts` lists every table
 * file (drizzle types the client by the whole schema); the last test pins that it is the only one.
 */
export function valueImports(file: string, text: string, withTypes = false): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const add = (specifier: ts.Expression | undefined) => {
    if (specifier && ts.isStringLiteral(specifier) && specifier.text.startsWith('.')) {
      found.push(resolve(file, '..', specifier.text));
    }
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const onlyTypes =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            named !== undefined &&
            ts.isNamedImports(named) &&
            named.elements.length > 0 &&
            named.elements.every((element) => element.isTypeOnly)));
      if (withTypes || !onlyTypes) add(node.moduleSpecifier);
    } else if (ts.isExportDeclaration(node)) {
      const named = node.exportClause;
      const onlyTypes =
        node.isTypeOnly ||
        (named !== undefined &&
          ts.isNamedExports(named) &&
          named.elements.length > 0 &&
          named.elements.every((element) => element.isTypeOnly));
      if (withTypes || !onlyTypes) add(node.moduleSpecifier);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length === 1
    ) {
      add(node.arguments[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Folder → folders it imports values (or also types) from, with one file import per edge as evidence. */
function folderGraph(withTypes = false): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(ROOT)) {
    const from = nodeOf(file);
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    for (const target of valueImports(file, readFileSync(file, 'utf8'), withTypes)) {
      if (!target.startsWith(ROOT + sep)) continue;
      const to = nodeOf(target);
      if (to !== from && !edges.has(to)) {
        edges.set(to, `${relative(ROOT, file)} → ${relative(ROOT, target)}`);
      }
    }
  }
  return graph;
}

/** The strongly connected components with more than one folder (Tarjan). */
function loops(graph: Map<string, Map<string, string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const result: string[][] = [];
  const connect = (node: string) => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (!index.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) result.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) connect(node);
  return result;
}

/** Each loop with the imports that make it, so a failure says which file to move. */
function report(graph: Map<string, Map<string, string>>): string[] {
  return loops(graph).map((members) => {
    const inside = new Set(members);
    const edges = members.flatMap((from) =>
      [...(graph.get(from) ?? new Map<string, string>())]
        .filter(([to]) => inside.has(to))
        .map(([to, evidence]) => `${from} → ${to} (${evidence})`),
    );
    return `${members.join(' ↔ ')}:\n  ${edges.join('\n  ')}`;
  });
}

describe('worker/src import graph', () => {
  it('leaves out type-only imports and keeps the rest', () => {
    const imports = valueImports(
      join(ROOT, 'a', 'x.ts'),
      [
        "import type { Db } from '../db.ts';",
        "import { type Tx, type DbOrTx } from '../db2.ts';",
        "import { type Tx as T, createDb } from '../db3.ts';",
        "export type { Row } from '../b/rows.ts';",
        "export * from '../c/table.sql.ts';",
        "import '../d/side-effect.ts';",
        "import ts from 'typescript';",
        "const later = () => import('../e/lazy.ts');",
      ].join('\n'),
    ).map((path) => relative(ROOT, path));
    expect(imports).toEqual([
      'db3.ts',
      join('c', 'table.sql.ts'),
      join('d', 'side-effect.ts'),
      join('e', 'lazy.ts'),
    ]);
  });

  it('finds a loop between two folders', () => {
    const graph = new Map([
      ['a', new Map([['b', 'a/x.ts → b/y.ts']])],
      ['b', new Map([['c', 'b/y.ts → c/z.ts']])],
      ['c', new Map([['a', 'c/z.ts → a/x.ts']])],
      ['d', new Map([['a', 'd/w.ts → a/x.ts']])],
    ]);
    expect(loops(graph)).toEqual([['a', 'b', 'c']]);
  });

  it('has no folder-level loops', () => {
    expect(report(folderGraph())).toEqual([]);
  });

  it('has no loops through type-only imports either, but for the Db type of db.ts', () => {
    const graph = folderGraph(true);
    for (const [from, edges] of graph) if (from !== 'db.ts') edges.delete('db.ts');
    expect(report(graph)).toEqual([]);
  });
});
