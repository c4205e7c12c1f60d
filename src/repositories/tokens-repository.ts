import type { Queryable } from '../db/db.js';

export interface AccessTokenRecord {
  jti: string;
  grantId: string | null;
  clientId: string;
  userId: string | null;
  scope: string;
  expiresAt: Date;
}

export interface RefreshTokenRecord {
  grantId: string;
  clientId: string;
  userId: string;
  scope: string;
  expiresAt: Date;
  rotatedAt: Date | null;
  revokedAt: Date | null;
}

export async function insertAccessToken(db: Queryable, token: AccessTokenRecord): Promise<void> {
  await db.query(
    `INSERT INTO access_tokens (jti, grant_id, client_id, user_id, scope, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
    [token.jti, token.grantId, token.clientId, token.userId, token.scope, token.expiresAt],
  );
}

/**
 * The one lookup behind every check of an access token (userinfo, admin API; later introspection and
 * revocation): live only while not revoked, not expired, and its client, user and grant are still active.
 */
export async function findLiveAccessToken(db: Queryable, jti: string): Promise<AccessTokenRecord | undefined> {
  const { rows } = await db.query<AccessTokenRecord>(
    `SELECT t.jti, t.grant_id AS "grantId", t.client_id AS "clientId", t.user_id AS "userId", t.scope, t.expires_at AS "expiresAt"
     FROM access_tokens t
     JOIN clients c ON c.client_id = t.client_id AND c.is_active
     LEFT JOIN users u ON u.id = t.user_id
     LEFT JOIN grants g ON g.id = t.grant_id
     WHERE t.jti = $1 AND t.revoked_at IS NULL AND t.expires_at > now()
       AND (t.user_id IS NULL OR u.is_active) AND (t.grant_id IS NULL OR g.revoked_at IS NULL)`,
    [jti],
  );
  return rows[0];
}

export async function insertRefreshToken(
  db: Queryable,
  token: Omit<RefreshTokenRecord, 'rotatedAt' | 'revokedAt'> & { tokenHash: string },
): Promise<void> {
  await db.query(
    `INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scope, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
    [token.tokenHash, token.grantId, token.clientId, token.userId, token.scope, token.expiresAt],
  );
}

/** Locks the refresh token row for the rest of the transaction, so concurrent rotations serialize. */
export async function findRefreshTokenForUpdate(db: Queryable, tokenHash: string): Promise<RefreshTokenRecord | undefined> {
  const { rows } = await db.query<RefreshTokenRecord>(
    `SELECT grant_id AS "grantId", client_id AS "clientId", user_id AS "userId", scope, expires_at AS "expiresAt",
            rotated_at AS "rotatedAt", revoked_at AS "revokedAt"
     FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
    [tokenHash],
  );
  return rows[0];
}

export async function markRefreshTokenRotated(db: Queryable, tokenHash: string): Promise<void> {
  await db.query('UPDATE refresh_tokens SET rotated_at = now() WHERE token_hash = $1', [tokenHash]);
}
