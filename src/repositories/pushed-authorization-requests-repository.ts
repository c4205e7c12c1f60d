import type { Queryable } from '../db/db.js';

/** A pushed authorization request as stored (RFC 9126 section 2): the parameters, with repeated keys kept. */
export interface PushedAuthorizationRequest {
  clientId: string;
  parameters: Record<string, string[]>;
}

export async function insertPushedAuthorizationRequest(
  db: Queryable,
  row: { requestUriHash: string; clientId: string; parameters: Record<string, string[]>; expiresAt: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO pushed_authorization_requests (request_uri_hash, client_id, parameters, expires_at) VALUES ($1, $2, $3, $4)`,
    [row.requestUriHash, row.clientId, JSON.stringify(row.parameters), row.expiresAt],
  );
}

/**
 * Marks the request used and returns it, in one conditional statement: of two concurrent uses (on any
 * replica) exactly one gets the row back. Another client's, an expired or a used request comes back
 * undefined and is left as it was.
 */
export async function consumePushedAuthorizationRequest(
  db: Queryable,
  requestUriHash: string,
  clientId: string,
): Promise<PushedAuthorizationRequest | undefined> {
  const { rows } = await db.query<{ clientId: string; parameters: Record<string, string[]> | string }>(
    `UPDATE pushed_authorization_requests SET used_at = now()
     WHERE request_uri_hash = $1 AND client_id = $2 AND used_at IS NULL AND expires_at > now()
     RETURNING client_id AS "clientId", parameters`,
    [requestUriHash, clientId],
  );
  const row = rows[0];
  if (!row) return undefined;
  // node-postgres parses jsonb; a driver that hands back text is parsed here.
  return { clientId: row.clientId, parameters: typeof row.parameters === 'string' ? (JSON.parse(row.parameters) as Record<string, string[]>) : row.parameters };
}

/** Requests past their expiry, used or not: neither can be used any more. */
export async function deleteExpiredPushedAuthorizationRequests(db: Queryable, batch: number): Promise<number> {
  const result = await db.query(
    `DELETE FROM pushed_authorization_requests WHERE request_uri_hash IN
       (SELECT request_uri_hash FROM pushed_authorization_requests WHERE expires_at < now() LIMIT $1)`,
    [batch],
  );
  return result.rowCount;
}
