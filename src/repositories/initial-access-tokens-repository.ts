import type { Queryable } from '../db/db.js';
import type { PageKey } from '../lib/page-key.js';
import { keysetPage, type KeysetPage } from './keyset.js';

/** An initial access token (RFC 7591 section 3) as the admin API shows it: never the token, only its id. */
export interface InitialAccessToken {
  id: string;
  description: string;
  /** null: unlimited. */
  maxUses: number | null;
  uses: number;
  /** null: never expires. */
  expiresAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}

const SELECT_LIST = `id, description, max_uses AS "maxUses", uses, expires_at AS "expiresAt", revoked_at AS "revokedAt",
  created_at AS "createdAt"`;
const SELECT = `SELECT ${SELECT_LIST} FROM initial_access_tokens`;

/** Usable: not revoked, not expired, and a use left. */
const USABLE = '(revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) AND (max_uses IS NULL OR uses < max_uses))';

export async function insertInitialAccessToken(
  db: Queryable,
  token: { id: string; tokenHash: string; description: string; maxUses: number | null; expiresInSeconds: number | null },
): Promise<InitialAccessToken> {
  const { rows } = await db.query<InitialAccessToken>(
    `INSERT INTO initial_access_tokens (id, token_hash, description, max_uses, expires_at)
     VALUES ($1, $2, $3, $4, CASE WHEN $5::int IS NULL THEN NULL ELSE now() + make_interval(secs => $5::int) END)
     RETURNING id, description, max_uses AS "maxUses", uses, expires_at AS "expiresAt", revoked_at AS "revokedAt", created_at AS "createdAt"`,
    [token.id, token.tokenHash, token.description, token.maxUses, token.expiresInSeconds],
  );
  return rows[0]!;
}

/** A page of initial access tokens, newest first (initial_access_tokens_created_idx). */
export async function listInitialAccessTokens(db: Queryable, page: { limit: number; cursor?: PageKey | undefined }): Promise<KeysetPage<InitialAccessToken>> {
  return keysetPage<InitialAccessToken>(
    db,
    {
      columns: SELECT_LIST,
      from: 'initial_access_tokens',
      key: [
        { sql: 'created_at', part: 'timestamp' },
        { sql: 'id', part: 'text' },
      ],
      order: 'desc',
    },
    page,
  );
}

/** Revokes a token (idempotent: a revoked token keeps its first revocation time); undefined if unknown. */
export async function findInitialAccessToken(db: Queryable, id: string): Promise<InitialAccessToken | undefined> {
  return (await db.query<InitialAccessToken>(`${SELECT} WHERE id = $1`, [id])).rows[0];
}

export async function revokeInitialAccessToken(db: Queryable, id: string): Promise<InitialAccessToken | undefined> {
  await db.query('UPDATE initial_access_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1', [id]);
  return (await db.query<InitialAccessToken>(`${SELECT} WHERE id = $1`, [id])).rows[0];
}

/** Whether a token with this hash could be used now (a read; the use is taken by consumeInitialAccessToken). */
export async function isInitialAccessTokenUsable(db: Queryable, tokenHash: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM initial_access_tokens WHERE token_hash = $1 AND ${USABLE}`, [tokenHash]);
  return rows.length > 0;
}

/**
 * Takes one use of the token, atomically: the row lock of the update makes concurrent registrations wait,
 * and PostgreSQL re-checks the WHERE clause on the row as the first committed it, so with max_uses N at most
 * N registrations get a row back, however many race. Run it in the transaction that inserts the client, so
 * a registration that fails later gives its use back. Returns the token's id, or undefined when unusable.
 */
export async function consumeInitialAccessToken(db: Queryable, tokenHash: string): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `UPDATE initial_access_tokens SET uses = uses + 1 WHERE token_hash = $1 AND ${USABLE} RETURNING id`,
    [tokenHash],
  );
  return rows[0]?.id;
}
