import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Db } from './db.js';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

export interface MigrateOptions {
  /** Schema holding the tables and the migrations table (tests use one per file). */
  schema?: string;
  log?: (message: string) => void;
}

/**
 * Applies pending migrations from migrations/ with node-pg-migrate on one connection. node-pg-migrate
 * takes an advisory lock, so replicas starting at once apply each migration exactly once.
 */
export async function migrate(db: Db, options: MigrateOptions = {}): Promise<string[]> {
  const schema = options.schema ?? 'public';
  const applied = await db.withConnection((conn) =>
    runner({
      // node-pg-migrate only calls query() on a client it was handed.
      dbClient: conn as never,
      dir: MIGRATIONS_DIR,
      direction: 'up',
      migrationsTable: 'pgmigrations',
      schema,
      createSchema: schema !== 'public',
      checkOrder: true,
      singleTransaction: true,
      advisoryLockMode: 'wait',
      log: options.log ?? (() => {}),
    }),
  );
  return applied.map((m) => m.name);
}
