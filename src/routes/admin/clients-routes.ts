import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ROUTES } from '../../config/routes.js';
import { parseScope, SCOPE_TOKEN } from '../../lib/scopes.js';
import type { Client, RegistrationType } from '../../repositories/clients-repository.js';
import {
  createClient,
  deleteClient,
  getClient,
  listClients,
  rotateClientSecret,
  unlockClientAuthentication,
  updateClient,
  type ClientWithSecret,
} from '../../services/admin/client-admin-service.js';
import {
  ACCESS_TOKEN_FORMATS,
  CLIENT_AUTH_SIGNING_ALGS,
  GRANT_TYPES,
  ID_TOKEN_SIGNING_ALGS,
  RESPONSE_TYPES,
  TOKEN_ENDPOINT_AUTH_METHODS,
} from '../../services/admin/client-registration-rules.js';
import { audited, callerOf } from './admin-auth.js';
import { camelKeys, httpUrl, page, pageQuery, parseInput, resourceIdentifier, text, toWire, uniqueArray } from './admin-wire.js';
import { MFA_POLICIES } from '../../services/mfa-policy.js';
import { REQUEST_OBJECT_REGISTRATION_ALGS } from '../../services/request-object-service.js';

// RFC 7591 section 2 and OpenID Connect Dynamic Client Registration 1.0 section 2 names; the
// registration rules themselves (including which algs this server holds keys for) live in the service.
const metadata = {
  client_name: text(),
  redirect_uris: uniqueArray(z.string().max(2000), 50),
  post_logout_redirect_uris: uniqueArray(z.string().max(2000), 50),
  grant_types: uniqueArray(z.enum(GRANT_TYPES), GRANT_TYPES.length),
  response_types: uniqueArray(z.enum(RESPONSE_TYPES), RESPONSE_TYPES.length),
  token_endpoint_auth_method: z.enum(TOKEN_ENDPOINT_AUTH_METHODS),
  scope: z
    .string()
    .max(2000)
    .refine((s) => parseScope(s).every((token) => SCOPE_TOKEN.test(token)), {
      message: 'expected space-separated scope tokens (RFC 6749 section 3.3)',
    })
    .transform((s) => parseScope(s).join(' ')),
  client_uri: httpUrl.nullable(),
  logo_uri: httpUrl.nullable(),
  tos_uri: httpUrl.nullable(),
  policy_uri: httpUrl.nullable(),
  contacts: uniqueArray(z.email({ message: 'expected an email address' }).max(320), 20),
  skip_consent: z.boolean(),
  require_pkce: z.boolean(),
  is_active: z.boolean(),
  id_token_signed_response_alg: z.enum(ID_TOKEN_SIGNING_ALGS),
  // null: the server default (ACCESS_TOKEN_FORMAT).
  access_token_format: z.enum(ACCESS_TOKEN_FORMATS).nullable(),
  // RFC 8707: the resources the client may ask for, canonicalized; null: every registered resource.
  allowed_resources: uniqueArray(resourceIdentifier, 100).nullable(),
  // Second factor at sign-in for this client: off, optional or required; null: MFA_POLICY.
  mfa_policy: z.enum(MFA_POLICIES).nullable(),
  // RFC 9449 section 5.2: every token request must carry a DPoP proof.
  dpop_bound_access_tokens: z.boolean(),
  // OIDC Back-Channel Logout 1.0 section 2.2 (the URL rules: client-registration-rules.ts); null: none.
  backchannel_logout_uri: z.string().max(2000).nullable(),
  backchannel_logout_session_required: z.boolean(),
  // RFC 9126 section 6: authorization requests only through POST /oauth/par.
  require_pushed_authorization_requests: z.boolean(),
  // RFC 9101: the one alg of the client's request objects (none only by registering it); null: any accepted.
  request_object_signing_alg: z.enum(REQUEST_OBJECT_REGISTRATION_ALGS).nullable(),
  // RFC 9101 section 10.5: every authorization request as a signed request object.
  require_signed_request_object: z.boolean(),
  // OpenID Connect Dynamic Client Registration 1.0 section 2: the client's public keys, by value or by URL
  // (never both); the service checks each key (src/services/client-keys.ts).
  jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).max(100) }).nullable(),
  jwks_uri: z.string().max(2000).nullable(),
  // The one alg the client's assertions may use (private_key_jwt, client_secret_jwt); null: any accepted one.
  token_endpoint_auth_signing_alg: z.enum(CLIENT_AUTH_SIGNING_ALGS).nullable(),
};

