import type { Queryable } from '../../db/db.js';
import { Conflict, NotFound, ValidationFailed } from '../../errors/admin-errors.js';
import { isUniqueViolation } from '../../errors/storage-errors.js';
import { canonicalResourceIdentifier } from '../../lib/resource-identifier.js';
import { countClientsAllowingResource, findClientForUpdate, type Client } from '../../repositories/clients-repository.js';
import {
  deleteResource as deleteResourceRow,
  findResource,
  findResourceForUpdate,
  insertResource,
  listResources as listResourceRows,
  updateResource as updateResourceRow,
  type NewResource,
  type Resource,
} from '../../repositories/resources-repository.js';
import { findScopes } from '../../repositories/scopes-repository.js';
import type { ServiceContext } from '../context.js';
import { invalidateResource } from '../resource-lookup.js';
import { USER_ONLY_SCOPES } from '../scope-policy.js';
import { idTokenAlgProblem } from './client-registration-rules.js';
import type { Page, PageRequest } from './pagination.js';
import { assertMayChangeResourceClients, assertMayChangeResourceScopes, type AdminCaller } from './privilege-rules.js';

/**
 * Resource servers (APIs, MCP servers) as an operator registers them (RFC 8707). Identifiers are stored in
 * canonical form and never change; the clients acting for a resource are its own confidential clients,
 * which may introspect its tokens.
 */

type Ctx = Pick<ServiceContext, 'db' | 'keys' | 'resources'>;

/** What an administrator may set on a resource besides its identifier. */
export type ResourceSettings = Omit<Resource, 'identifier' | 'createdAt' | 'updatedAt'>;
export type NewResourceInput = Partial<ResourceSettings> & { identifier: string; name: string };

/** The longest access-token lifetime a resource may set: the bound of ACCESS_TOKEN_EXPIRE_MINUTES (a day). */
export const MAX_RESOURCE_TOKEN_TTL_SECONDS = 86_400;

export const RESOURCE_DEFAULTS = {
  scopes: [],
  accessTokenFormat: null,
  accessTokenTtlSeconds: null,
  signingAlg: null,
  clientIds: [],
} satisfies Omit<ResourceSettings, 'name'>;

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The canonical form of an identifier from the path; one that cannot be canonical names no resource. */
function canonicalOrNotFound(identifier: string): string {
  const result = canonicalResourceIdentifier(identifier);
  if (!result.ok) throw new NotFound('resource');
  return result.identifier;
}

/**
 * The clients among `clientIds` (locked in id order, so concurrent writers cannot deadlock), and the ids
 * that name no client.
 */
async function lockClients(tx: Queryable, clientIds: readonly string[]): Promise<{ found: Client[]; missing: Set<string> }> {
  const found: Client[] = [];
  const missing = new Set<string>();
  for (const clientId of [...new Set(clientIds)].sort()) {
    const client = await findClientForUpdate(tx, clientId);
    if (client) found.push(client);
    else missing.add(clientId);
  }
  return { found, missing };
}

/** Every broken rule of the resource as `{ wire field: reason }`; throws validation_failed if any. */
async function assertValid(
  ctx: Pick<Ctx, 'keys'>,
  tx: Queryable,
  resource: NewResource,
  clients: { found: Client[]; missing: Set<string> },
): Promise<void> {
  const problems: Record<string, string> = {};
  const known = new Set((await findScopes(tx, resource.scopes)).map((s) => s.name));
  resource.scopes.forEach((scope, i) => {
    // The OpenID Connect scopes are about the user and answered by userinfo; no API's token carries them.
    if (USER_ONLY_SCOPES.has(scope)) problems[`scopes.${i}`] = 'is an OpenID Connect user scope: it belongs to userinfo, not to a resource';
    else if (!known.has(scope)) problems[`scopes.${i}`] = 'is not a registered scope';
  });
  const byId = new Map(clients.found.map((c) => [c.clientId, c]));
  resource.clientIds.forEach((clientId, i) => {
    const client = byId.get(clientId);
    if (!client) problems[`client_ids.${i}`] = 'is not a registered client';
    // RFC 7662 section 2.1: the caller of the introspection endpoint authenticates.
    else if (client.clientType !== 'confidential') problems[`client_ids.${i}`] = 'is a public client; only a confidential client can introspect';
  });
  if (resource.signingAlg !== null) {
    const problem = idTokenAlgProblem(resource.signingAlg, ctx.keys.algorithms);
    if (problem) problems.signing_alg = problem;
  }
  if (Object.keys(problems).length > 0) throw new ValidationFailed(problems, 'the resource is not valid');
}

