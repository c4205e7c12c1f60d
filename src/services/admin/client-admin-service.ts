import type { Queryable } from '../../db/db.js';
import { Conflict, NotFound, ValidationFailed } from '../../errors/admin-errors.js';
import { isUniqueViolation } from '../../errors/storage-errors.js';
import { randomToken } from '../../lib/crypto.js';
import { parseScope } from '../../lib/scopes.js';
import {
  deleteClient as deleteClientRow,
  findClient,
  findClientForUpdate,
  insertClient,
  listClients as listClientRows,
  updateClient as updateClientRow,
  type Client,
  type ClientChanges,
  type RegistrationType,
  type TokenEndpointAuthMethod,
} from '../../repositories/clients-repository.js';
import { lockResourcesForShare, resourcesActedForBy } from '../../repositories/resources-repository.js';
import { findScopes } from '../../repositories/scopes-repository.js';
import { hashClientSecret } from '../client-authentication.js';
import { sealClientSecret } from '../client-secret-box.js';
import type { ServiceContext } from '../context.js';
import { invalidateResource } from '../resource-lookup.js';
import { unlockClient } from '../throttle-service.js';
import { requestObjectSettingsProblem } from '../request-object-service.js';
import { clientKeysProblems, idTokenAlgProblem, redirectUriProblem, registrationProblems, responseTypesFor } from './client-registration-rules.js';
import type { Page, PageRequest } from './pagination.js';
import { assertMayAssignScope, assertMayChangeClient, type AdminCaller } from './privilege-rules.js';

type Ctx = Pick<ServiceContext, 'db' | 'clientSecretKey' | 'clients' | 'keys' | 'resources' | 'config'>;

/** What an administrator may set on a client (RFC 7591 metadata plus Authly's own flags). */
export type ClientMetadata = Omit<
  Client,
  | 'clientId'
  | 'clientSecretHash'
  | 'clientSecretEncrypted'
  | 'clientType'
  | 'registrationType'
  | 'lastUsedAt'
  | 'metadataExpiresAt'
  | 'createdAt'
  | 'updatedAt'
>;

export type NewClientInput = Partial<ClientMetadata> & { clientName: string; clientId?: string };

export interface ClientWithSecret {
  client: Client;
  /** The plain secret, returned once at creation or rotation; only its hash is stored. */
  clientSecret: string | null;
}

export const CLIENT_DEFAULTS = {
  tokenEndpointAuthMethod: 'client_secret_basic',
  redirectUris: [],
  postLogoutRedirectUris: [],
  grantTypes: ['authorization_code'],
  scope: 'openid profile email',
  clientUri: null,
  logoUri: null,
  tosUri: null,
  policyUri: null,
  contacts: [],
  skipConsent: false,
  requirePkce: true,
  isActive: true,
  // OIDC Core section 3.1.3.7: RS256 is the alg every relying party supports.
  idTokenSignedResponseAlg: 'RS256',
  accessTokenFormat: null,
  allowedResources: null,
  // null: MFA_POLICY applies.
  mfaPolicy: null,
  dpopBoundAccessTokens: false,
  // OIDC Back-Channel Logout 1.0 section 2.2: none unless registered; sid is not required by default.
  backchannelLogoutUri: null,
  backchannelLogoutSessionRequired: false,
  requirePushedAuthorizationRequests: false,
  requestObjectSigningAlg: null,
  requireSignedRequestObject: false,
  jwks: null,
  jwksUri: null,
  tokenEndpointAuthSigningAlg: null,
} satisfies Omit<ClientMetadata, 'clientName' | 'responseTypes'>;

/** 256 bits from the CSPRNG (SECURITY.md), so the fast keyed hash of client-authentication.ts suffices. */
const newClientSecret = () => randomToken(32);

/** Whether a client with this method is shown a secret: a private_key_jwt client proves itself with its keys. */
export function methodHasSecret(method: TokenEndpointAuthMethod): boolean {
  return method !== 'none' && method !== 'private_key_jwt';
}

