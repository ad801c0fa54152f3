// The heart of a test restore's verdict: the statistics taken while dumping (inside the backup)
// against those of a dump of the restored copy, table by table.
import type { TableFailure } from '@resistro/contract';
import { type AnyTableEntry, entryDigest } from '../format/index.ts';

export const MAX_FAILURES = 50;

export type TableComparison = { checked: number; failed: number; failures: TableFailure[] };

export function compareTables(expected: AnyTableEntry[], actual: AnyTableEntry[]): TableComparison {
  const restored = new Map(actual.map((t) => [t.name, t]));
  const failures: TableFailure[] = [];
  for (const want of expected) {
    const got = restored.get(want.name);
    restored.delete(want.name);
    if (!got) failures.push({ table: want.name, reason: 'missing', expectedRows: want.rows });
    else if (got.rows !== want.rows)
      failures.push({
        table: want.name,
        reason: 'rows_differ',
        expectedRows: want.rows,
        actualRows: got.rows,
      });
    else if (entryDigest(got) !== entryDigest(want))
      failures.push({
        table: want.name,
        reason: 'content_differs',
        expectedRows: want.rows,
        actualRows: got.rows,
      });
  }
  // A table the backup did not have: the restore (or something after it) made more than was dumped.
  for (const extra of restored.values())
    failures.push({ table: extra.name, reason: 'unexpected', actualRows: extra.rows });
  return { checked: expected.length, failed: failures.length, failures: failures.slice(0, MAX_FAILURES) };
}
