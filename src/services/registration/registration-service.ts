import { InvalidClientMetadata, InvalidToken, RegistrationNotAllowed } from '../../errors/oauth-errors.js';
import { constantTimeEqual, randomToken, sha256Base64url } from '../../lib/crypto.js';
import { parseScope } from '../../lib/scopes.js';
import {
  findClientRegistration,
  findClientRegistrationForUpdate,
  insertClientRegistration,
  updateApplicationType,
  type ApplicationType,
} from '../../repositories/client-registrations-repository.js';
import { deleteClient, findClient, insertClient, updateClient, type Client } from '../../repositories/clients-repository.js';
import { consumeInitialAccessToken, isInitialAccessTokenUsable } from '../../repositories/initial-access-tokens-repository.js';
import { findScopes } from '../../repositories/scopes-repository.js';
import { bearerToken } from '../access-token-verifier.js';
import { methodHasSecret, newClientId, storedSecret } from '../admin/client-admin-service.js';
import { hashClientSecret, verifyClientSecret } from '../client-authentication.js';
import type { ServiceContext } from '../context.js';
import { parseRegistrationMetadata, registrationError, type RegisteredMetadata, type RegistrationMetadataOptions } from './registration-metadata.js';

/**
 * Dynamic client registration (RFC 7591) and the client configuration endpoint (RFC 7592), as plain
 * functions the route calls in order. What a registration cannot choose: admin scopes (never), skip_consent
 * (always false: the user sees who asks), PKCE (always required), the access-token format and the allowed
 * resources (the server's defaults). Such clients are `registration_type = 'dynamic'`.
 */

type Ctx = Pick<ServiceContext, 'config' | 'db' | 'clients' | 'keys' | 'clientSecretKey' | 'audit'>;

/** The scopes a registration gets when it asks for none (RFC 7591 section 2 lets the server choose). */
export const DEFAULT_REGISTRATION_SCOPE = 'openid profile email';

export interface RegisteredClient {
  client: Client;
  applicationType: ApplicationType;
  /** Returned once, at registration; only the hash is stored. */
  clientSecret: string | null;
  /** The token the client manages its registration with: new at registration, the presented one after. */
  registrationAccessToken: string;
}

/** Registration access tokens and initial access tokens carry 256 random bits; a SHA-256 suffices. */
export const hashRegistrationToken = sha256Base64url;

const invalidToken = (description: string) => new InvalidToken(description);

/**
 * Step 1 of a registration: the policy. closed → 403; initial-access-token → a usable token in the
 * Authorization header (RFC 7591 section 3, RFC 6750: 401 invalid_token otherwise); open → anyone (the rate
 * limit applies). Returns the initial access token's hash, to be consumed with the insert.
 */
export async function checkRegistrationPolicy(ctx: Pick<Ctx, 'config' | 'db'>, authorization: string | undefined): Promise<string | undefined> {
  switch (ctx.config.registrationPolicy) {
    case 'closed':
      throw new RegistrationNotAllowed('dynamic client registration is not enabled on this server');
    case 'open':
      return undefined;
    case 'initial-access-token': {
      const hash = hashRegistrationToken(bearerToken(authorization));
      if (!(await isInitialAccessTokenUsable(ctx.db, hash))) throw invalidToken('the initial access token is not valid, expired or used up');
      return hash;
    }
  }
}

/** The requested scopes, each registered and none an admin scope; without a request, the defaults that exist. */
async function registrableScope(ctx: Pick<Ctx, 'db'>, requested: string | undefined): Promise<string> {
  const names = parseScope(requested ?? DEFAULT_REGISTRATION_SCOPE);
  const known = new Set((await findScopes(ctx.db, names)).map((s) => s.name));
  if (requested === undefined) return names.filter((name) => known.has(name)).join(' ');
  const unknown = names.filter((name) => !known.has(name));
  if (unknown.length > 0) throw registrationError('scope', `unknown scope: ${unknown.join(' ')}`);
  return names.join(' ');
}

/** The clients row of a registration; a client that gave no name is shown under its client_id. */
function metadataOptions(ctx: Pick<Ctx, 'keys' | 'config'>): RegistrationMetadataOptions {
  return {
    signingAlgs: ctx.keys.algorithms,
    outboundAllowLoopback: ctx.config.outboundAllowLoopback,
    backchannelLogout: ctx.config.backchannelLogout.enabled,
  };
}

