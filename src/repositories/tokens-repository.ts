import type { Queryable } from '../db/db.js';
import { batchedStatement } from './batched-statements.js';
import { prefixedUserReader, userSelectList } from './users-repository.js';

export interface AccessTokenRecord {
  jti: string;
  grantId: string | null;
  clientId: string;
  userId: string | null;
  scope: string;
  /** The resource identifiers it is for (its aud), space-separated; null or absent: the issuer. */
  audience?: string | null;
  issuedAt: Date;
  expiresAt: Date;
  /** RFC 9449: the thumbprint of the DPoP key the token is bound to; null or absent: a Bearer token. */
  dpopJkt?: string | null;
}

export interface RefreshTokenRecord {
  grantId: string;
  clientId: string;
  userId: string;
  scope: string;
  /** The resources granted (RFC 8707): a refresh may ask for one of them, never another. */
  resources: string[];
  expiresAt: Date;
  rotatedAt: Date | null;
  revokedAt: Date | null;
  /** RFC 9449 section 5: a public client's refresh token is bound to its DPoP key; null: not bound. */
  dpopJkt: string | null;
}

/**
 * Records an access token by jti. On the pool, concurrent issues share one multi-row INSERT: one commit
 * (one WAL flush) for all of them, each caller answered only after it (batched-statements.ts).
 */
export const insertAccessToken = batchedStatement(async (db: Queryable, tokens: AccessTokenRecord[]): Promise<void[]> => {
  await db.query(
    `INSERT INTO access_tokens (jti, grant_id, client_id, user_id, scope, created_at, expires_at, audience, dpop_jkt)
     SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::text[], $9::text[])`,
    [
      tokens.map((t) => t.jti),
      tokens.map((t) => t.grantId),
      tokens.map((t) => t.clientId),
      tokens.map((t) => t.userId),
      tokens.map((t) => t.scope),
      tokens.map((t) => t.issuedAt),
      tokens.map((t) => t.expiresAt),
      tokens.map((t) => t.audience ?? null),
      tokens.map((t) => t.dpopJkt ?? null),
    ],
  );
  return tokens.map(() => undefined);
});

/** A live access token with what introspection reports about its user. */
export interface LiveAccessTokenRecord extends AccessTokenRecord {
  audience: string | null;
  username: string | null;
}

const LIVE_ACCESS_TOKEN_COLUMNS = `t.jti, t.grant_id AS "grantId", t.client_id AS "clientId", t.user_id AS "userId", t.scope, t.audience,
  t.created_at AS "issuedAt", t.expires_at AS "expiresAt", t.dpop_jkt AS "dpopJkt", u.username`;

const LIVE_ACCESS_TOKEN_FROM = `FROM access_tokens t
  JOIN clients c ON c.client_id = t.client_id AND c.is_active
  LEFT JOIN users u ON u.id = t.user_id
  LEFT JOIN grants g ON g.id = t.grant_id
  WHERE t.jti = ANY($1::text[]) AND t.revoked_at IS NULL AND t.expires_at > now()
    AND (t.user_id IS NULL OR u.is_active) AND (t.grant_id IS NULL OR g.revoked_at IS NULL)`;

const USER_PREFIX = 'user.';

/** The live-token SELECT with the user's row, its columns prefixed (built once: the text is the prepared statement's key). */
const LIVE_ACCESS_TOKEN_WITH_USER = `SELECT ${LIVE_ACCESS_TOKEN_COLUMNS}, ${userSelectList('u', USER_PREFIX)} ${LIVE_ACCESS_TOKEN_FROM}`;
const userOf = prefixedUserReader(USER_PREFIX);

/** The token's own columns of a row that also holds its user's, as one literal of fixed shape (see prefixedUserReader). */
function liveAccessTokenOf(row: Record<string, unknown>): LiveAccessTokenRecord {
  const token: Record<keyof LiveAccessTokenRecord, unknown> = {
    jti: row.jti,
    grantId: row.grantId,
    clientId: row.clientId,
    userId: row.userId,
    scope: row.scope,
    audience: row.audience,
    issuedAt: row.issuedAt,
    expiresAt: row.expiresAt,
    dpopJkt: row.dpopJkt,
    username: row.username,
  };
  return token as LiveAccessTokenRecord;
}

