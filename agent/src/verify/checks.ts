// The customer's own checks (a query and what its one value must be), run on the scratch copy in a
// read-only transaction. A query that fails does not pass; its error is the reason.
import type { CheckOp, CheckResult, CustomCheck } from '@resistro/contract';
import type { DatabaseTarget, Engine } from '../engines/index.ts';

const NUMBER = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;

/** Numbers compare as numbers when both sides are numbers, everything else as text. */
export function holds(actual: string, op: CheckOp, expected: string): boolean {
  const numeric = NUMBER.test(actual) && NUMBER.test(expected);
  const a = numeric ? Number(actual) : actual;
  const b = numeric ? Number(expected) : expected;
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
  }
}

export async function runChecks(
  engine: Engine,
  target: DatabaseTarget,
  checks: CustomCheck[],
  signal?: AbortSignal,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    signal?.throwIfAborted();
    try {
      if (!engine.queryValue) throw new Error(`${engine.name} cannot run checks`);
      const actual = await engine.queryValue(target, check.sql);
      results.push({
        id: check.id,
        passed: holds(actual, check.expect.op, check.expect.value),
        actual: actual.slice(0, 200),
      });
    } catch (error) {
      signal?.throwIfAborted();
      const e = error as Error & { stderr?: string };
      const text = (e.stderr?.trim() || e.message || String(error)).slice(0, 2000);
      results.push({ id: check.id, passed: false, error: text });
    }
  }
  return results;
}
