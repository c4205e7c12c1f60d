import type { Queryable } from '../db/db.js';
import type { Grant } from './grants-repository.js';

export interface AuthorizationCode {
  grantId: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string | null;
  codeChallengeMethod: string | null;
  expiresAt: Date;
  /** RFC 9449 section 10: the dpop_jkt of the authorization request; the exchange's proof must match it. */
  dpopJkt?: string | null;
}

export async function insertAuthorizationCode(
  db: Queryable,
  code: AuthorizationCode & { codeHash: string },
): Promise<void> {
  await db.query(
    `INSERT INTO authorization_codes (code_hash, grant_id, client_id, redirect_uri, code_challenge, code_challenge_method, expires_at, dpop_jkt)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [code.codeHash, code.grantId, code.clientId, code.redirectUri, code.codeChallenge, code.codeChallengeMethod, code.expiresAt, code.dpopJkt ?? null],
  );
}

/** A consumed code's grant, with whether its user is still active. */
export type CodeGrant = Grant & { userActive: boolean };

export type ConsumeResult =
  | { outcome: 'consumed'; code: AuthorizationCode; grant: CodeGrant }
  | { outcome: 'replayed'; grantId: string }
  | { outcome: 'unknown' };

/**
 * Marks the code used in one atomic UPDATE, so two concurrent exchanges cannot both succeed, and returns
 * its grant and the grant's user status from the same statement. A code is bound to its client: another
 * client's attempt neither uses it up nor learns anything. A code that its client already used reports
 * its grant, so the caller can revoke what the first use issued.
 */
export async function consumeAuthorizationCode(db: Queryable, codeHash: string, clientId: string): Promise<ConsumeResult> {
  const { rows } = await db.query<AuthorizationCode & { grant: CodeGrant }>(
    `UPDATE authorization_codes c SET consumed_at = now()
     FROM grants g LEFT JOIN users u ON u.id = g.user_id
     WHERE c.code_hash = $1 AND c.client_id = $2 AND c.consumed_at IS NULL AND g.id = c.grant_id
     RETURNING c.grant_id AS "grantId", c.client_id AS "clientId", c.redirect_uri AS "redirectUri",
               c.code_challenge AS "codeChallenge", c.code_challenge_method AS "codeChallengeMethod", c.expires_at AS "expiresAt",
               c.dpop_jkt AS "dpopJkt",
               json_build_object('id', g.id, 'clientId', g.client_id, 'userId', g.user_id, 'scope', g.scope, 'resources', g.resources,
                 'authTime', g.auth_time, 'sid', g.sid, 'nonce', g.nonce, 'revokedAt', g.revoked_at, 'amr', g.amr, 'acr', g.acr,
                 'userActive', coalesce(u.is_active, false)) AS grant`,
    [codeHash, clientId],
  );
  const row = rows[0];
  if (row) {
    const { grant, ...code } = row;
    const revived = { ...grant, authTime: new Date(grant.authTime), revokedAt: grant.revokedAt === null ? null : new Date(grant.revokedAt) };
    return { outcome: 'consumed', code, grant: revived };
  }
  const used = await db.query<{ grantId: string }>(
    'SELECT grant_id AS "grantId" FROM authorization_codes WHERE code_hash = $1 AND client_id = $2',
    [codeHash, clientId],
  );
  return used.rows[0] ? { outcome: 'replayed', grantId: used.rows[0].grantId } : { outcome: 'unknown' };
}

/** What an exchange in one statement read about the code's grant. */
export interface ExchangedCode {
  grantId: string;
  userId: string;
  scope: string;
  authTime: Date;
  sid: string | null;
  nonce: string | null;
  amr: string[] | null;
  acr: string | null;
  refreshTokenIssued: boolean;
}

/**
 * The common code exchange in one statement, one round trip instead of two: uses the code up only if it is
 * unused, unexpired, bound to `clientId` and `redirectUri`, its S256 challenge equals `challenge` (computed
 * from the verifier), its grant is not revoked, names no resources (RFC 8707: those tokens are narrowed per
 * resource, on the other path) and its user is active; then writes the access token and,
 * when the client may refresh and the grant has offline_access, the refresh token. Anything else uses
 * nothing up and returns undefined: the caller takes consumeAuthorizationCode's path, which uses the code
 * up and reports. The challenge is compared by the database, not in constant time: a code's first attempt
 * either succeeds here or uses it up there, so there is no second guess to time.
 */
export async function exchangeLiveAuthorizationCode(
  db: Queryable,
  input: {
    codeHash: string;
    clientId: string;
    redirectUri: string;
    challenge: string;
    access: { jti: string; issuedAt: Date; expiresAt: Date };
    /** Null when the client may not use refresh tokens; dpopJkt: the key it is bound to (public clients). */
    refresh: { hash: string; expiresAt: Date; dpopJkt?: string | null } | null;
    /** RFC 9449: the request's DPoP key; the access token is bound to it, and a code bound by dpop_jkt needs it. */
    dpopJkt?: string | null;
  },
): Promise<ExchangedCode | undefined> {
  const { access, refresh } = input;
  const { rows } = await db.query<ExchangedCode>(
    `WITH used AS (
       UPDATE authorization_codes c SET consumed_at = now()
       FROM grants g, users u
       WHERE c.code_hash = $1 AND c.client_id = $2 AND c.consumed_at IS NULL AND c.expires_at > now()
         AND c.redirect_uri = $3 AND c.code_challenge = $4 AND (c.dpop_jkt IS NULL OR c.dpop_jkt = $10::text)
         AND g.id = c.grant_id AND g.revoked_at IS NULL AND g.resources = '{}' AND u.id = g.user_id AND u.is_active
       RETURNING g.id, g.user_id, g.scope, g.auth_time, g.sid, g.nonce, g.amr, g.acr,
                 ($8::text IS NOT NULL AND 'offline_access' = ANY (string_to_array(g.scope, ' '))) AS refresh
     ), access AS (
       INSERT INTO access_tokens (jti, grant_id, client_id, user_id, scope, created_at, expires_at, dpop_jkt)
       SELECT $5, id, $2, user_id, scope, $6, $7, $10::text FROM used
     ), refresh AS (
       INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scope, expires_at, created_at, dpop_jkt)
       SELECT $8, id, $2, user_id, scope, $9, $6, $11::text FROM used WHERE refresh
     )
     SELECT id AS "grantId", user_id AS "userId", scope, auth_time AS "authTime", sid, nonce, amr, acr,
            refresh AS "refreshTokenIssued" FROM used`,
    [
      input.codeHash,
      input.clientId,
      input.redirectUri,
      input.challenge,
      access.jti,
      access.issuedAt,
      access.expiresAt,
      refresh?.hash ?? null,
      refresh?.expiresAt ?? null,
      input.dpopJkt ?? null,
      refresh?.dpopJkt ?? null,
    ],
  );
  return rows[0];
}
