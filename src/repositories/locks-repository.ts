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

const CLEANUP_LOCK_KEY = 7_231_002;

/**
 * Tries the cleanup lock for the session of `conn` without waiting: true when this connection now holds
 * it. Only one replica cleans at a time; the others skip their turn instead of queueing behind it.
 */
export async function tryLockCleanup(conn: Queryable): Promise<boolean> {
  const { rows } = await conn.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [CLEANUP_LOCK_KEY]);
  return rows[0]?.locked === true;
}

export async function unlockCleanup(conn: Queryable): Promise<void> {
  await conn.query('SELECT pg_advisory_unlock($1::bigint)', [CLEANUP_LOCK_KEY]);
}
