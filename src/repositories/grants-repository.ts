import type { Queryable } from '../db/db.js';
import type { PageKey } from '../lib/page-key.js';
import { keysetPage, type KeysetPage } from './keyset.js';

export interface Grant {
  id: string;
  clientId: string;
  userId: string;
  scope: string;
  authTime: Date;
  sid: string | null;
  nonce: string | null;
  /** The resources the user's authorization was for (RFC 8707); tokens of this grant are for these only. */
  resources: string[];
  /** How the user signed in for this grant (RFC 8176) and the acr reached; null for grants from before. */
  amr: string[] | null;
  acr: string | null;
  revokedAt: Date | null;
}

export async function insertGrant(
  db: Queryable,
  grant: Omit<Grant, 'id' | 'revokedAt' | 'resources' | 'amr' | 'acr'> & { resources?: readonly string[]; amr?: readonly string[]; acr?: string | null },
): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO grants (client_id, user_id, scope, auth_time, sid, nonce, resources, amr, acr) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [grant.clientId, grant.userId, grant.scope, grant.authTime, grant.sid, grant.nonce, grant.resources ?? [], grant.amr ? [...grant.amr] : null, grant.acr ?? null],
  );
  return rows[0]!.id;
}

export async function findGrant(db: Queryable, id: string): Promise<Grant | undefined> {
  const { rows } = await db.query<Grant>(
    `SELECT id, client_id AS "clientId", user_id AS "userId", scope, auth_time AS "authTime", sid, nonce, resources,
            amr, acr, revoked_at AS "revokedAt" FROM grants WHERE id = $1`,
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

export interface GrantSummary {
  id: string;
  clientId: string;
  scope: string;
  authTime: Date;
  createdAt: Date;
  revokedAt: Date | null;
}

const GRANT_SUMMARY = 'id, client_id AS "clientId", scope, auth_time AS "authTime", created_at AS "createdAt", revoked_at AS "revokedAt"';
const NEWEST_FIRST = { key: [{ sql: 'created_at', part: 'timestamp' }, { sql: 'id', part: 'uuid' }], order: 'desc' } as const;

/** A page of a user's grants (revoked ones too, until cleanup removes them), newest first (grants_user_created_idx). */
export async function listGrantsOfUser(db: Queryable, userId: string, page: { limit: number; cursor?: PageKey | undefined }): Promise<KeysetPage<GrantSummary>> {
  return keysetPage<GrantSummary>(db, { columns: GRANT_SUMMARY, from: 'grants', where: ['user_id = $1'], params: [userId], ...NEWEST_FIRST }, page);
}

/** A grant as a client's listing shows it: the user it was given by, too. */
export interface ClientGrantListItem extends GrantSummary {
  userId: string;
  username: string;
}

/** A page of a client's grants (revoked ones too, until cleanup removes them), newest first (grants_client_created_idx). */
export async function listGrantsOfClient(db: Queryable, clientId: string, page: { limit: number; cursor?: PageKey | undefined }): Promise<KeysetPage<ClientGrantListItem>> {
  return keysetPage<ClientGrantListItem>(
    db,
    {
      columns: `g.id, g.client_id AS "clientId", g.scope, g.auth_time AS "authTime", g.created_at AS "createdAt", g.revoked_at AS "revokedAt",
        g.user_id AS "userId", u.username`,
      from: 'grants g JOIN users u ON u.id = g.user_id',
      where: ['g.client_id = $1'],
      params: [clientId],
      key: [
        { sql: 'g.created_at', part: 'timestamp' },
        { sql: 'g.id', part: 'uuid' },
      ],
      order: 'desc',
    },
    page,
  );
}

/** The user of a grant of this client, or undefined when the client has no such grant. */
export async function findGrantUserOfClient(db: Queryable, grantId: string, clientId: string): Promise<{ userId: string; isAdmin: boolean } | undefined> {
  const { rows } = await db.query<{ userId: string; isAdmin: boolean }>(
    'SELECT g.user_id AS "userId", u.is_admin AS "isAdmin" FROM grants g JOIN users u ON u.id = g.user_id WHERE g.id = $1 AND g.client_id = $2',
    [grantId, clientId],
  );
  return rows[0];
}

/** An administrator holding a live grant of this client, if any (privilege rule 4 for revoking them all). */
export async function findAdminWithLiveGrantOfClient(db: Queryable, clientId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    'SELECT u.id FROM grants g JOIN users u ON u.id = g.user_id WHERE g.client_id = $1 AND g.revoked_at IS NULL AND u.is_admin LIMIT 1',
    [clientId],
  );
  return rows[0]?.id;
}

/**
 * Revokes every live grant of a client and every token issued under them (the client's client_credentials
 * tokens have no grant and stay); returns how many grants were revoked.
 */
export async function revokeGrantsOfClient(db: Queryable, clientId: string): Promise<number> {
  const { rows } = await db.query<{ id: string }>('UPDATE grants SET revoked_at = now() WHERE client_id = $1 AND revoked_at IS NULL RETURNING id', [clientId]);
  if (rows.length === 0) return 0;
  const ids = rows.map((r) => r.id);
  await db.query('UPDATE access_tokens SET revoked_at = now() WHERE grant_id = ANY($1::uuid[]) AND revoked_at IS NULL', [ids]);
  await db.query('UPDATE refresh_tokens SET revoked_at = now() WHERE grant_id = ANY($1::uuid[]) AND revoked_at IS NULL', [ids]);
  return rows.length;
}

/** True when the grant exists and belongs to the user. */
export async function grantBelongsToUser(db: Queryable, grantId: string, userId: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM grants WHERE id = $1 AND user_id = $2', [grantId, userId]);
  return rows.length > 0;
}

/** Revokes every grant of a user and every token issued under them. */
export async function revokeGrantsOfUser(db: Queryable, userId: string): Promise<void> {
  await db.query('UPDATE grants SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [userId]);
  await db.query(
    `UPDATE access_tokens SET revoked_at = now()
     WHERE grant_id IN (SELECT id FROM grants WHERE user_id = $1) AND revoked_at IS NULL`,
    [userId],
  );
  await db.query('UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [userId]);
}

/** Per client, what a user's unrevoked grants allow (their scopes merged) and since when. */
export interface ClientGrantSummary {
  clientId: string;
  scopes: string[];
  since: Date;
}

export async function summarizeLiveGrantsOfUser(db: Queryable, userId: string): Promise<ClientGrantSummary[]> {
  const { rows } = await db.query<{ clientId: string; scope: string; since: Date }>(
    `SELECT client_id AS "clientId", string_agg(scope, ' ') AS scope, min(created_at) AS since
     FROM grants WHERE user_id = $1 AND revoked_at IS NULL GROUP BY client_id ORDER BY min(created_at), client_id`,
    [userId],
  );
  return rows.map((row) => ({
    clientId: row.clientId,
    scopes: [...new Set(row.scope.split(' ').filter(Boolean))].sort(),
    since: new Date(row.since),
  }));
}

/** Revokes every grant a user gave one client and every token issued under them; the number of grants revoked. */
export async function revokeGrantsOfUserForClient(db: Queryable, userId: string, clientId: string): Promise<number> {
  const { rowCount } = await db.query(
    'UPDATE grants SET revoked_at = now() WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NULL',
    [userId, clientId],
  );
  await db.query(
    `UPDATE access_tokens SET revoked_at = now()
     WHERE grant_id IN (SELECT id FROM grants WHERE user_id = $1 AND client_id = $2) AND revoked_at IS NULL`,
    [userId, clientId],
  );
  await db.query(
    `UPDATE refresh_tokens SET revoked_at = now()
     WHERE grant_id IN (SELECT id FROM grants WHERE user_id = $1 AND client_id = $2) AND revoked_at IS NULL`,
    [userId, clientId],
  );
  return rowCount;
}
