import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { StorageUnavailable } from '../errors/storage-errors.js';
import type { Db, Queryable, QueryResult } from './db.js';

type PGliteExecutor = Pick<PGlite, 'query' | 'exec'>;

/**
 * PGlite's SQL errors carry their SQLSTATE like PostgreSQL's (classified by storageFault); a closed
 * instance (the app shutting down around a request) throws a plain Error, turned here into the typed one.
 */
function normalized(err: unknown): unknown {
  return err instanceof Error && err.message === 'PGlite is closed' ? new StorageUnavailable('the embedded database is closed', { cause: err }) : err;
}

/**
 * PGlite's parameterized query() takes exactly one statement, while migration files hold many:
 * parameterless SQL goes through exec(), which runs them all and returns the last result.
 */
function wrap(executor: PGliteExecutor): Queryable {
  return {
    async query<T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
      try {
        return await run<T>(sql, params);
      } catch (err) {
        throw normalized(err);
      }
    },
  };

  async function run<T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
    if (!params || params.length === 0) {
      const results = await executor.exec(sql);
      const last = results[results.length - 1];
      return { rows: (last?.rows ?? []) as T[], rowCount: last?.affectedRows || last?.rows.length || 0 };
    }
    const result = await executor.query<T>(sql, params as unknown[]);
    // PGlite reports affectedRows 0 for a SELECT where node-postgres reports the row count.
    return { rows: result.rows, rowCount: result.affectedRows || result.rows.length };
  }
}

/** Embedded PostgreSQL. `dataDir` undefined means in memory (tests). */
export async function openPglite(dataDir?: string): Promise<Db> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir ?? 'memory://');
  const base = wrap(pglite);
  return {
    kind: 'pglite',
    description: dataDir ? `embedded PGlite in ${dataDir}` : 'embedded PGlite in memory',
    query: base.query,
    transaction: (fn) =>
      pglite.transaction((tx) => fn(wrap(tx))).catch((err: unknown) => {
        throw normalized(err);
      }),
    withConnection: (fn) => fn(base),
    poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
    close: () => pglite.close(),
  };
}