/** Rows by jti, for a batch of lookups: one result per jti (undefined when absent). */
function byJti<R extends { jti: string }>(jtis: string[], rows: R[]): (R | undefined)[] {
  const found = new Map(rows.map((row) => [row.jti, row]));
  return jtis.map((jti) => found.get(jti));
}

/**
 * The one lookup behind every check of an access token (userinfo, admin API, introspection): live only
 * while not revoked, not expired, and its client, user and grant are still active. Concurrent lookups
 * share one query; each still runs after its request arrived, so a revocation committed before is seen.
 */
export const findLiveAccessToken = batchedStatement(async (db: Queryable, jtis: string[]) => {
  const { rows } = await db.query<LiveAccessTokenRecord>(`SELECT ${LIVE_ACCESS_TOKEN_COLUMNS} ${LIVE_ACCESS_TOKEN_FROM}`, [jtis]);
  return byJti(jtis, rows);
});

/**
 * findLiveAccessToken and the token's user in one round trip (userinfo): the same liveness conditions,
 * with the user's row (absent for client_credentials tokens).
 */
export const findLiveAccessTokenWithUser = batchedStatement(async (db: Queryable, jtis: string[]) => {
  const { rows } = await db.query<Record<string, unknown> & { jti: string }>(LIVE_ACCESS_TOKEN_WITH_USER, [jtis]);
  return byJti(jtis, rows).map((row) => row && { token: liveAccessTokenOf(row), user: userOf(row) });
});

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

/**
 * An access token and its refresh token in one statement (one round trip instead of two): a
 * data-modifying WITH runs exactly once whether or not it is referenced.
 */
export async function insertAccessAndRefreshTokens(
  db: Queryable,
  access: AccessTokenRecord,
  refresh: Omit<RefreshTokenRecord, 'rotatedAt' | 'revokedAt' | 'dpopJkt'> & { tokenHash: string; issuedAt: Date; dpopJkt?: string | null },
): Promise<void> {
  await db.query(
    `WITH access AS (
       INSERT INTO access_tokens (jti, grant_id, client_id, user_id, scope, created_at, expires_at, audience, dpop_jkt)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $15, $17)
     )
     INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scope, expires_at, created_at, resources, dpop_jkt)
     VALUES ($8, $9, $10, $11, $12, $13, $14, $16, $18)`,
    [
      access.jti,
      access.grantId,
      access.clientId,
      access.userId,
      access.scope,
      access.issuedAt,
      access.expiresAt,
      refresh.tokenHash,
      refresh.grantId,
      refresh.clientId,
      refresh.userId,
      refresh.scope,
      refresh.expiresAt,
      refresh.issuedAt,
      access.audience ?? null,
      refresh.resources,
      access.dpopJkt ?? null,
      refresh.dpopJkt ?? null,
    ],
  );
}

/**
 * A refresh token locked for rotation, with what the reuse grace window needs about its successor, and
 * what issuing needs about its grant and user (read in the same round trip).
 */
export interface RotatableRefreshTokenRecord extends RefreshTokenRecord {
  /** The grant exists and is not revoked, and the user exists and is active. */
  grantAndUserLive: boolean;
  grantAuthTime: Date | null;
  grantSid: string | null;
  grantAmr: string[] | null;
  grantAcr: string | null;
  successorHash: string | null;
  /** Set only while the successor is still retrievable: rotated at most `graceSeconds` ago. */
  successorCiphertext: string | null;
}

/**
 * Locks the refresh token row for the rest of the transaction, so concurrent uses of one token serialize
 * (READ COMMITTED re-reads the row once the holder commits, so a waiter sees its rotation). Also returns
 * the successor of a rotated token; the grace window is judged by the database clock, the same clock
 * that wrote rotated_at, so replicas with skewed clocks agree.
 */
