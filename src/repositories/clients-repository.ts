import type { Queryable } from '../db/db.js';
import type { PageKey } from '../lib/page-key.js';
import { containing, keysetPage, type KeysetPage } from './keyset.js';

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | 'private_key_jwt' | 'none';
/** RFC 7517 section 5: a JWK Set of public keys (checked by src/services/client-keys.ts before it is stored). */
export interface ClientJwks {
  keys: Record<string, unknown>[];
}
/** The JWS algorithms of client assertions (RFC 7523) this table accepts (its CHECK). */
export type ClientAuthSigningAlg = 'RS256' | 'PS256' | 'ES256' | 'EdDSA' | 'HS256' | 'HS384' | 'HS512';
/** The JWS algorithms the clients table accepts for ID tokens (its CHECK): never none or HS*. */
export type IdTokenSigningAlg = 'RS256' | 'ES256' | 'EdDSA';
/** The algs a request object may be registered for (the clients table's CHECK); `none` only by registration. */
export type RequestObjectSigningAlg = 'RS256' | 'PS256' | 'ES256' | 'EdDSA' | 'HS256' | 'HS384' | 'HS512' | 'none';
export type AccessTokenFormat = 'jwt' | 'opaque';
/** How a client came to exist: the admin API, RFC 7591 dynamic registration, or a client ID metadata document. */
export type RegistrationType = 'admin' | 'dynamic' | 'metadata_document';