/**
 * The stored form of a client's secret: its keyed hash, and for client_secret_jwt also the secret
 * encrypted (src/services/client-secret-box.ts), since an HMAC assertion is verified with the secret itself.
 */
export function storedSecret(
  key: Buffer,
  clientId: string,
  method: TokenEndpointAuthMethod,
  secret: string | null,
): Pick<Client, 'clientSecretHash' | 'clientSecretEncrypted'> {
  if (secret === null) return { clientSecretHash: null, clientSecretEncrypted: null };
  return {
    clientSecretHash: hashClientSecret(key, secret),
    clientSecretEncrypted: method === 'client_secret_jwt' ? sealClientSecret(key, clientId, secret) : null,
  };
}

/**
 * 128 random bits, URL-safe: identifiers are public but should not be guessable in bulk. Drawn again
 * when it would start with '-' or '_', so it never reads as an option on a command line.
 */
export function newClientId(): string {
  for (;;) {
    const id = randomToken(16);
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

async function assertValid(ctx: Pick<Ctx, 'keys' | 'config'>, db: Queryable, client: ClientMetadata): Promise<void> {
  const problems = { ...registrationProblems(client, { outboundAllowLoopback: ctx.config.outboundAllowLoopback }), ...clientKeysProblems(client, ctx.config) };
  const algProblem = idTokenAlgProblem(client.idTokenSignedResponseAlg, ctx.keys.algorithms);
  if (algProblem) problems.id_token_signed_response_alg = algProblem;
  const requestObjectProblem = requestObjectSettingsProblem(client);
  if (requestObjectProblem) problems[requestObjectProblem.field] ??= requestObjectProblem.reason;
  const requested = parseScope(client.scope);
  if (requested.length > 0 && problems.scope === undefined) {
    const known = new Set((await findScopes(db, requested)).map((s) => s.name));
    const unknown = requested.filter((s) => !known.has(s));
    if (unknown.length > 0) problems.scope = `unknown scope: ${unknown.join(' ')}`;
  }
  if (client.allowedResources !== null) {
    // Share-locked until the client is written, so a concurrent delete of the resource waits and then sees it listed.
    const registered = new Set(await lockResourcesForShare(db, client.allowedResources));
    client.allowedResources.forEach((identifier, i) => {
      if (!registered.has(identifier)) problems[`allowed_resources.${i}`] = 'is not a registered resource';
    });
  }
  if (Object.keys(problems).length > 0) throw new ValidationFailed(problems, 'the client registration is not valid');
}

function metadataOf(client: Client): ClientMetadata {
  const {
    clientId: _id,
    clientSecretHash: _hash,
    clientSecretEncrypted: _encrypted,
    clientType: _type,
    registrationType: _r,
    lastUsedAt: _l,
    metadataExpiresAt: _m,
    createdAt: _c,
    updatedAt: _u,
    ...metadata
  } = client;
  return metadata;
}

export async function createClient(ctx: Ctx, caller: AdminCaller, input: NewClientInput): Promise<ClientWithSecret> {
  const { clientId, ...given } = withoutUndefined(input);
  const grantTypes = given.grantTypes ?? CLIENT_DEFAULTS.grantTypes;
  const metadata: ClientMetadata = { ...CLIENT_DEFAULTS, responseTypes: responseTypesFor(grantTypes), ...given };
  assertMayAssignScope(caller, metadata.scope, clientId);
  const isPublic = metadata.tokenEndpointAuthMethod === 'none';
  // A private_key_jwt client gets a secret nobody is shown (the clients table wants one for every
  // confidential client), and the secret methods refuse it anyway (client-authentication.ts).
  const stored = isPublic ? null : newClientSecret();
  const clientSecret = methodHasSecret(metadata.tokenEndpointAuthMethod) ? stored : null;
  const id = clientId ?? newClientId();
  try {
    const client = await ctx.db.transaction(async (tx) => {
      await assertValid(ctx, tx, metadata);
      return insertClient(tx, {
        ...metadata,
        clientId: id,
        clientType: isPublic ? 'public' : 'confidential',
        ...storedSecret(ctx.clientSecretKey, id, metadata.tokenEndpointAuthMethod, stored),
      });
    });
    return { client, clientSecret };
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict('a client with this client_id already exists', { client_id: 'already exists' });
    throw err;
  }
}

/** A page of clients, newest first; `query` matches a part of the client_id or the name. */
export function listClients(
  ctx: Ctx,
  page: PageRequest,
  filter: { registrationType?: RegistrationType | undefined; query?: string | undefined } = {},
): Promise<Page<Client>> {
  return listClientRows(ctx.db, page, filter);
}

// PostgreSQL text cannot hold U+0000 (it would be a database error): such an id names no client.
const storable = (clientId: string) => !clientId.includes('\u0000');

export async function getClient(ctx: Ctx, clientId: string): Promise<Client> {
  const client = storable(clientId) ? await findClient(ctx.db, clientId) : undefined;
  if (!client) throw new NotFound('client');
  return client;
}

/**
 * A partial update, validated on the merged result. A client cannot switch between public and
 * confidential: that would need a secret to appear or vanish, and public clients may hold tokens whose
 * PKCE-only protection was the premise of their registration. Create a new client instead. The privilege
 * rules are checked on the locked row, so a concurrent change cannot slip an admin scope in between.
 */
export function updateClient(ctx: Ctx, caller: AdminCaller, clientId: string, input: Partial<ClientMetadata>): Promise<Client> {
  return changeClient(ctx, caller, clientId, () => input);
}

/** The most redirect URIs a client registers (the admin API's redirect_uris bound). */
export const MAX_REDIRECT_URIS = 50;

/**
 * Adds one redirect URI to the client's list; already registered: the client unchanged (idempotent). The
 * list is read and written under the row lock, so concurrent additions all end up in it.
 */
export function addClientRedirectUri(ctx: Ctx, caller: AdminCaller, clientId: string, uri: string): Promise<Client> {
  // The registration rules would name the field redirect_uris.N; this call has one URI to name.
  const problem = redirectUriProblem(uri);
  if (problem) throw new ValidationFailed({ redirect_uri: problem }, 'the redirect URI is not valid');
  return changeClient(ctx, caller, clientId, (existing) => {
    if (existing.redirectUris.includes(uri)) return undefined;
    if (existing.redirectUris.length >= MAX_REDIRECT_URIS) {
      throw new ValidationFailed({ redirect_uris: `at most ${MAX_REDIRECT_URIS} redirect URIs` }, 'the client has as many redirect URIs as it may');
    }
    return { redirectUris: [...existing.redirectUris, uri] };
  });
}

/**
 * Removes one redirect URI (exact string match, as redirect URIs are compared: RFC 9700 section 2.1); not
 * registered: 404. The rest of the registration must stay valid (the code grant needs one redirect URI).
 */
export function removeClientRedirectUri(ctx: Ctx, caller: AdminCaller, clientId: string, uri: string): Promise<Client> {
  return changeClient(ctx, caller, clientId, (existing) => {
    if (!existing.redirectUris.includes(uri)) throw new NotFound('redirect URI');
    return { redirectUris: existing.redirectUris.filter((u) => u !== uri) };
  });
}

/**
 * Applies the changes `changesFor` derives from the locked row (undefined: nothing to change), checking
 * privileges and registration rules as an update does, and drops the cached client afterwards.
 */
async function changeClient(
  ctx: Ctx,
  caller: AdminCaller,
  clientId: string,
  changesFor: (existing: Client) => Partial<ClientMetadata> | undefined,
): Promise<Client> {
  if (!storable(clientId)) throw new NotFound('client');
  return ctx.db.transaction(async (tx) => {
    const existing = await findClientForUpdate(tx, clientId);
    if (!existing) throw new NotFound('client');
    assertMayChangeClient(caller, existing);
    const input = changesFor(existing);
    if (input === undefined) return existing;
    const changes: ClientChanges = withoutUndefined(input);
    if (changes.scope !== undefined) assertMayAssignScope(caller, changes.scope, clientId);
    const method = changes.tokenEndpointAuthMethod;
    if (method !== undefined && (method === 'none') !== (existing.clientType === 'public')) {
      throw new ValidationFailed(
        { token_endpoint_auth_method: 'cannot switch between a public and a confidential client; create a new client' },
        'the client type cannot change',
      );
    }
    // response_types are determined by grant_types; follow them unless the caller sent both.
    if (changes.grantTypes !== undefined && changes.responseTypes === undefined) {
      changes.responseTypes = responseTypesFor(changes.grantTypes);
    }
    await assertValid(ctx, tx, { ...metadataOf(existing), ...(changes as Partial<ClientMetadata>) });
    // Only a client_secret_jwt client keeps its secret readable, and a private_key_jwt client has none: a
    // switch to client_secret_jwt takes effect with the next rotation (rotate-secret), which seals the secret.
    if (method !== undefined && method !== 'client_secret_jwt') changes.clientSecretEncrypted = null;
    // The old secret is forgotten: switching back later needs a rotation, never revives it.
    if (method === 'private_key_jwt' && existing.tokenEndpointAuthMethod !== 'private_key_jwt') {
      changes.clientSecretHash = hashClientSecret(ctx.clientSecretKey, newClientSecret());
    }
    return (await updateClientRow(tx, clientId, changes))!;
  }).finally(() => ctx.clients.invalidate(clientId));
}

export async function deleteClient(ctx: Ctx, caller: AdminCaller, clientId: string): Promise<void> {
  if (!storable(clientId)) throw new NotFound('client');
  const deleted = await ctx.db.transaction(async (tx) => {
    const existing = await findClientForUpdate(tx, clientId);
    if (!existing) return undefined;
    assertMayChangeClient(caller, existing);
    // The rows go with the client (ON DELETE CASCADE); the cached resources must not keep naming it, or a
    // new client given the same client_id would act for them until the cache entry expired.
    const actedFor = await resourcesActedForBy(tx, clientId);
    return (await deleteClientRow(tx, clientId)) ? actedFor : undefined;
  });
  if (!deleted) throw new NotFound('client');
  await ctx.clients.invalidate(clientId);
  await Promise.all(deleted.map((identifier) => invalidateResource(ctx, identifier)));
}

/** Issues a new secret and forgets the old one at once: the old secret stops working immediately. */
export async function rotateClientSecret(ctx: Ctx, caller: AdminCaller, clientId: string): Promise<ClientWithSecret> {
  if (!storable(clientId)) throw new NotFound('client');
  const clientSecret = newClientSecret();
  const client = await ctx.db.transaction(async (tx) => {
    const existing = await findClientForUpdate(tx, clientId);
    if (!existing) throw new NotFound('client');
    // Rotation hands the caller the client's power: an admin-capable client's secret is an admin credential.
    assertMayChangeClient(caller, existing);
    if (existing.clientType === 'public') {
      throw new ValidationFailed({ token_endpoint_auth_method: 'a public client has no secret' }, 'public clients have no secret to rotate');
    }
    if (!methodHasSecret(existing.tokenEndpointAuthMethod)) {
      throw new ValidationFailed(
        { token_endpoint_auth_method: 'a private_key_jwt client authenticates with its keys and has no secret' },
        'private_key_jwt clients have no secret to rotate',
      );
    }
    return updateClientRow(tx, clientId, storedSecret(ctx.clientSecretKey, clientId, existing.tokenEndpointAuthMethod, clientSecret));
  });
  // After the write: every replica must refuse the old secret once this call has answered.
  await ctx.clients.invalidate(clientId);
  if (!client) throw new NotFound('client');
  return { client, clientSecret };
}

/** Clears the client's failed authentication counts from every address (the brute-force throttle); 404 if unknown. */
export async function unlockClientAuthentication(ctx: Ctx & Pick<ServiceContext, 'throttleKey'>, clientId: string): Promise<number> {
  const client = await getClient(ctx, clientId);
  return unlockClient(ctx, client.clientId);
}
