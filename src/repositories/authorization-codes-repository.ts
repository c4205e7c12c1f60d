import type { Queryable } from '../db/db.js';

export interface AuthorizationCode {
  grantId: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string | null;
  codeChallengeMethod: string | null;
  expiresAt: Date;
}

export async function insertAuthorizationCode(
  db: Queryable,
  code: AuthorizationCode & { codeHash: string },
): Promise<void> {
  await db.query(
    `INSERT INTO authorization_codes (code_hash, grant_id, client_id, redirect_uri, code_challenge, code_challenge_method, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [code.codeHash, code.grantId, code.clientId, code.redirectUri, code.codeChallenge, code.codeChallengeMethod, code.expiresAt],
  );
}

export type ConsumeResult =
  | { outcome: 'consumed'; code: AuthorizationCode }
  | { outcome: 'replayed'; grantId: string }
  | { outcome: 'unknown' };

/**
 * Marks the code used in one atomic UPDATE, so two concurrent exchanges cannot both succeed. A code is
 * bound to its client: another client's attempt neither uses it up nor learns anything. A code that
 * its client already used reports its grant, so the caller can revoke what the first use issued.
 */
export async function consumeAuthorizationCode(db: Queryable, codeHash: string, clientId: string): Promise<ConsumeResult> {
  const { rows } = await db.query<AuthorizationCode>(
    `UPDATE authorization_codes SET consumed_at = now()
     WHERE code_hash = $1 AND client_id = $2 AND consumed_at IS NULL
     RETURNING grant_id AS "grantId", client_id AS "clientId", redirect_uri AS "redirectUri",
               code_challenge AS "codeChallenge", code_challenge_method AS "codeChallengeMethod", expires_at AS "expiresAt"`,
    [codeHash, clientId],
  );
  if (rows[0]) return { outcome: 'consumed', code: rows[0] };
  const used = await db.query<{ grantId: string }>(
    'SELECT grant_id AS "grantId" FROM authorization_codes WHERE code_hash = $1 AND client_id = $2',
    [codeHash, clientId],
  );
  return used.rows[0] ? { outcome: 'replayed', grantId: used.rows[0].grantId } : { outcome: 'unknown' };
}