export interface Client {
  clientId: string;
  clientSecretHash: string | null;
  clientName: string;
  clientType: 'confidential' | 'public';
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: string[];
  responseTypes: string[];
  scope: string;
  clientUri: string | null;
  logoUri: string | null;
  tosUri: string | null;
  policyUri: string | null;
  contacts: string[];
  skipConsent: boolean;
  requirePkce: boolean;
  isActive: boolean;
  /** OpenID Connect Dynamic Client Registration 1.0 section 2: the alg of this client's ID tokens. */
  idTokenSignedResponseAlg: IdTokenSigningAlg;
  /** null: the server default (ACCESS_TOKEN_FORMAT). */
  accessTokenFormat: AccessTokenFormat | null;
  /** RFC 8707: the resource identifiers this client may ask for; null: every registered resource. */
  allowedResources: string[] | null;
  registrationType: RegistrationType;
  /** The last token or authorization request; null until the first. */
  lastUsedAt: Date | null;
  /** A metadata-document client: until when its row stands for the document without a fetch; else null. */
  metadataExpiresAt: Date | null;
  /** The second-factor policy of sign-ins for this client; null: MFA_POLICY (src/services/mfa-policy.ts). */
  mfaPolicy: 'off' | 'optional' | 'required' | null;
  /** RFC 9449 section 5.2: every token request of this client must carry a DPoP proof. */
  dpopBoundAccessTokens: boolean;
  /** OIDC Back-Channel Logout 1.0 section 2.2: where logout tokens are POSTed; null: none are sent. */
  backchannelLogoutUri: string | null;
  /** Section 2.2: the client needs `sid` in its logout tokens (Authly always sends it, see logout-token.ts). */
  backchannelLogoutSessionRequired: boolean;
  /** RFC 9126 section 6: authorization requests of this client only through POST /oauth/par. */
  requirePushedAuthorizationRequests: boolean;
  /** RFC 9101 / OIDC Registration 1.0 section 2: the one alg of this client's request objects; null: any accepted. */
  requestObjectSigningAlg: RequestObjectSigningAlg | null;
  /** RFC 9101 section 10.5: every authorization request of this client is a signed request object. */
  requireSignedRequestObject: boolean;
  /** The client's public keys by value (OIDC Registration 1.0 section 2); never together with jwksUri. */
  jwks: ClientJwks | null;
  /** Where the client publishes its public keys, fetched through the SSRF guard (src/services/client-keys.ts). */
  jwksUri: string | null;
  /** The one alg the client's assertions may use (OIDC Registration 1.0 section 2); null: any accepted one. */
  tokenEndpointAuthSigningAlg: ClientAuthSigningAlg | null;
  /** client_secret_jwt only: the secret, AES-256-GCM encrypted (src/services/client-secret-box.ts); else null. */
  clientSecretEncrypted: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The columns with a default may be left out of a new client. */
type DefaultedColumns =
  | 'allowedResources'
  | 'registrationType'
  | 'lastUsedAt'
  | 'metadataExpiresAt'
  | 'mfaPolicy'
  | 'dpopBoundAccessTokens'
  | 'backchannelLogoutUri'
  | 'backchannelLogoutSessionRequired'
  | 'requirePushedAuthorizationRequests'
  | 'requestObjectSigningAlg'
  | 'requireSignedRequestObject'
  | 'jwks'
  | 'jwksUri'
  | 'tokenEndpointAuthSigningAlg'
  | 'clientSecretEncrypted';
export type NewClient = Omit<Client, 'createdAt' | 'updatedAt' | DefaultedColumns> & Partial<Pick<Client, DefaultedColumns>>;
export type ClientChanges = Partial<Omit<Client, 'clientId' | 'createdAt' | 'updatedAt'>>;

const COLUMNS: Record<keyof Omit<Client, 'createdAt' | 'updatedAt'>, string> = {
  clientId: 'client_id',
  clientSecretHash: 'client_secret_hash',
  clientName: 'client_name',
  clientType: 'client_type',
  tokenEndpointAuthMethod: 'token_endpoint_auth_method',
  redirectUris: 'redirect_uris',
  postLogoutRedirectUris: 'post_logout_redirect_uris',
  grantTypes: 'grant_types',
  responseTypes: 'response_types',
  scope: 'scope',
  clientUri: 'client_uri',
  logoUri: 'logo_uri',
  tosUri: 'tos_uri',
  policyUri: 'policy_uri',
  contacts: 'contacts',
  skipConsent: 'skip_consent',
  requirePkce: 'require_pkce',
  isActive: 'is_active',
  idTokenSignedResponseAlg: 'id_token_signed_response_alg',
  accessTokenFormat: 'access_token_format',
  allowedResources: 'allowed_resources',
  registrationType: 'registration_type',
  lastUsedAt: 'last_used_at',
  metadataExpiresAt: 'metadata_expires_at',
  mfaPolicy: 'mfa_policy',
  dpopBoundAccessTokens: 'dpop_bound_access_tokens',
  backchannelLogoutUri: 'backchannel_logout_uri',
  backchannelLogoutSessionRequired: 'backchannel_logout_session_required',
  requirePushedAuthorizationRequests: 'require_pushed_authorization_requests',
  requestObjectSigningAlg: 'request_object_signing_alg',
  requireSignedRequestObject: 'require_signed_request_object',
  jwks: 'jwks',
  jwksUri: 'jwks_uri',
  tokenEndpointAuthSigningAlg: 'token_endpoint_auth_signing_alg',
  clientSecretEncrypted: 'client_secret_encrypted',
};

const SELECT_LIST = `${Object.entries(COLUMNS)
  .map(([key, column]) => `${column} AS "${key}"`)
  .join(', ')}, created_at AS "createdAt", updated_at AS "updatedAt"`;
const SELECT = `SELECT ${SELECT_LIST} FROM clients`;

export async function findClient(db: Queryable, clientId: string): Promise<Client | undefined> {
  const { rows } = await db.query<Client>(`${SELECT} WHERE client_id = $1`, [clientId]);
  return rows[0];
}

/** Locks the client row for the rest of the transaction, so concurrent partial updates serialize. */
export async function findClientForUpdate(db: Queryable, clientId: string): Promise<Client | undefined> {
  const { rows } = await db.query<Client>(`${SELECT} WHERE client_id = $1 FOR UPDATE`, [clientId]);
  return rows[0];
}

export async function countClients(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ total: number }>('SELECT count(*)::int AS total FROM clients');
  return rows[0]?.total ?? 0;
}

/** How many clients list `scope` among their registered scopes (space-delimited, RFC 6749 section 3.3). */
export async function countClientsUsingScope(db: Queryable, scope: string): Promise<number> {
  const { rows } = await db.query<{ total: number }>(
    `SELECT count(*)::int AS total FROM clients WHERE $1 = ANY(string_to_array(scope, ' '))`,
    [scope],
  );
  return rows[0]?.total ?? 0;
}

/** How many clients list `resource` in their allowed_resources (a resource in use cannot be deleted). */
export async function countClientsAllowingResource(db: Queryable, resource: string): Promise<number> {
  const { rows } = await db.query<{ total: number }>('SELECT count(*)::int AS total FROM clients WHERE $1 = ANY(allowed_resources)', [resource]);
  return rows[0]?.total ?? 0;
}