function clientFields(metadata: RegisteredMetadata, clientId: string, scope: string) {
  return {
    clientName: metadata.clientName ?? clientId,
    tokenEndpointAuthMethod: metadata.tokenEndpointAuthMethod,
    redirectUris: metadata.redirectUris,
    postLogoutRedirectUris: metadata.postLogoutRedirectUris,
    grantTypes: metadata.grantTypes,
    responseTypes: metadata.responseTypes,
    scope,
    clientUri: metadata.clientUri,
    logoUri: metadata.logoUri,
    tosUri: metadata.tosUri,
    policyUri: metadata.policyUri,
    contacts: metadata.contacts,
    idTokenSignedResponseAlg: metadata.idTokenSignedResponseAlg,
    dpopBoundAccessTokens: metadata.dpopBoundAccessTokens,
    backchannelLogoutUri: metadata.backchannelLogoutUri,
    backchannelLogoutSessionRequired: metadata.backchannelLogoutSessionRequired,
    requirePushedAuthorizationRequests: metadata.requirePushedAuthorizationRequests,
    requestObjectSigningAlg: metadata.requestObjectSigningAlg,
    requireSignedRequestObject: metadata.requireSignedRequestObject,
    tokenEndpointAuthSigningAlg: metadata.tokenEndpointAuthSigningAlg,
    jwks: metadata.jwks,
    jwksUri: metadata.jwksUri,
  };
}

/**
 * RFC 7591 section 3: checks the metadata, then in one transaction takes a use of the initial access token
 * (if the policy wants one) and inserts the client and its registration. Nothing is written when any step
 * fails, and a use is taken only by a registration that commits.
 */
export async function registerClient(ctx: Ctx, body: unknown, initialAccessTokenHash: string | undefined): Promise<RegisteredClient> {
  const metadata = parseRegistrationMetadata(body, metadataOptions(ctx));
  const scope = await registrableScope(ctx, metadata.scope);
  const clientId = newClientId();
  const isPublic = metadata.tokenEndpointAuthMethod === 'none';
  // As through the admin API: a private_key_jwt client is stored with a secret nobody is shown.
  const stored = isPublic ? null : randomToken(32);
  const clientSecret = methodHasSecret(metadata.tokenEndpointAuthMethod) ? stored : null;
  const registrationAccessToken = randomToken(32);
  const client = await ctx.db.transaction(async (tx) => {
    if (initialAccessTokenHash !== undefined && (await consumeInitialAccessToken(tx, initialAccessTokenHash)) === undefined) {
      throw invalidToken('the initial access token is not valid, expired or used up');
    }
    const inserted = await insertClient(tx, {
      ...clientFields(metadata, clientId, scope),
      clientId,
      clientType: isPublic ? 'public' : 'confidential',
      ...storedSecret(ctx.clientSecretKey, clientId, metadata.tokenEndpointAuthMethod, stored),
      skipConsent: false,
      requirePkce: true,
      isActive: true,
      accessTokenFormat: null,
      registrationType: 'dynamic',
    });
    await insertClientRegistration(tx, {
      clientId,
      registrationAccessTokenHash: hashRegistrationToken(registrationAccessToken),
      applicationType: metadata.applicationType,
    });
    return inserted;
  });
  ctx.audit.record('client.registered', { client_id: clientId, actor: clientId, actor_type: 'client', reason: ctx.config.registrationPolicy, scope });
  return { client, applicationType: metadata.applicationType, clientSecret, registrationAccessToken };
}

// A hash no token has: compared against when the client is unknown, so timing does not tell.
const NO_HASH = hashRegistrationToken('');

/**
 * RFC 7592 section 3: the registration access token in the Authorization header must be the one issued
 * for this client_id. A missing, malformed or wrong token, a token of another client, or a client that
 * no longer exists: 401 invalid_token (sections 2.1 to 2.3 answer a client that does not exist with 401).
 */
async function authenticate(ctx: Pick<Ctx, 'db'>, clientId: string, authorization: string | undefined): Promise<{ token: string; applicationType: ApplicationType }> {
  const token = bearerToken(authorization);
  const record = clientId.includes('\u0000') ? undefined : await findClientRegistration(ctx.db, clientId);
  const matches = constantTimeEqual(hashRegistrationToken(token), record?.registrationAccessTokenHash ?? NO_HASH);
  if (!record || !matches) throw invalidToken('the registration access token is not valid for this client');
  return { token, applicationType: record.applicationType };
}

