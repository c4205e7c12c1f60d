import path from 'node:path';
import type { Config } from '../config/config.js';
import { lockDataDir } from './data-dir-lock.js';
import type { Db } from './db.js';
import { openPglite } from './pglite-driver.js';
import { openPostgres } from './postgres-driver.js';

/**
 * DATABASE_URL selects a node-postgres pool; without it Authly embeds PGlite under AUTHLY_DATA_DIR, which
 * one process at a time may open (src/db/data-dir-lock.ts): the lock is taken first and released on close.
 */
export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'databasePoolMax' | 'dataDir'>): Promise<Db> {
  if (config.databaseUrl) return openPostgres({ url: config.databaseUrl, max: config.databasePoolMax });
  const lock = lockDataDir(config.dataDir);
  let db: Db;
  try {
    db = await openPglite(path.join(config.dataDir, 'pglite'));
  } catch (err) {
    lock.release();
    throw err;
  }
  return {
    ...db,
    close: async () => {
      try {
        await db.close();
      } finally {
        lock.release();
      }
    },
  };
}
