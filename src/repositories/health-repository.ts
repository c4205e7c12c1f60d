import type { Queryable } from '../db/db.js';

export async function pingDatabase(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}
