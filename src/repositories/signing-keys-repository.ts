import type { Queryable } from '../db/db.js';

export interface SigningKeyRow {
  kid: string;
  alg: string;
  publicJwk: Record<string, unknown>;
  privateJwk: string;
  privateJwkEncrypted: boolean;
  status: 'active' | 'retired';
  createdAt: Date;
}

export async function listSigningKeys(db: Queryable): Promise<SigningKeyRow[]> {
  const { rows } = await db.query<SigningKeyRow>(
    `SELECT kid, alg, public_jwk AS "publicJwk", private_jwk AS "privateJwk",
            private_jwk_encrypted AS "privateJwkEncrypted", status, created_at AS "createdAt"
     FROM signing_keys ORDER BY created_at DESC, kid`,
  );
  return rows;
}

export async function insertSigningKey(db: Queryable, key: Omit<SigningKeyRow, 'status' | 'createdAt'>): Promise<void> {
  await db.query(
    `INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk, private_jwk_encrypted) VALUES ($1, $2, $3, $4, $5)`,
    [key.kid, key.alg, JSON.stringify(key.publicJwk), key.privateJwk, key.privateJwkEncrypted],
  );
}

/** Serializes key creation across replicas for the rest of the transaction. */
export async function lockSigningKeys(tx: Queryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('authly.signing_keys'))`);
}
