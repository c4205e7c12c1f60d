import type { Queryable } from '../db/db.js';

/** Lifecycle states (src/tokens/key-lifecycle.ts); only next, active and retiring are published. */
export type SigningKeyStatus = 'next' | 'active' | 'retiring' | 'retired' | 'revoked';

export interface SigningKeyRow {
  kid: string;
  alg: string;
  publicJwk: Record<string, unknown>;
  privateJwk: string;
  privateJwkEncrypted: boolean;
  status: SigningKeyStatus;
  createdAt: Date;
  activatedAt: Date | null;
  deactivatedAt: Date | null;
  retiredAt: Date | null;
}

export type NewSigningKey = Pick<SigningKeyRow, 'kid' | 'alg' | 'publicJwk' | 'privateJwk' | 'privateJwkEncrypted'>;

const COLUMNS = `kid, alg, public_jwk AS "publicJwk", private_jwk AS "privateJwk",
  private_jwk_encrypted AS "privateJwkEncrypted", status, created_at AS "createdAt",
  activated_at AS "activatedAt", deactivated_at AS "deactivatedAt", retired_at AS "retiredAt"`;

/** Every key, newest first. */
export async function listSigningKeys(db: Queryable): Promise<SigningKeyRow[]> {
  const { rows } = await db.query<SigningKeyRow>(`SELECT ${COLUMNS} FROM signing_keys ORDER BY created_at DESC, kid`);
  return rows;
}

/** The keys that are published (next, active, retiring): the only ones a replica loads. */
export async function listPublishedSigningKeys(db: Queryable): Promise<SigningKeyRow[]> {
  const { rows } = await db.query<SigningKeyRow>(
    `SELECT ${COLUMNS} FROM signing_keys WHERE status IN ('next', 'active', 'retiring') ORDER BY created_at DESC, kid`,
  );
  return rows;
}

/** A new key: `next` (published before it signs) or `active` (the first key of an algorithm, or an emergency). */
export async function insertSigningKey(db: Queryable, key: NewSigningKey, status: 'next' | 'active', at: Date): Promise<void> {
  await db.query(
    `INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk, private_jwk_encrypted, status, created_at, activated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $6 = 'active' THEN $7::timestamptz END)`,
    [key.kid, key.alg, JSON.stringify(key.publicJwk), key.privateJwk, key.privateJwkEncrypted, status, at],
  );
}

/** next -> active. */
export async function activateSigningKey(db: Queryable, kid: string, at: Date): Promise<void> {
  await db.query(`UPDATE signing_keys SET status = 'active', activated_at = $2 WHERE kid = $1 AND status = 'next'`, [kid, at]);
}

/** active -> retiring: stops signing, stays published. */
export async function deactivateSigningKey(db: Queryable, kid: string, at: Date): Promise<void> {
  await db.query(`UPDATE signing_keys SET status = 'retiring', deactivated_at = $2 WHERE kid = $1 AND status = 'active'`, [kid, at]);
}

/** next or retiring -> retired: unpublished. */
export async function retireSigningKey(db: Queryable, kid: string, at: Date): Promise<void> {
  await db.query(`UPDATE signing_keys SET status = 'retired', retired_at = $2 WHERE kid = $1 AND status IN ('next', 'retiring')`, [kid, at]);
}

/** Any published key -> revoked: unpublished at once. */
export async function revokeSigningKey(db: Queryable, kid: string, at: Date): Promise<void> {
  await db.query(
    `UPDATE signing_keys SET status = 'revoked', deactivated_at = COALESCE(deactivated_at, $2), retired_at = $2
     WHERE kid = $1 AND status IN ('next', 'active', 'retiring')`,
    [kid, at],
  );
}

/** Rewrites a key's private member (a v1 or plaintext envelope upgraded to v2). */
export async function updateSigningKeyPrivateJwk(db: Queryable, kid: string, privateJwk: string, encrypted: boolean): Promise<void> {
  await db.query(`UPDATE signing_keys SET private_jwk = $2, private_jwk_encrypted = $3 WHERE kid = $1`, [kid, privateJwk, encrypted]);
}

/** Serializes key creation and state changes across replicas for the rest of the transaction. */
export async function lockSigningKeys(tx: Queryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('authly.signing_keys'))`);
}

/**
 * Revokes the live JWT access tokens issued in [from, to]: those a revoked key may have signed. Access
 * tokens record no kid; every JWT access token is signed by the one active key of JWT_ALGORITHM, so the
 * key's active window names them (opaque tokens, jti `sha256:…`, are not signed and are left alone).
 */
export async function revokeJwtAccessTokensIssuedBetween(db: Queryable, from: Date, to: Date, now: Date): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE access_tokens SET revoked_at = $3
     WHERE revoked_at IS NULL AND expires_at > $3 AND created_at >= $1 AND created_at <= $2 AND jti NOT LIKE 'sha256:%'`,
    [from, to, now],
  );
  return rowCount;
}
