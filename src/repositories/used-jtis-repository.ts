import type { Queryable } from '../db/db.js';

/**
 * Records a one-time identifier; true when this call is its first use. A row whose time has passed may be
 * taken again (the cleanup job may not have removed it yet), so the answer never depends on cleanup.
 */
export async function recordUsedJti(db: Queryable, namespace: string, jtiHash: string, expiresAt: Date): Promise<boolean> {
  const result = await db.query(
    `INSERT INTO used_jtis (namespace, jti_hash, expires_at) VALUES ($1, $2, $3)
     ON CONFLICT (namespace, jti_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at
       WHERE used_jtis.expires_at <= now()`,
    [namespace, jtiHash, expiresAt],
  );
  return result.rowCount === 1;
}

/** Identifiers past their time: a replay of them is refused by their token's own expiry. */
export async function deleteExpiredUsedJtis(db: Queryable, batch: number): Promise<number> {
  const result = await db.query(
    `DELETE FROM used_jtis WHERE (namespace, jti_hash) IN
       (SELECT namespace, jti_hash FROM used_jtis WHERE expires_at < now() LIMIT $1)`,
    [batch],
  );
  return result.rowCount;
}
