import { z } from 'zod';
import { InvalidClientMetadata, InvalidRedirectUri, type OAuthError } from '../../errors/oauth-errors.js';
import { isAdminScope, parseScope, SCOPE_TOKEN } from '../../lib/scopes.js';
import type { ApplicationType } from '../../repositories/client-registrations-repository.js';
import type { Config } from '../../config/config.js';
import type { ClientAuthSigningAlg, ClientJwks, IdTokenSigningAlg, RequestObjectSigningAlg, TokenEndpointAuthMethod } from '../../repositories/clients-repository.js';
import { REQUEST_OBJECT_REGISTRATION_ALGS, requestObjectSettingsProblem } from '../request-object-service.js';
import {
  CLIENT_AUTH_SIGNING_ALGS,
  clientKeysProblems,
  GRANT_TYPES,
  ID_TOKEN_SIGNING_ALGS,
  idTokenAlgProblem,
  isLoopbackHost,
  redirectUriProblem,
  registrationProblems,
  RESPONSE_TYPES,
  responseTypesFor,
  TOKEN_ENDPOINT_AUTH_METHODS,
} from '../admin/client-registration-rules.js';

/**
 * The client metadata of an RFC 7591 registration request (and of an RFC 7592 update, a full replacement),
 * checked and completed with the defaults of RFC 7591 section 2. Metadata the server does not understand is
 * ignored (section 2: "MUST ignore"); a value it understands but cannot accept is refused with the codes of
 * section 3.2.2: `invalid_redirect_uri` for redirect URIs, `invalid_client_metadata` for everything else.
 */

/** What a registration may set; everything else about a dynamic client is fixed (see registration-service.ts). */
export interface RegisteredMetadata {
  clientName: string | undefined;
  applicationType: ApplicationType;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: string[];
  responseTypes: string[];
  /** Requested scopes (validated against the registered ones by the service); undefined: the default. */
  scope: string | undefined;
  clientUri: string | null;
  logoUri: string | null;
  tosUri: string | null;
  policyUri: string | null;
  contacts: string[];
  idTokenSignedResponseAlg: IdTokenSigningAlg;
  /** RFC 9449 section 5.2. */
  dpopBoundAccessTokens: boolean;
  /** OIDC Back-Channel Logout 1.0 section 2.2; null: none (also whenever BACKCHANNEL_LOGOUT_ENABLED=false). */
  backchannelLogoutUri: string | null;
  backchannelLogoutSessionRequired: boolean;
  /** RFC 9126 section 6. */
  requirePushedAuthorizationRequests: boolean;
  /** RFC 9101 (OIDC Registration 1.0 section 2) and RFC 9101 section 10.5. */
  requestObjectSigningAlg: RequestObjectSigningAlg | null;
  requireSignedRequestObject: boolean;
  /** The client's public keys by value or by URL (OpenID Connect Dynamic Client Registration 1.0 section 2). */
  jwks: ClientJwks | null;
  jwksUri: string | null;
  /** The one alg of the client's assertions (private_key_jwt, client_secret_jwt); null: any accepted. */
  tokenEndpointAuthSigningAlg: ClientAuthSigningAlg | null;
}

/** What the parse depends on besides the body. */
export interface RegistrationMetadataOptions {
  /** The key store's algorithms: what id_token_signed_response_alg may name. */
  signingAlgs: readonly string[];
  /** OUTBOUND_ALLOW_LOOPBACK: a backchannel_logout_uri may be loopback http (development and tests). */
  outboundAllowLoopback: boolean;
  /**
   * BACKCHANNEL_LOGOUT_ENABLED. Off: backchannel_logout_* are ignored like any metadata the server does not
   * support (RFC 7591 section 2), and the response, which leaves them out, tells the client so.
   */
  backchannelLogout: boolean;
}

const REDIRECT_FIELDS = new Set(['redirect_uris', 'post_logout_redirect_uris']);

/** The RFC 7591 error for a problem with `field` (a wire name, possibly with an index: redirect_uris.0). */
export function registrationError(field: string, reason: string): OAuthError {
  const description = `${field}: ${reason}`;
  return REDIRECT_FIELDS.has(field.split('.')[0]!) ? new InvalidRedirectUri(description) : new InvalidClientMetadata(description);
}

