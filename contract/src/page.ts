// Keyset pages of a list: `?limit=1..100&cursor=…` in, `{ items, nextCursor }` out. The cursor is
// opaque (the worker's lib/cursor.ts); null means the last page. Browser-safe: valibot only.
import * as v from 'valibot';
import { Text } from './text.ts';

export const PAGE_LIMIT_MAX = 100;

export const Cursor = v.pipe(Text, v.maxLength(200, 'is too long'));
export const Limit = v.pipe(
  Text,
  v.regex(/^\d{1,3}$/, 'must be 1–100'),
  v.transform(Number),
  v.minValue(1, 'must be 1–100'),
  v.maxValue(PAGE_LIMIT_MAX, 'must be 1–100'),
);
/** The query of a list that takes nothing but the page. */
export const PageQuery = v.strictObject({ cursor: v.optional(Cursor), limit: v.optional(Limit) });
export type PageQuery = { cursor?: string | undefined; limit?: number | undefined };

/** A page of `item`s and the cursor of the next one. */
export const pageOf = <T extends v.GenericSchema>(item: T) =>
  v.object({ items: v.array(item), nextCursor: v.nullable(v.string()) });

/**
 * Every item of a paged list, page after page (for views that need all of them, such as a
 * picker of agents). A response without `nextCursor` is the last page.
 */
export async function allPages<T>(
  fetchPage: (q: { cursor?: string }) => Promise<{ items: T[]; nextCursor?: string | null }>,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  // bounded by the data: each page moves the cursor strictly past the last one
  for (;;) {
    const page = await fetchPage(cursor ? { cursor } : {});
    items.push(...page.items);
    if (!page.nextCursor || page.nextCursor === cursor) return items;
    cursor = page.nextCursor;
  }
}
