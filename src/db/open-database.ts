import path from 'node:path';
import type { Config } from '../config/config.js';
import type { Db } from './db.js';
import { openPglite } from './pglite-driver.js';
import { openPostgres } from './postgres-driver.js';

/** DATABASE_URL selects a node-postgres pool; without it Authly embeds PGlite under AUTHLY_DATA_DIR. */
export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'databasePoolMax' | 'dataDir'>): Promise<Db> {
  if (config.databaseUrl) return openPostgres({ url: config.databaseUrl, max: config.databasePoolMax });
  return openPglite(path.join(config.dataDir, 'pglite'));
}
