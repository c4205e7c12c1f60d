import type { Queryable } from '../db/db.js';
import type { PageKey } from '../lib/page-key.js';
import { keysetPage, type KeysetPage } from './keyset.js';
import type { AccessTokenFormat, IdTokenSigningAlg } from './clients-repository.js';

/** A protected resource (an API or MCP server), named by its canonical identifier (RFC 8707 section 2). */
export interface Resource {
  identifier: string;
  name: string;
  /** The scopes this resource accepts: a token for it carries only these. */
  scopes: string[];
  /** null: the client's format, else the server default. */
  accessTokenFormat: AccessTokenFormat | null;
  /** null: ACCESS_TOKEN_TTL_SECONDS. */
  accessTokenTtlSeconds: number | null;
  /** null: JWT_ALGORITHM. */
  signingAlg: IdTokenSigningAlg | null;
  /** The clients that act for this resource; they may introspect its tokens. */
  clientIds: string[];
  createdAt: Date;
  updatedAt: Date;
}

export type NewResource = Omit<Resource, 'createdAt' | 'updatedAt'>;
export type ResourceChanges = Partial<Omit<Resource, 'identifier' | 'createdAt' | 'updatedAt'>>;

const COLUMNS = {
  name: 'name',
  scopes: 'scopes',
  accessTokenFormat: 'access_token_format',
  accessTokenTtlSeconds: 'access_token_ttl_seconds',
  signingAlg: 'signing_alg',
} as const satisfies Record<keyof Omit<ResourceChanges, 'clientIds'>, string>;

const SELECT_LIST = `r.identifier, r.name, r.scopes, r.access_token_format AS "accessTokenFormat",
  r.access_token_ttl_seconds AS "accessTokenTtlSeconds", r.signing_alg AS "signingAlg",
  COALESCE((SELECT array_agg(rc.client_id ORDER BY rc.client_id) FROM resource_clients rc WHERE rc.resource = r.identifier), '{}') AS "clientIds",
  r.created_at AS "createdAt", r.updated_at AS "updatedAt"`;
const SELECT = `SELECT ${SELECT_LIST} FROM resources r`;

export async function findResource(db: Queryable, identifier: string): Promise<Resource | undefined> {
  return (await db.query<Resource>(`${SELECT} WHERE r.identifier = $1`, [identifier])).rows[0];
}

/** The resource, its row locked until the transaction ends (admin updates and deletes). */
export async function findResourceForUpdate(db: Queryable, identifier: string): Promise<Resource | undefined> {
  return (await db.query<Resource>(`${SELECT} WHERE r.identifier = $1 FOR UPDATE OF r`, [identifier])).rows[0];
}

/**
 * The registered identifiers among `identifiers`, their rows share-locked until the transaction ends: a
 * client's allowed_resources checked against them cannot lose one to a concurrent delete.
 */
export async function lockResourcesForShare(db: Queryable, identifiers: readonly string[]): Promise<string[]> {
  if (identifiers.length === 0) return [];
  const { rows } = await db.query<{ identifier: string }>(
    'SELECT identifier FROM resources WHERE identifier = ANY($1::text[]) ORDER BY identifier FOR SHARE',
    [identifiers],
  );
  return rows.map((r) => r.identifier);
}

/** How many resources accept `scope` (a scope in use cannot be deleted). */
export async function countResourcesUsingScope(db: Queryable, scope: string): Promise<number> {
  const { rows } = await db.query<{ total: number }>('SELECT count(*)::int AS total FROM resources WHERE $1 = ANY(scopes)', [scope]);
  return rows[0]?.total ?? 0;
}

/** The registered resources among `identifiers`, in no particular order. */
export async function findResources(db: Queryable, identifiers: readonly string[]): Promise<Resource[]> {
  if (identifiers.length === 0) return [];
  return (await db.query<Resource>(`${SELECT} WHERE r.identifier = ANY($1::text[])`, [identifiers])).rows;
}

/** A page of resources by identifier (its primary key): the order `resource` values sort in. */
export async function listResources(db: Queryable, page: { limit: number; cursor?: PageKey | undefined }): Promise<KeysetPage<Resource>> {
  return keysetPage<Resource>(db, { columns: SELECT_LIST, from: 'resources r', key: [{ sql: 'r.identifier', part: 'text' }], order: 'asc' }, page);
}

/** The identifiers of the resources `clientId` acts for. */
export async function resourcesActedForBy(db: Queryable, clientId: string): Promise<string[]> {
  const { rows } = await db.query<{ resource: string }>(
    'SELECT resource FROM resource_clients WHERE client_id = $1 ORDER BY resource',
    [clientId],
  );
  return rows.map((r) => r.resource);
}

/** Inserts the resource and its acting clients; call inside a transaction. */
export async function insertResource(db: Queryable, resource: NewResource): Promise<Resource> {
  await db.query(
    `INSERT INTO resources (identifier, name, scopes, access_token_format, access_token_ttl_seconds, signing_alg)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [resource.identifier, resource.name, resource.scopes, resource.accessTokenFormat, resource.accessTokenTtlSeconds, resource.signingAlg],
  );
  await setResourceClients(db, resource.identifier, resource.clientIds);
  return (await findResource(db, resource.identifier))!;
}

/** Applies the changes (the acting clients replaced as a whole when given); call inside a transaction. */
export async function updateResource(db: Queryable, identifier: string, changes: ResourceChanges): Promise<Resource | undefined> {
  const keys = (Object.keys(COLUMNS) as (keyof typeof COLUMNS)[]).filter((k) => changes[k] !== undefined);
  const { rowCount } = await db.query(
    `UPDATE resources SET ${keys.map((k, i) => `${COLUMNS[k]} = $${i + 2}, `).join('')}updated_at = now() WHERE identifier = $1`,
    [identifier, ...keys.map((k) => changes[k])],
  );
  if (rowCount === 0) return undefined;
  if (changes.clientIds !== undefined) await setResourceClients(db, identifier, changes.clientIds);
  return findResource(db, identifier);
}

async function setResourceClients(db: Queryable, identifier: string, clientIds: readonly string[]): Promise<void> {
  await db.query('DELETE FROM resource_clients WHERE resource = $1', [identifier]);
  if (clientIds.length === 0) return;
  await db.query(
    'INSERT INTO resource_clients (resource, client_id) SELECT $1, unnest($2::text[])',
    [identifier, [...new Set(clientIds)]],
  );
}

export async function deleteResource(db: Queryable, identifier: string): Promise<boolean> {
  return (await db.query('DELETE FROM resources WHERE identifier = $1', [identifier])).rowCount > 0;
}