export function listResources(ctx: Ctx, page: PageRequest): Promise<Page<Resource>> {
  return listResourceRows(ctx.db, page);
}

export async function getResource(ctx: Ctx, identifier: string): Promise<Resource> {
  const resource = await findResource(ctx.db, canonicalOrNotFound(identifier));
  if (!resource) throw new NotFound('resource');
  return resource;
}

export async function createResource(ctx: Ctx, caller: AdminCaller, input: NewResourceInput): Promise<Resource> {
  const resource: NewResource = { ...RESOURCE_DEFAULTS, ...withoutUndefined(input) };
  assertMayChangeResourceScopes(caller, resource.scopes, resource.identifier);
  try {
    return await ctx.db.transaction(async (tx) => {
      const clients = await lockClients(tx, resource.clientIds);
      assertMayChangeResourceClients(caller, clients.found, resource.identifier);
      await assertValid(ctx, tx, resource, clients);
      return insertResource(tx, resource);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict('a resource with this identifier already exists', { identifier: 'already exists' });
    throw err;
  } finally {
    await invalidateResource(ctx, resource.identifier);
  }
}

/**
 * A partial update, validated on the merged result. The privilege rules look at the resource before and
 * after the change, on the locked row and locked clients, so a concurrent change cannot slip past them.
 */
export async function updateResource(ctx: Ctx, caller: AdminCaller, identifier: string, input: Partial<ResourceSettings>): Promise<Resource> {
  const canonical = canonicalOrNotFound(identifier);
  const changes = withoutUndefined(input);
  return ctx.db
    .transaction(async (tx) => {
      const existing = await findResourceForUpdate(tx, canonical);
      if (!existing) throw new NotFound('resource');
      const merged: NewResource = { ...existing, ...changes };
      assertMayChangeResourceScopes(caller, [...existing.scopes, ...merged.scopes], canonical);
      const clients = await lockClients(tx, [...existing.clientIds, ...merged.clientIds]);
      assertMayChangeResourceClients(caller, clients.found, canonical);
      await assertValid(ctx, tx, merged, clients);
      return (await updateResourceRow(tx, canonical, changes))!;
    })
    .finally(() => invalidateResource(ctx, canonical));
}

/**
 * A resource that a client lists in allowed_resources cannot be deleted (as a scope a client registers
 * cannot): the client's allow-list would name nothing, and a later resource with that identifier would
 * inherit it. The tokens already issued for it keep their aud until they expire.
 */
/** Returns the canonical identifier of the deleted resource. */
export async function deleteResource(ctx: Ctx, caller: AdminCaller, identifier: string): Promise<string> {
  const canonical = canonicalOrNotFound(identifier);
  const deleted = await ctx.db
    .transaction(async (tx) => {
      const existing = await findResourceForUpdate(tx, canonical);
      if (!existing) return false;
      assertMayChangeResourceScopes(caller, existing.scopes, canonical);
      assertMayChangeResourceClients(caller, (await lockClients(tx, existing.clientIds)).found, canonical);
      const users = await countClientsAllowingResource(tx, canonical);
      if (users > 0) throw new Conflict(`${canonical} is in the allowed_resources of ${users} client(s); remove it from them first`);
      return deleteResourceRow(tx, canonical);
    })
    .finally(() => invalidateResource(ctx, canonical));
  if (!deleted) throw new NotFound('resource');
  return canonical;
}
