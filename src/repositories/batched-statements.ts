import type { Queryable } from '../db/db.js';
import { Batcher } from '../lib/batcher.js';

/**
 * A statement that runs for many callers at once when they share the pool: concurrent token requests
 * become one multi-row INSERT (one commit) or one `= ANY($1)` SELECT, instead of a round trip each
 * (src/lib/batcher.ts). Inside a transaction (a Queryable without `transaction`) there is nothing to share
 * with, and the statement runs for the one item at once, on that transaction's connection.
 * `run` returns one result per item, in order.
 */
export function batchedStatement<I, O>(run: (db: Queryable, items: I[]) => Promise<O[]>): (db: Queryable, item: I) => Promise<O> {
  const batchers = new WeakMap<Queryable, Batcher<I, O>>();
  return (db, item) => {
    if (!('transaction' in db)) return run(db, [item]).then((results) => results[0]!);
    let batcher = batchers.get(db);
    if (!batcher) batchers.set(db, (batcher = new Batcher<I, O>((items) => run(db, items))));
    return batcher.add(item);
  };
}
