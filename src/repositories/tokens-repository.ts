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

/** A live access token with what introspection reports about its user. */
export interface LiveAccessTokenRecord extends AccessTokenRecord {
  username: string | null;
}

/**
 * The one lookup behind every check of an access token (userinfo, admin API, introspection): live only
 * while not revoked, not expired, and its client, user and grant are still active.
 */
export async function findLiveAccessToken(db: Queryable, jti: string): Promise<LiveAccessTokenRecord | undefined> {
  const { rows } = await db.query<LiveAccessTokenRecord>(
    `SELECT t.jti, t.grant_id AS "grantId", t.client_id AS "clientId", t.user_id AS "userId", t.scope, t.expires_at AS "expiresAt",
            u.username
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

/**
 * Revokes one access token, only if it belongs to `clientId` (RFC 7009 section 2.1: a client may revoke
 * only its own tokens). True when a live row of that client was revoked.
 */
export async function revokeAccessTokenOfClient(db: Queryable, jti: string, clientId: string): Promise<boolean> {
  const { rows } = await db.query(
    'UPDATE access_tokens SET revoked_at = now() WHERE jti = $1 AND client_id = $2 AND revoked_at IS NULL RETURNING jti',
    [jti, clientId],
  );
  return rows.length > 0;
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

/** A refresh token in any state (live, rotated, revoked or expired), found by its hash. */
export async function findRefreshToken(db: Queryable, tokenHash: string): Promise<RefreshTokenRecord | undefined> {
  const { rows } = await db.query<RefreshTokenRecord>(
    `SELECT grant_id AS "grantId", client_id AS "clientId", user_id AS "userId", scope, expires_at AS "expiresAt",
            rotated_at AS "rotatedAt", revoked_at AS "revokedAt"
     FROM refresh_tokens WHERE token_hash = $1`,
    [tokenHash],
  );
  return rows[0];
}

export interface LiveRefreshTokenRecord {
  grantId: string;
  clientId: string;
  userId: string;
  username: string;
  scope: string;
  expiresAt: Date;
  createdAt: Date;
}

/**
 * The refresh-token counterpart of findLiveAccessToken (introspection): live only while not rotated, not
 * revoked, not expired, and its client, user and grant are still active.
 */
export async function findLiveRefreshToken(db: Queryable, tokenHash: string): Promise<LiveRefreshTokenRecord | undefined> {
  const { rows } = await db.query<LiveRefreshTokenRecord>(
    `SELECT t.grant_id AS "grantId", t.client_id AS "clientId", t.user_id AS "userId", u.username, t.scope,
            t.expires_at AS "expiresAt", t.created_at AS "createdAt"
     FROM refresh_tokens t
     JOIN clients c ON c.client_id = t.client_id AND c.is_active
     JOIN users u ON u.id = t.user_id AND u.is_active
     JOIN grants g ON g.id = t.grant_id AND g.revoked_at IS NULL
     WHERE t.token_hash = $1 AND t.rotated_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > now()`,
    [tokenHash],
  );
  return rows[0];
}
