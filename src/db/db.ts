/** The database seen by repositories: node-postgres and PGlite both implement it with the same SQL. */
export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** A human description for the start-up banner (no password). */
  readonly description: string;
  /** Runs fn in one transaction on one connection; rolls back if fn throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs fn on one dedicated connection (session state such as SET or advisory locks stays on it). */
  withConnection<T>(fn: (conn: Queryable) => Promise<T>): Promise<T>;
  /** Pool statistics for metrics; PGlite has a single in-process connection. */
  poolStats(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}
