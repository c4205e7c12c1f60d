import type { Queryable } from '../db/db.js';
import { batchedStatement } from './batched-statements.js';

interface UsedJti {
  namespace: string;
  jtiHash: string;
  expiresAt: Date;
}

/**
 * Concurrent first uses share one multi-row INSERT, so one commit (one WAL flush) for every proof or
 * assertion that arrived meanwhile (batched-statements.ts), as access tokens do: a DPoP client pays no
 * commit of its own on the token endpoint. One statement may not touch a row twice (ON CONFLICT DO
 * UPDATE), so an identifier repeated within a batch is sent once, and its later copies are replays.
 */
const recordUsedJtis = batchedStatement(async (db: Queryable, items: UsedJti[]): Promise<boolean[]> => {
  const key = (item: Pick<UsedJti, 'namespace' | 'jtiHash'>) => `${item.namespace}\u0000${item.jtiHash}`;
  const first = new Map<string, UsedJti>();
  for (const item of items) if (!first.has(key(item))) first.set(key(item), item);
  const unique = [...first.values()];
  const { rows } = await db.query<{ namespace: string; jtiHash: string }>(
    `INSERT INTO used_jtis (namespace, jti_hash, expires_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
     ON CONFLICT (namespace, jti_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at
       WHERE used_jtis.expires_at <= now()
     RETURNING namespace, jti_hash AS "jtiHash"`,
    [unique.map((i) => i.namespace), unique.map((i) => i.jtiHash), unique.map((i) => i.expiresAt)],
  );
  const won = new Set(rows.map(key));
  const answered = new Set<string>();
  return items.map((item) => {
    const k = key(item);
    if (answered.has(k)) return false;
    answered.add(k);
    return won.has(k);
  });
});

/**
 * Records a one-time identifier; true when this call is its first use. A row whose time has passed may be
 * taken again (the cleanup job may not have removed it yet), so the answer never depends on cleanup.
 */
export async function recordUsedJti(db: Queryable, namespace: string, jtiHash: string, expiresAt: Date): Promise<boolean> {
  return recordUsedJtis(db, { namespace, jtiHash, expiresAt });
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
