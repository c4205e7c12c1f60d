import type { Queryable } from '../db/db.js';

// Application-wide advisory lock keys: one constant per purpose, so two purposes never share a lock.
const BOOTSTRAP_LOCK_KEY = 7_231_001;

/**
 * Takes the start-up bootstrap lock until the surrounding transaction ends, so replicas starting at once
 * run bootstrap one after the other and the second sees what the first created.
 */
export async function lockBootstrap(tx: Queryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [BOOTSTRAP_LOCK_KEY]);
}
