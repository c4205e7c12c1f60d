import type { Queryable } from '../db/db.js';
import { InvalidCursor } from '../errors/admin-errors.js';
import { fitsKeyShape, type KeyPart, type PageKey } from '../lib/page-key.js';

/** One keyset page: its items and the key to continue after, or null on the last page. */
export interface KeysetPage<T> {
  items: T[];
  next: PageKey | null;
}

/** One column of a list's sort key, and what kind of value it holds. */
export interface KeyColumn {
  sql: string;
  part: KeyPart;
}

const CAST: Record<KeyPart, string> = { timestamp: 'timestamptz', uuid: 'uuid', text: 'text' };

/**
 * A timestamp with its microseconds, in UTC: a JS Date keeps milliseconds only, and a key cut to them would
 * skip or repeat rows created within one millisecond (every row of a transaction shares its now()).
 */
const keyText = (column: KeyColumn) =>
  column.part === 'timestamp' ? `to_char(${column.sql} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')` : `${column.sql}::text`;

/**
 * One page of `SELECT columns FROM from WHERE where…` in the order of `key` (unique, ending in a primary
 * key), starting after `after`: `WHERE (k1, k2) < ($a, $b) ORDER BY k1 DESC, k2 DESC LIMIT n + 1`. The row
 * comparison walks an index on the key columns (after any equality columns of `where`) from the position
 * on, so a deep page costs what the first does, and rows inserted meanwhile neither shift nor repeat items.
 * The extra row only tells whether a next page exists. `where` uses $1…$n for `params`.
 */
export async function keysetPage<T extends object>(
  db: Queryable,
  list: {
    columns: string;
    from: string;
    where?: readonly string[];
    params?: readonly unknown[];
    key: readonly KeyColumn[];
    order: 'asc' | 'desc';
  },
  page: { limit: number; cursor?: PageKey | undefined },
): Promise<KeysetPage<T>> {
  const params: unknown[] = [...(list.params ?? [])];
  const where = [...(list.where ?? [])];
  if (page.cursor !== undefined) {
    if (!fitsKeyShape(list.key.map((k) => k.part), page.cursor)) throw new InvalidCursor();
    const placeholders = list.key.map((k, i) => `$${params.length + i + 1}::${CAST[k.part]}`);
    params.push(...page.cursor);
    where.push(`(${list.key.map((k) => k.sql).join(', ')}) ${list.order === 'desc' ? '<' : '>'} (${placeholders.join(', ')})`);
  }
  params.push(page.limit + 1);
  const keyColumns = list.key.map((k, i) => `${keyText(k)} AS "pageKey${i}"`);
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT ${list.columns}, ${keyColumns.join(', ')} FROM ${list.from}
     ${where.length > 0 ? `WHERE ${where.map((w) => `(${w})`).join(' AND ')}` : ''}
     ORDER BY ${list.key.map((k) => `${k.sql} ${list.order.toUpperCase()}`).join(', ')} LIMIT $${params.length}`,
    params,
  );
  const keys = rows.map((row) => list.key.map((_, i) => String(row[`pageKey${i}`])));
  const items = rows.slice(0, page.limit).map((row) => {
    const item = { ...row };
    list.key.forEach((_, i) => delete item[`pageKey${i}`]);
    return item as T;
  });
  return { items, next: rows.length > page.limit ? keys[page.limit - 1]! : null };
}

/** An ILIKE pattern matching `text` anywhere, its own % _ and \ taken literally. */
export const containing = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
