import type { Queryable } from '../db/db.js';
import type { CodeGrant } from './authorization-codes-repository.js';

/** RFC 8628: a device authorization request, from the device's request until its tokens are issued. */
export interface DeviceAuthorization {
  id: string;
  clientId: string;
  scope: string;
  resources: string[];
  status: 'pending' | 'approved' | 'denied' | 'issued';
  expiresAt: Date;
}

const COLUMNS = `id, client_id AS "clientId", scope, resources, status, expires_at AS "expiresAt"`;

export async function insertDeviceAuthorization(
  db: Queryable,
  row: { deviceCodeHash: string; userCodeHash: string; clientId: string; scope: string; resources: readonly string[]; intervalSeconds: number; expiresAt: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO device_authorizations (device_code_hash, user_code_hash, client_id, scope, resources, interval_seconds, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [row.deviceCodeHash, row.userCodeHash, row.clientId, row.scope, [...row.resources], row.intervalSeconds, row.expiresAt],
  );
}

/** The live, still undecided request a user code names (the /device page); expired or decided ones are not found. */
export async function findPendingDeviceAuthorizationByUserCode(db: Queryable, userCodeHash: string): Promise<DeviceAuthorization | undefined> {
  const { rows } = await db.query<DeviceAuthorization>(
    `SELECT ${COLUMNS} FROM device_authorizations WHERE user_code_hash = $1 AND status = 'pending' AND expires_at > now()`,
    [userCodeHash],
  );
  return rows[0];
}

/** The live, still undecided request by id (the confirmation form carries it, under an HMAC). */
export async function findPendingDeviceAuthorization(db: Queryable, id: string): Promise<DeviceAuthorization | undefined> {
  const { rows } = await db.query<DeviceAuthorization>(
    `SELECT ${COLUMNS} FROM device_authorizations WHERE id = $1 AND status = 'pending' AND expires_at > now()`,
    [id],
  );
  return rows[0];
}

/** The user approved: pending → approved with the grant its tokens will belong to; false if no longer pending and live. */
export async function approveDeviceAuthorization(db: Queryable, id: string, grantId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE device_authorizations SET status = 'approved', grant_id = $2 WHERE id = $1 AND status = 'pending' AND expires_at > now()`,
    [id, grantId],
  );
  return rowCount === 1;
}

/** The user denied: pending → denied (the device then gets access_denied); false if no longer pending. */
export async function denyDeviceAuthorization(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query(`UPDATE device_authorizations SET status = 'denied' WHERE id = $1 AND status = 'pending'`, [id]);
  return rowCount === 1;
}

/** What one poll found, and what it changed. */
export interface DevicePoll {
  /** The status before this poll: `approved` means this poll is the one that issues the tokens. */
  previousStatus: DeviceAuthorization['status'];
  /** RFC 8628 section 3.5: the poll came sooner than the interval after the previous one (while pending). */
  slowDown: boolean;
  expiresAt: Date;
  /** The approved request's grant (with whether its user is still active); null before approval. */
  grant: CodeGrant | null;
}

/**
 * One poll of the token endpoint, in one statement (RFC 8628 section 3.4): the row is locked, the poll time
 * recorded, the interval raised by 5 seconds if a pending request is polled sooner than its interval after
 * the previous poll (section 3.5), and an approved, live request moves to issued. Two polls at once (two
 * replicas) queue on the row lock, so exactly one sees `approved` and issues tokens, and the second sees
 * the interval the first one set. Bound to the client: another client's poll finds nothing.
 */
export async function pollDeviceAuthorization(db: Queryable, deviceCodeHash: string, clientId: string): Promise<DevicePoll | undefined> {
  const { rows } = await db.query<Omit<DevicePoll, 'grant'> & { grant: (Omit<CodeGrant, 'authTime' | 'revokedAt'> & { authTime: string; revokedAt: string | null }) | null }>(
    `WITH prev AS (
       SELECT id, status, last_polled_at, interval_seconds, grant_id FROM device_authorizations
       WHERE device_code_hash = $1 AND client_id = $2 FOR UPDATE
     )
     UPDATE device_authorizations d SET
       last_polled_at = now(),
       interval_seconds = CASE
         WHEN prev.status = 'pending' AND prev.last_polled_at > now() - make_interval(secs => prev.interval_seconds)
         THEN prev.interval_seconds + 5 ELSE prev.interval_seconds END,
       status = CASE WHEN prev.status = 'approved' AND d.expires_at > now() THEN 'issued' ELSE prev.status END
     FROM prev LEFT JOIN grants g ON g.id = prev.grant_id LEFT JOIN users u ON u.id = g.user_id
     WHERE d.id = prev.id
     RETURNING prev.status AS "previousStatus", d.interval_seconds > prev.interval_seconds AS "slowDown", d.expires_at AS "expiresAt",
       CASE WHEN g.id IS NULL THEN NULL ELSE
         json_build_object('id', g.id, 'clientId', g.client_id, 'userId', g.user_id, 'scope', g.scope, 'resources', g.resources,
           'authTime', g.auth_time, 'sid', g.sid, 'nonce', g.nonce, 'revokedAt', g.revoked_at, 'amr', g.amr, 'acr', g.acr,
           'userActive', coalesce(u.is_active, false)) END AS grant`,
    [deviceCodeHash, clientId],
  );
  const row = rows[0];
  if (!row) return undefined;
  const grant = row.grant
    ? { ...row.grant, authTime: new Date(row.grant.authTime), revokedAt: row.grant.revokedAt === null ? null : new Date(row.grant.revokedAt) }
    : null;
  return { previousStatus: row.previousStatus, slowDown: row.slowDown, expiresAt: new Date(row.expiresAt), grant };
}

/** Requests past their expiry, whatever their status: no poll can use them any more (cleanup job). */
export async function deleteExpiredDeviceAuthorizations(db: Queryable, batch: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM device_authorizations WHERE id IN (SELECT id FROM device_authorizations WHERE expires_at < now() LIMIT $1)`,
    [batch],
  );
  return rowCount;
}