export async function findRefreshTokenForUpdate(
  db: Queryable,
  tokenHash: string,
  graceSeconds: number,
): Promise<RotatableRefreshTokenRecord | undefined> {
  const { rows } = await db.query<RotatableRefreshTokenRecord>(
    `SELECT t.grant_id AS "grantId", t.client_id AS "clientId", t.user_id AS "userId", t.scope, t.resources, t.expires_at AS "expiresAt",
            t.rotated_at AS "rotatedAt", t.revoked_at AS "revokedAt", t.successor_hash AS "successorHash", t.dpop_jkt AS "dpopJkt",
            CASE WHEN t.rotated_at > now() - $2::int * interval '1 second' THEN t.successor_ciphertext END AS "successorCiphertext",
            (g.id IS NOT NULL AND g.revoked_at IS NULL AND coalesce(u.is_active, false)) AS "grantAndUserLive",
            g.auth_time AS "grantAuthTime", g.sid AS "grantSid", g.amr AS "grantAmr", g.acr AS "grantAcr"
     FROM refresh_tokens t
     LEFT JOIN grants g ON g.id = t.grant_id
     LEFT JOIN users u ON u.id = t.user_id
     WHERE t.token_hash = $1 FOR UPDATE OF t`,
    [tokenHash, graceSeconds],
  );
  return rows[0];
}

/**
 * Marks a locked token rotated and records its successor: the hash always, the encrypted value only when
 * the grace window is on (null otherwise), so a repeat within the window can hand back the same token.
 * In the same statement, forgets the encrypted successors of the family whose window has passed, so no
 * decryptable token outlives the window by more than one rotation (the token rotated now is not among
 * them: it had not been rotated). SKIP LOCKED: a row another transaction holds (a concurrent refresh or
 * revocation) is left for the next rotation instead of waited on, so this can never take part in a lock
 * cycle.
 */
export async function markRefreshTokenRotated(
  db: Queryable,
  token: { hash: string; grantId: string },
  successor: { hash: string; ciphertext: string | null },
  graceSeconds: number,
): Promise<void> {
  await db.query(
    `WITH rotated AS (
       UPDATE refresh_tokens SET rotated_at = now(), successor_hash = $2, successor_ciphertext = $3 WHERE token_hash = $1
     )
     UPDATE refresh_tokens SET successor_ciphertext = NULL WHERE token_hash IN
       (SELECT token_hash FROM refresh_tokens
        WHERE grant_id = $4 AND successor_ciphertext IS NOT NULL AND rotated_at <= now() - $5::int * interval '1 second'
        FOR UPDATE SKIP LOCKED)`,
    [token.hash, successor.hash, successor.ciphertext, token.grantId, graceSeconds],
  );
}

/** What a rotation in one statement read about the token it rotated and its grant. */
export interface RotatedRefreshToken {
  grantId: string;
  userId: string;
  /** The rotated token's scope, which its successor keeps. */
  scope: string;
  authTime: Date;
  sid: string | null;
  amr: string[] | null;
  acr: string | null;
}

/**
 * The common refresh in one statement, one round trip instead of a transaction's five: rotates the token
 * only if it is live for `clientId` (not rotated, revoked or expired; grant not revoked; user active),
 * remembers no resources (RFC 8707: those tokens are narrowed per resource, on the transactional path) and
 * `requestedScopes` (null: all) is within its scope, and then writes the new access token, the successor
 * and the family's stale-successor cleanup (as markRefreshTokenRotated). Anything else (a replay, a
 * repeat within the grace window, an error to report) rotates nothing and returns undefined: the caller
 * then takes the transactional path, which decides. Two uses of one token at once serialize on the row:
 * the second re-checks `rotated_at IS NULL` after the first commits and finds nothing.
 */