/**
 * One page of clients, newest first (clients_created_at_idx, or clients_registration_type_created_idx with
 * the filter); `query` matches a part of the client_id or the name.
 */
export async function listClients(
  db: Queryable,
  page: { limit: number; cursor?: PageKey | undefined },
  filter: { registrationType?: RegistrationType | undefined; query?: string | undefined } = {},
): Promise<KeysetPage<Client>> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.registrationType !== undefined) {
    params.push(filter.registrationType);
    where.push(`registration_type = $${params.length}`);
  }
  if (filter.query) {
    params.push(containing(filter.query));
    where.push(`client_id ILIKE $${params.length} OR client_name ILIKE $${params.length}`);
  }
  return keysetPage<Client>(
    db,
    {
      columns: SELECT_LIST,
      from: 'clients',
      where,
      params,
      key: [
        { sql: 'created_at', part: 'timestamp' },
        { sql: 'client_id', part: 'text' },
      ],
      order: 'desc',
    },
    page,
  );
}

/**
 * Records that a client was used, at most once per `intervalSeconds`: the WHERE clause makes the statement
 * a no-op (no row version written) while the last record is recent. True when it wrote.
 */
export async function touchClientLastUsed(db: Queryable, clientId: string, intervalSeconds: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE clients SET last_used_at = now()
     WHERE client_id = $1 AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $2::int))`,
    [clientId, intervalSeconds],
  );
  return rowCount > 0;
}

export async function insertClient(db: Queryable, client: NewClient): Promise<Client> {
  const keys = (Object.keys(COLUMNS) as (keyof NewClient)[]).filter((k) => client[k] !== undefined);
  const { rows } = await db.query<{ client_id: string }>(
    `INSERT INTO clients (${keys.map((k) => COLUMNS[k]).join(', ')})
     VALUES (${keys.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING client_id`,
    keys.map((k) => client[k]),
  );
  return (await findClient(db, rows[0]!.client_id))!;
}

export async function updateClient(db: Queryable, clientId: string, changes: ClientChanges): Promise<Client | undefined> {
  const keys = (Object.keys(changes) as (keyof ClientChanges)[]).filter((k) => changes[k] !== undefined);
  if (keys.length > 0) {
    const { rowCount } = await db.query(
      `UPDATE clients SET ${keys.map((k, i) => `${COLUMNS[k]} = $${i + 2}`).join(', ')}, updated_at = now()
       WHERE client_id = $1`,
      [clientId, ...keys.map((k) => changes[k])],
    );
    if (rowCount === 0) return undefined;
  }
  return findClient(db, clientId);
}

export async function deleteClient(db: Queryable, clientId: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM clients WHERE client_id = $1', [clientId]);
  return rowCount > 0;
}

/** What a client ID metadata document defines; the rest of a metadata-document client is fixed (public, PKCE). */
export type MetadataDocumentClient = Omit<NewClient, 'isActive' | 'registrationType' | 'allowedResources' | 'lastUsedAt'> & {
  metadataExpiresAt: Date;
};

/**
 * Creates or refreshes the row of a metadata-document client from its document. is_active is left alone
 * on refresh, so an administrator's "disabled" survives; a row of another registration type is never
 * overwritten (undefined is returned).
 */
export async function upsertMetadataDocumentClient(db: Queryable, client: MetadataDocumentClient): Promise<Client | undefined> {
  const row: NewClient = { ...client, isActive: true, registrationType: 'metadata_document' };
  const keys = (Object.keys(COLUMNS) as (keyof NewClient)[]).filter((k) => row[k] !== undefined);
  const updated = keys.filter((k) => k !== 'clientId' && k !== 'isActive' && k !== 'registrationType');
  const { rowCount } = await db.query(
    `INSERT INTO clients (${keys.map((k) => COLUMNS[k]).join(', ')})
     VALUES (${keys.map((_, i) => `$${i + 1}`).join(', ')})
     ON CONFLICT (client_id) DO UPDATE SET ${updated.map((k) => `${COLUMNS[k]} = EXCLUDED.${COLUMNS[k]}`).join(', ')}, updated_at = now()
     WHERE clients.registration_type = 'metadata_document'`,
    keys.map((k) => row[k]),
  );
  return rowCount > 0 ? findClient(db, client.clientId) : undefined;
}