/** RFC 7592 section 2.1: the client's current registration. */
export async function readRegistration(ctx: Ctx, clientId: string, authorization: string | undefined): Promise<RegisteredClient> {
  const { token, applicationType } = await authenticate(ctx, clientId, authorization);
  const client = await findClient(ctx.db, clientId);
  if (!client) throw invalidToken('the registration access token is not valid for this client');
  return { client, applicationType, clientSecret: null, registrationAccessToken: token };
}

/** Members of the client information response that an update must not send (RFC 7592 section 2.2). */
const SERVER_OWNED = ['registration_access_token', 'registration_client_uri', 'client_secret_expires_at', 'client_id_issued_at'] as const;

/**
 * RFC 7592 section 2.2: a full replacement of the metadata. The body names the same client_id; a
 * client_secret, if sent, must be the current one (a client never chooses its secret); the client cannot
 * turn public or confidential. Omitted metadata takes the registration defaults again.
 */
export async function updateRegistration(ctx: Ctx, clientId: string, authorization: string | undefined, body: unknown): Promise<RegisteredClient> {
  const { token } = await authenticate(ctx, clientId, authorization);
  const input = (body !== null && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const metadata = parseRegistrationMetadata(body, metadataOptions(ctx));
  if (input.client_id !== clientId) throw new InvalidClientMetadata('client_id: must be the client_id of this registration');
  const owned = SERVER_OWNED.find((name) => input[name] !== undefined);
  if (owned) throw new InvalidClientMetadata(`${owned}: must not be sent in an update (RFC 7592 section 2.2)`);
  const scope = await registrableScope(ctx, metadata.scope);
  const client = await ctx.db
    .transaction(async (tx) => {
      // The lock serializes concurrent updates and deletes of one registration.
      if (!(await findClientRegistrationForUpdate(tx, clientId))) throw invalidToken('the registration access token is not valid for this client');
      const existing = (await findClient(tx, clientId))!;
      if (input.client_secret !== undefined) {
        const sent = typeof input.client_secret === 'string' ? input.client_secret : '';
        if (!verifyClientSecret(ctx.clientSecretKey, sent, existing.clientSecretHash)) {
          throw new InvalidClientMetadata('client_secret: does not match the current secret (a client cannot choose its secret)');
        }
      }
      if ((metadata.tokenEndpointAuthMethod === 'none') !== (existing.clientType === 'public')) {
        throw new InvalidClientMetadata('token_endpoint_auth_method: a client cannot switch between public and confidential; register a new client');
      }
      const method = metadata.tokenEndpointAuthMethod;
      // A client never chooses its secret (RFC 7592 section 2.2), and client_secret_jwt needs one Authly can
      // read (src/services/client-secret-box.ts): only a registration made for it has that.
      if (method === 'client_secret_jwt' && existing.clientSecretEncrypted === null) {
        throw new InvalidClientMetadata('token_endpoint_auth_method: client_secret_jwt needs a secret issued for it; register a new client');
      }
      if (existing.tokenEndpointAuthMethod === 'private_key_jwt' && methodHasSecret(method)) {
        throw new InvalidClientMetadata(`token_endpoint_auth_method: this client was issued no secret for ${method}; register a new client`);
      }
      await updateApplicationType(tx, clientId, metadata.applicationType);
      const forgetSecret = method === 'private_key_jwt' && existing.tokenEndpointAuthMethod !== 'private_key_jwt';
      return (await updateClient(tx, clientId, {
        ...clientFields(metadata, clientId, scope),
        ...(forgetSecret ? { clientSecretHash: hashClientSecret(ctx.clientSecretKey, randomToken(32)) } : {}),
        ...(method !== 'client_secret_jwt' ? { clientSecretEncrypted: null } : {}),
      }))!;
    })
    .finally(() => ctx.clients.invalidate(clientId));
  ctx.audit.record('client.registration_updated', { client_id: clientId, actor: clientId, actor_type: 'client', scope });
  return { client, applicationType: metadata.applicationType, clientSecret: null, registrationAccessToken: token };
}

/** RFC 7592 section 2.3: the client deletes itself; its tokens, grants and registration go with it. */
export async function deleteRegistration(ctx: Ctx, clientId: string, authorization: string | undefined): Promise<void> {
  await authenticate(ctx, clientId, authorization);
  await deleteClient(ctx.db, clientId);
  await ctx.clients.invalidate(clientId);
  ctx.audit.record('client.registration_deleted', { client_id: clientId, actor: clientId, actor_type: 'client' });
}