const url = z
  .string()
  .max(2000)
  .pipe(z.url({ protocol: /^https?$/, message: 'expected an absolute http(s) URL' }));
const uriList = z.array(z.string().max(2000)).max(50);
const unique = <T>(values: T[]) => [...new Set(values)];

function parseUrl(uri: string): URL | undefined {
  try {
    return new URL(uri);
  } catch {
    return undefined;
  }
}

/** Types only; the rules between fields are checked after. Unknown members are dropped (RFC 7591 section 2). */
const schema = z.object({
  redirect_uris: uriList.optional(),
  post_logout_redirect_uris: uriList.optional(),
  token_endpoint_auth_method: z.enum(TOKEN_ENDPOINT_AUTH_METHODS).optional(),
  grant_types: z.array(z.enum(GRANT_TYPES)).max(GRANT_TYPES.length * 2).optional(),
  response_types: z.array(z.enum(RESPONSE_TYPES)).max(4).optional(),
  application_type: z.enum(['web', 'native']).optional(),
  client_name: z.string().trim().min(1, { message: 'must not be empty' }).max(255).optional(),
  client_uri: url.optional(),
  logo_uri: url.optional(),
  tos_uri: url.optional(),
  policy_uri: url.optional(),
  contacts: z.array(z.email({ message: 'expected an email address' }).max(320)).max(20).optional(),
  scope: z
    .string()
    .max(2000)
    .refine((s) => parseScope(s).every((token) => SCOPE_TOKEN.test(token)), { message: 'expected space-separated scope tokens (RFC 6749 section 3.3)' })
    .optional(),
  id_token_signed_response_alg: z.enum(ID_TOKEN_SIGNING_ALGS).optional(),
  dpop_bound_access_tokens: z.boolean().optional(),
  backchannel_logout_uri: z.string().max(2000).optional(),
  backchannel_logout_session_required: z.boolean().optional(),
  require_pushed_authorization_requests: z.boolean().optional(),
  request_object_signing_alg: z.enum(REQUEST_OBJECT_REGISTRATION_ALGS).optional(),
  require_signed_request_object: z.boolean().optional(),
  // Checked key by key after (src/services/client-keys.ts).
  jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).max(100) }).optional(),
  jwks_uri: z.string().max(2000).optional(),
  token_endpoint_auth_signing_alg: z.enum(CLIENT_AUTH_SIGNING_ALGS).optional(),
});

export type RegistrationRequest = z.input<typeof schema>;

/** A native app's redirect URI: loopback http (any port) or a private-use scheme (RFC 8252 sections 7.1, 7.3). */
function isNativeRedirect(uri: string): boolean {
  const parsed = parseUrl(uri);
  if (!parsed) return false;
  const scheme = parsed.protocol.slice(0, -1);
  return scheme === 'http' ? isLoopbackHost(parsed.hostname) : scheme !== 'https';
}

/**
 * OpenID Connect Dynamic Client Registration 1.0 section 2, application_type: a web client's redirect URIs
 * use https and not localhost; a native client's use loopback http or a private-use scheme.
 */
function applicationTypeProblem(uri: string, type: ApplicationType): string | undefined {
  const parsed = parseUrl(uri)!;
  if (type === 'native') {
    return isNativeRedirect(uri)
      ? undefined
      : 'a native client redirects to a loopback http URI or a private-use scheme such as com.example.app (OpenID Connect Dynamic Client Registration 1.0 section 2)';
  }
  if (parsed.protocol !== 'https:' || isLoopbackHost(parsed.hostname)) {
    return 'a web client redirects to https URIs that are not on localhost (OpenID Connect Dynamic Client Registration 1.0 section 2)';
  }
  return undefined;
}

/**
 * Parses and checks a registration request body; throws the RFC 7591 error of the first problem. `null`
 * members count as omitted (RFC 7592 section 2.2: omitted fields are null or empty). Without
 * application_type, a client whose redirect URIs are all native ones (loopback or private-use) is registered
 * as native and every other one as web: RFC 7591 section 2 lets the server substitute values, and the
 * response says which it chose. MCP clients on a desktop register loopback redirect URIs and rarely say so.
 */