export async function rotateLiveRefreshToken(
  db: Queryable,
  input: {
    tokenHash: string;
    clientId: string;
    requestedScopes: string[] | null;
    access: { jti: string; issuedAt: Date; expiresAt: Date };
    successor: { hash: string; ciphertext: string | null; expiresAt: Date };
    graceSeconds: number;
    /** The request's DPoP key (RFC 9449): the access token's binding; a bound refresh token needs it. */
    dpopJkt?: string | null;
    /** The key an unbound refresh token's successor is bound to from now on (public clients); null: none. */
    bindSuccessorTo?: string | null;
  },
): Promise<RotatedRefreshToken | undefined> {
  const { access, successor } = input;
  const { rows } = await db.query<RotatedRefreshToken>(
    `WITH old AS (
       UPDATE refresh_tokens t SET rotated_at = now(), successor_hash = $2, successor_ciphertext = $3
       FROM grants g, users u
       WHERE t.token_hash = $1 AND t.client_id = $4 AND t.rotated_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > now()
         AND g.id = t.grant_id AND g.revoked_at IS NULL AND u.id = t.user_id AND u.is_active AND t.resources = '{}'
         AND ($5::text[] IS NULL OR $5::text[] <@ string_to_array(t.scope, ' '))
         AND (t.dpop_jkt IS NULL OR t.dpop_jkt = $11::text)
       RETURNING t.grant_id, t.user_id, t.scope, t.dpop_jkt, g.auth_time, g.sid, g.amr, g.acr
     ), access AS (
       INSERT INTO access_tokens (jti, grant_id, client_id, user_id, scope, created_at, expires_at, dpop_jkt)
       SELECT $6, grant_id, $4, user_id, coalesce(array_to_string($5::text[], ' '), scope), $7, $8, $11::text FROM old
     ), successor AS (
       INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scope, expires_at, created_at, dpop_jkt)
       SELECT $2, grant_id, $4, user_id, scope, $9, $7, coalesce(dpop_jkt, $12::text) FROM old
     ), forgotten AS (
       UPDATE refresh_tokens SET successor_ciphertext = NULL WHERE token_hash IN
         (SELECT token_hash FROM refresh_tokens
          WHERE grant_id = (SELECT grant_id FROM old) AND successor_ciphertext IS NOT NULL
            AND rotated_at <= now() - $10::int * interval '1 second'
          FOR UPDATE SKIP LOCKED)
     )
     SELECT grant_id AS "grantId", user_id AS "userId", scope, auth_time AS "authTime", sid, amr, acr FROM old`,
    [
      input.tokenHash,
      successor.hash,
      successor.ciphertext,
      input.clientId,
      input.requestedScopes,
      access.jti,
      access.issuedAt,
      access.expiresAt,
      successor.expiresAt,
      input.graceSeconds,
      input.dpopJkt ?? null,
      input.bindSuccessorTo ?? null,
    ],
  );
  return rows[0];
}

/** Forgets every encrypted successor of a family, once it has been revoked (nothing there is redeemable). */
export async function forgetRefreshSuccessorsOfGrant(db: Queryable, grantId: string): Promise<void> {
  await db.query('UPDATE refresh_tokens SET successor_ciphertext = NULL WHERE grant_id = $1 AND successor_ciphertext IS NOT NULL', [
    grantId,
  ]);
}

/** A refresh token in any state (live, rotated, revoked or expired), found by its hash. */
export async function findRefreshToken(db: Queryable, tokenHash: string): Promise<RefreshTokenRecord | undefined> {
  const { rows } = await db.query<RefreshTokenRecord>(
    `SELECT grant_id AS "grantId", client_id AS "clientId", user_id AS "userId", scope, resources, expires_at AS "expiresAt",
            rotated_at AS "rotatedAt", revoked_at AS "revokedAt", dpop_jkt AS "dpopJkt"
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
  resources: string[];
  expiresAt: Date;
  createdAt: Date;
  dpopJkt: string | null;
}

/**
 * The refresh-token counterpart of findLiveAccessToken (introspection): live only while not rotated, not
 * revoked, not expired, and its client, user and grant are still active.
 */
export async function findLiveRefreshToken(db: Queryable, tokenHash: string): Promise<LiveRefreshTokenRecord | undefined> {
  const { rows } = await db.query<LiveRefreshTokenRecord>(
    `SELECT t.grant_id AS "grantId", t.client_id AS "clientId", t.user_id AS "userId", u.username, t.scope, t.resources,
            t.expires_at AS "expiresAt", t.created_at AS "createdAt", t.dpop_jkt AS "dpopJkt"
     FROM refresh_tokens t
     JOIN clients c ON c.client_id = t.client_id AND c.is_active
     JOIN users u ON u.id = t.user_id AND u.is_active
     JOIN grants g ON g.id = t.grant_id AND g.revoked_at IS NULL
     WHERE t.token_hash = $1 AND t.rotated_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > now()`,
    [tokenHash],
  );
  return rows[0];
}
