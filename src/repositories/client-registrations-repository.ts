import type { Queryable } from '../db/db.js';

/** OpenID Connect Dynamic Client Registration 1.0 section 2. */
export type ApplicationType = 'web' | 'native';

/** What RFC 7591 registration adds to a dynamically registered client's row. */
export interface ClientRegistrationRecord {
  clientId: string;
  /** SHA-256 of the registration access token (RFC 7592 section 3); the token itself is never stored. */
  registrationAccessTokenHash: string;
  applicationType: ApplicationType;
  createdAt: Date;
}

const SELECT = `SELECT client_id AS "clientId", registration_access_token_hash AS "registrationAccessTokenHash",
  application_type AS "applicationType", created_at AS "createdAt" FROM client_registrations`;

export async function insertClientRegistration(
  db: Queryable,
  record: Omit<ClientRegistrationRecord, 'createdAt'>,
): Promise<void> {
  await db.query(
    'INSERT INTO client_registrations (client_id, registration_access_token_hash, application_type) VALUES ($1, $2, $3)',
    [record.clientId, record.registrationAccessTokenHash, record.applicationType],
  );
}

export async function findClientRegistration(db: Queryable, clientId: string): Promise<ClientRegistrationRecord | undefined> {
  return (await db.query<ClientRegistrationRecord>(`${SELECT} WHERE client_id = $1`, [clientId])).rows[0];
}

/** Locks the registration (and so the client's management) for the rest of the transaction. */
export async function findClientRegistrationForUpdate(db: Queryable, clientId: string): Promise<ClientRegistrationRecord | undefined> {
  return (await db.query<ClientRegistrationRecord>(`${SELECT} WHERE client_id = $1 FOR UPDATE`, [clientId])).rows[0];
}

export async function updateApplicationType(db: Queryable, clientId: string, applicationType: ApplicationType): Promise<void> {
  await db.query('UPDATE client_registrations SET application_type = $2 WHERE client_id = $1', [clientId, applicationType]);
}