export function parseRegistrationMetadata(body: unknown, options: RegistrationMetadataOptions): RegisteredMetadata {
  const { signingAlgs } = options;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidClientMetadata('the registration request must be a JSON object');
  }
  const present = Object.fromEntries(
    Object.entries(body).filter(([key, value]) => value !== null && (options.backchannelLogout || !key.startsWith('backchannel_logout_'))),
  );
  const result = schema.safeParse(present);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path.map(String).join('.') || 'body';
    throw registrationError(field, issue.message.replace(/^Invalid (input|option): /, ''));
  }
  const input = result.data;

  const redirectUris = unique(input.redirect_uris ?? []);
  const postLogoutRedirectUris = unique(input.post_logout_redirect_uris ?? []);
  const grantTypes = unique(input.grant_types ?? ['authorization_code']);
  const metadata: RegisteredMetadata = {
    clientName: input.client_name,
    applicationType:
      input.application_type ?? (redirectUris.length > 0 && [...redirectUris, ...postLogoutRedirectUris].every(isNativeRedirect) ? 'native' : 'web'),
    tokenEndpointAuthMethod: input.token_endpoint_auth_method ?? 'client_secret_basic',
    redirectUris,
    postLogoutRedirectUris,
    grantTypes,
    // RFC 7591 section 2.1: response_types follow the grant types unless the client says otherwise.
    responseTypes: unique(input.response_types ?? responseTypesFor(grantTypes)),
    scope: input.scope === undefined ? undefined : parseScope(input.scope).join(' '),
    clientUri: input.client_uri ?? null,
    logoUri: input.logo_uri ?? null,
    tosUri: input.tos_uri ?? null,
    policyUri: input.policy_uri ?? null,
    contacts: unique(input.contacts ?? []),
    idTokenSignedResponseAlg: input.id_token_signed_response_alg ?? 'RS256',
    dpopBoundAccessTokens: input.dpop_bound_access_tokens ?? false,
    backchannelLogoutUri: input.backchannel_logout_uri ?? null,
    backchannelLogoutSessionRequired: input.backchannel_logout_session_required ?? false,
    requirePushedAuthorizationRequests: input.require_pushed_authorization_requests ?? false,
    requestObjectSigningAlg: input.request_object_signing_alg ?? null,
    requireSignedRequestObject: input.require_signed_request_object ?? false,
    jwks: input.jwks ?? null,
    jwksUri: input.jwks_uri ?? null,
    tokenEndpointAuthSigningAlg: input.token_endpoint_auth_signing_alg ?? null,
  };

  for (const [field, uris] of [
    ['redirect_uris', redirectUris],
    ['post_logout_redirect_uris', postLogoutRedirectUris],
  ] as const) {
    uris.forEach((uri, i) => {
      const problem = redirectUriProblem(uri) ?? applicationTypeProblem(uri, metadata.applicationType);
      if (problem) throw registrationError(`${field}.${i}`, problem);
    });
  }
  // A dynamic client always uses PKCE (OAuth 2.1 section 4.1.1); the shared rules check the rest.
  const problems = Object.entries(
    registrationProblems({ ...metadata, requirePkce: true }, { outboundAllowLoopback: options.outboundAllowLoopback }),
  );
  const redirectProblem = problems.find(([field]) => REDIRECT_FIELDS.has(field.split('.')[0]!));
  const [field, reason] = redirectProblem ?? problems[0] ?? [];
  if (field !== undefined) throw registrationError(field, reason!);
  const requestObjectProblem = requestObjectSettingsProblem(metadata);
  if (requestObjectProblem) throw registrationError(requestObjectProblem.field, requestObjectProblem.reason);
  const algProblem = idTokenAlgProblem(metadata.idTokenSignedResponseAlg, signingAlgs);
  if (algProblem) throw registrationError('id_token_signed_response_alg', algProblem);
  const [keysField, keysReason] = Object.entries(clientKeysProblems(metadata, options))[0] ?? [];
  if (keysField !== undefined) throw registrationError(keysField, keysReason!);
  const adminScopes = parseScope(metadata.scope).filter(isAdminScope);
  if (adminScopes.length > 0) throw registrationError('scope', `admin scopes cannot be registered: ${adminScopes.join(' ')}`);
  return metadata;
}