const createBody = z.strictObject({
  ...z.object(metadata).partial().shape,
  client_name: metadata.client_name,
  client_id: z
    .string()
    .regex(/^[A-Za-z0-9._~-]{1,128}$/, { message: 'expected 1 to 128 characters from A-Z a-z 0-9 . _ ~ -' })
    .optional(),
});
const updateBody = z.strictObject(metadata).partial();
const REGISTRATION_TYPES = ['admin', 'dynamic', 'metadata_document'] as const satisfies readonly RegistrationType[];
const listQuery = z.strictObject({ ...pageQuery, q: z.string().max(200).optional(), registration_type: z.enum(REGISTRATION_TYPES).optional() });

const CLIENT_FIELDS = [
  'clientId',
  'clientName',
  'clientType',
  'tokenEndpointAuthMethod',
  'redirectUris',
  'postLogoutRedirectUris',
  'grantTypes',
  'responseTypes',
  'scope',
  'clientUri',
  'logoUri',
  'tosUri',
  'policyUri',
  'contacts',
  'skipConsent',
  'requirePkce',
  'isActive',
  'idTokenSignedResponseAlg',
  'accessTokenFormat',
  'allowedResources',
  'mfaPolicy',
  'dpopBoundAccessTokens',
  'backchannelLogoutUri',
  'backchannelLogoutSessionRequired',
  'requirePushedAuthorizationRequests',
  'requestObjectSigningAlg',
  'requireSignedRequestObject',
  'jwks',
  'jwksUri',
  'tokenEndpointAuthSigningAlg',
  // How the client came to exist (admin, dynamic, metadata_document) and when it last got a token.
  'registrationType',
  'lastUsedAt',
  'createdAt',
  'updatedAt',
] as const satisfies readonly (keyof Client)[];

export const presentClient = (client: Client) => toWire(client, CLIENT_FIELDS);

/** RFC 7591 section 3.2.1: the secret is shown here once; client_secret_expires_at 0 means it never expires. */
function withSecret({ client, clientSecret }: ClientWithSecret) {
  return { ...presentClient(client), ...(clientSecret ? { client_secret: clientSecret, client_secret_expires_at: 0 } : {}) };
}

const clientPath = (clientId: string) => `${ROUTES.admin}/clients/${encodeURIComponent(clientId)}`;

type WithClientId = { Params: { client_id: string } };

export async function clientsRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  const read = { config: { adminScope: 'admin:clients:read' as const } };
  const write = { config: { adminScope: 'admin:clients:write' as const } };

  app.get('/clients', read, async (request) => {
    const query = parseInput(listQuery, request.query, 'query');
    return page(await listClients(ctx, query, { registrationType: query.registration_type, query: query.q }), query, presentClient);
  });

  app.post('/clients', write, async (request, reply) => {
    const input = camelKeys(parseInput(createBody, request.body, 'body'));
    const created = await audited(
      request,
      'client.created',
      (tx) => createClient(tx, callerOf(request), input),
      (result) => ({ client_id: result.client.clientId }),
      { kind: 'client', idOf: (result) => result.client.clientId },
    );
    return reply.code(201).header('location', clientPath(created.client.clientId)).send(withSecret(created));
  });

  app.get<WithClientId>('/clients/:client_id', read, async (request) =>
    presentClient(await getClient(ctx, request.params.client_id)),
  );

  app.patch<WithClientId>('/clients/:client_id', write, async (request) => {
    const changes = camelKeys(parseInput(updateBody, request.body, 'body'));
    const { client_id: clientId } = request.params;
    const client = await audited(request, 'client.updated', (tx) => updateClient(tx, callerOf(request), clientId, changes), { client_id: clientId }, {
      kind: 'client',
      id: clientId,
    });
    return presentClient(client);
  });

  app.delete<WithClientId>('/clients/:client_id', write, async (request, reply) => {
    const { client_id: clientId } = request.params;
    await audited(
      request,
      'client.deleted',
      (tx) => deleteClient(tx, callerOf(request), clientId),
      { client_id: clientId },
      { kind: 'client', id: clientId },
    );
    return reply.code(204).send();
  });

  app.post<WithClientId>('/clients/:client_id/rotate-secret', write, async (request) => {
    const { client_id: clientId } = request.params;
    const rotated = await audited(request, 'client.secret_rotated', (tx) => rotateClientSecret(tx, callerOf(request), clientId), { client_id: clientId }, {
      kind: 'client',
      id: clientId,
    });
    return withSecret(rotated);
  });

  // Clears the brute-force throttle's counts for this client, from every address.
  app.post<WithClientId>('/clients/:client_id/unlock', write, async (request) => {
    const { client_id: clientId } = request.params;
    const cleared = await audited(
      request,
      'client.unlocked',
      (tx) => unlockClientAuthentication(tx, clientId),
      { client_id: clientId },
      { kind: 'client', id: clientId },
    );
    return { client_id: request.params.client_id, cleared };
  });
}
