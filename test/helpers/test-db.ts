import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/db/db.js';
import { migrate } from '../../src/db/migrate.js';
import { openPglite } from '../../src/db/pglite-driver.js';
import { openPostgres } from '../../src/db/postgres-driver.js';

/** Which driver this run uses: TEST_DATABASE_URL selects real PostgreSQL, otherwise embedded PGlite. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;

export interface TestDb {
  db: Db;
  /** The schema (PostgreSQL) this test file owns; undefined on PGlite. */
  schema: string | undefined;
  url: string | undefined;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database for one test file. On PostgreSQL each file gets its own schema, so files
 * running in parallel never share state; on PGlite each gets its own in-memory instance.
 */
export async function createTestDb(): Promise<TestDb> {
  if (!TEST_DATABASE_URL) {
    const db = await openPglite();
    await migrate(db);
    return { db, schema: undefined, url: undefined, drop: () => db.close() };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const db = openPostgres({ url: TEST_DATABASE_URL, max: 10, searchPath: schema });
  await migrate(db, { schema });
  return {
    db,
    schema,
    url: TEST_DATABASE_URL,
    async drop() {
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await db.close();
    },
  };
}
