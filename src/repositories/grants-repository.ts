import type { Queryable } from '../db/db.js';

export interface Grant {
  id: string;
  clientId: string;
  userId: string;
  scope: string;
  authTime: Date;
  sid: string | null;
  nonce: string | null;
  revokedAt: Date | null;
}

export async function insertGrant(db: Queryable, grant: Omit<Grant, 'id' | 'revokedAt'>): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO grants (client_id, user_id, scope, auth_time, sid, nonce) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [grant.clientId, grant.userId, grant.scope, grant.authTime, grant.sid, grant.nonce],
  );
  return rows[0]!.id;
}

export async function findGrant(db: Queryable, id: string): Promise<Grant | undefined> {
  const { rows } = await db.query<Grant>(
    `SELECT id, client_id AS "clientId", user_id AS "userId", scope, auth_time AS "authTime", sid, nonce,
            revoked_at AS "revokedAt" FROM grants WHERE id = $1`,
    [id],
  );
  return rows[0];
}

/** Revokes a grant and every token issued under it (RFC 6749 section 4.1.2, RFC 9700 section 4.14.2). */
export async function revokeGrant(db: Queryable, grantId: string): Promise<void> {
  await db.query('UPDATE grants SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [grantId]);
  await db.query('UPDATE access_tokens SET revoked_at = now() WHERE grant_id = $1 AND revoked_at IS NULL', [grantId]);
  await db.query('UPDATE refresh_tokens SET revoked_at = now() WHERE grant_id = $1 AND revoked_at IS NULL', [grantId]);
}
