import type { Db, Queryable } from './db.js';

/**
 * A Db whose every statement runs in the open transaction `tx`, so that a service written against
 * `ctx.db` takes part in a caller's transaction unchanged (the audit trail stores an admin change and its
 * event together, src/services/audit-trail.ts). A nested `transaction()` becomes a savepoint: it rolls
 * back alone when its function throws, as a real transaction would, and commits only with the outer one.
 * `withConnection` is the transaction's connection; closing is the owner's business.
 */
export function transactionScope(base: Pick<Db, 'kind' | 'description' | 'poolStats'>, tx: Queryable): Db {
  let savepoints = 0;
  const scope: Db = {
    kind: base.kind,
    description: base.description,
    query: (sql, params) => tx.query(sql, params),
    async transaction(fn) {
      const name = `authly_sp_${++savepoints}`;
      await tx.query(`SAVEPOINT ${name}`);
      try {
        const result = await fn(tx);
        await tx.query(`RELEASE SAVEPOINT ${name}`);
        return result;
      } catch (err) {
        await tx.query(`ROLLBACK TO SAVEPOINT ${name}`);
        throw err;
      }
    },
    withConnection: (fn) => fn(tx),
    poolStats: () => base.poolStats(),
    close: () => Promise.reject(new Error('a transaction scope is closed by its owner')),
  };
  return scope;
}
