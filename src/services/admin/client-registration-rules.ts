import { z } from 'zod';
import type { Config } from '../../config/config.js';
import type { AccessTokenFormat, ClientAuthSigningAlg, ClientJwks, IdTokenSigningAlg } from '../../repositories/clients-repository.js';
import { jwksProblem, jwksUriProblem } from '../client-key-rules.js';

/**
 * The registration rules every client must satisfy, checked on create and on the merged result of an
 * update. Pure functions: field names in the result are the wire names (RFC 7591), so they go straight
 * into a validation_failed body.
 */

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'] as const;
/** OAuth 2.1 keeps only the code response type (implicit and hybrid are gone). */
export const RESPONSE_TYPES = ['code'] as const;
export const TOKEN_ENDPOINT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'] as const;
/** token_endpoint_auth_signing_alg (OIDC Registration 1.0 section 2): the algs of src/services/client-assertion.ts. */
export const CLIENT_AUTH_SIGNING_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'HS256', 'HS384', 'HS512'] as const satisfies readonly ClientAuthSigningAlg[];
/**
 * The ID token algorithms Authly can sign with (the clients table's CHECK); a server offers those it holds
 * keys for (RS256 and JWT_ALGORITHM). none and HS* never: an ID token must be verifiable from the JWKS.
 */
export const ID_TOKEN_SIGNING_ALGS = ['RS256', 'ES256', 'EdDSA'] as const satisfies readonly IdTokenSigningAlg[];
/** Per-client access token format; null (not listed) means the server's ACCESS_TOKEN_FORMAT. */
export const ACCESS_TOKEN_FORMATS = ['jwt', 'opaque'] as const satisfies readonly AccessTokenFormat[];

/**
 * Absolute http(s) URLs for informational links (client_uri, logo_uri, tos_uri, policy_uri; a user's
 * picture): the admin API and client ID metadata documents (src/services/metadata-document-client.ts).
 */
export const informationalUrl = z
  .string()
  .max(2000)
  .pipe(z.url({ protocol: /^https?$/, message: 'expected an absolute http(s) URL' }));

export interface ClientRegistration {
  tokenEndpointAuthMethod: string;
  grantTypes: readonly string[];
  responseTypes: readonly string[];
  redirectUris: readonly string[];
  postLogoutRedirectUris: readonly string[];
  requirePkce: boolean;
  /** OIDC Back-Channel Logout 1.0 section 2.2; null or absent: none. */
  backchannelLogoutUri?: string | null;
}

/** What the rules depend on besides the client: the development setting for loopback URLs Authly calls. */
export interface RegistrationRuleOptions {
  /** OUTBOUND_ALLOW_LOOPBACK (development and tests only). */
  outboundAllowLoopback: boolean;
}

export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** response_types follow from grant_types: ['code'] exactly when the code grant is registered. */
export function responseTypesFor(grantTypes: readonly string[]): string[] {
  return grantTypes.includes('authorization_code') ? ['code'] : [];
}

/**
 * Why a redirect URI cannot be registered, or undefined when it can. Redirect URIs are compared by exact
 * string match (RFC 9700 section 2.1), so the registered string must already be the canonical form.
 */
export function redirectUriProblem(uri: string): string | undefined {
  // The URL parser silently drops tabs and newlines and trims spaces; a registered URI must not need that.
  if (!/^[\x21-\x7E]+$/.test(uri)) return 'must be printable ASCII without spaces (percent-encode other characters)';
  if (uri.includes('#')) return 'must not contain a fragment (RFC 6749 section 3.1.2)';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'must be an absolute URI';
  }
  if (url.username || url.password) return 'must not contain user credentials';
  const scheme = url.protocol.slice(0, -1);
  if (scheme === 'https') return undefined;
  if (scheme === 'http') {
    return isLoopbackHost(url.hostname)
      ? undefined
      : 'http is allowed only for loopback hosts (RFC 8252 section 7.3); use https';
  }
  // RFC 8252 section 7.1: native apps use a private-use scheme in reverse domain name form; requiring
  // the period also keeps out javascript:, data: and file: URIs.
  if (!scheme.includes('.')) {
    return 'must use https, http on a loopback host, or a private-use scheme such as com.example.app (RFC 8252 section 7.1)';
  }
  return undefined;
}

/**
 * Why a URL cannot be a backchannel_logout_uri, or undefined when it can (OIDC Back-Channel Logout 1.0
 * section 2.2): an absolute URI without a fragment, which Authly will POST to from the server side. So
 * https only; http only to a loopback host and only under OUTBOUND_ALLOW_LOOPBACK, as the delivery's SSRF
 * guard (src/services/outbound-fetch.ts) would refuse anything else anyway; never user credentials.
 * A query component is allowed (section 2.2 says it must be kept).
 */
export function backchannelLogoutUriProblem(uri: string, options: RegistrationRuleOptions): string | undefined {
  if (!/^[\x21-\x7E]+$/.test(uri)) return 'must be printable ASCII without spaces (percent-encode other characters)';
  if (uri.includes('#')) return 'must not contain a fragment (OpenID Connect Back-Channel Logout 1.0 section 2.2)';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'must be an absolute URI';
  }
  if (url.username || url.password) return 'must not contain user credentials';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && options.outboundAllowLoopback && isLoopbackHost(url.hostname)) return undefined;
  return options.outboundAllowLoopback ? 'must use https (or http on a loopback host)' : 'must use https';
}

/**
 * Why a client cannot be given this ID token alg, or undefined when it can: the server must hold a signing
 * key for it (`available`, the key store's algorithms), or it could not issue the client's ID tokens.
 */
export function idTokenAlgProblem(alg: string, available: readonly string[]): string | undefined {
  if (available.includes(alg)) return undefined;
  return `expected one of ${available.map((a) => `"${a}"`).join('|')} (the algorithms this server holds signing keys for)`;
}

/** Every broken rule as `{ field: reason }`; empty when the registration is consistent. */
export function registrationProblems(
  client: ClientRegistration,
  options: RegistrationRuleOptions = { outboundAllowLoopback: false },
): Record<string, string> {
  const problems: Record<string, string> = {};
  const add = (field: string, reason: string) => {
    problems[field] ??= reason;
  };
  for (const [field, uris] of [
    ['redirect_uris', client.redirectUris],
    ['post_logout_redirect_uris', client.postLogoutRedirectUris],
  ] as const) {
    uris.forEach((uri, i) => {
      const problem = redirectUriProblem(uri);
      if (problem) add(`${field}.${i}`, problem);
    });
  }

  const grants = new Set(client.grantTypes);
  const isPublic = client.tokenEndpointAuthMethod === 'none';
  const code = grants.has('authorization_code');
  if (grants.size === 0) add('grant_types', 'at least one grant type is required');
  // A refresh token comes from a grant a user gave: the code grant, or the device grant (RFC 8628 section 3.5).
  if (grants.has('refresh_token') && !code && !grants.has('urn:ietf:params:oauth:grant-type:device_code')) {
    add('grant_types', 'refresh_token requires authorization_code');
  }
  if (isPublic && grants.has('client_credentials')) {
    add('grant_types', 'client_credentials requires a confidential client (token_endpoint_auth_method other than none)');
  }
  if (code) {
    if (client.responseTypes.length !== 1 || client.responseTypes[0] !== 'code') {
      add('response_types', 'must be ["code"] when grant_types includes authorization_code');
    }
    if (client.redirectUris.length === 0) add('redirect_uris', 'at least one redirect URI is required for authorization_code');
  } else {
    if (client.responseTypes.length > 0) add('response_types', 'must be empty without the authorization_code grant');
    if (client.redirectUris.length > 0) add('redirect_uris', 'must be empty without the authorization_code grant');
    if (client.postLogoutRedirectUris.length > 0) {
      add('post_logout_redirect_uris', 'must be empty without the authorization_code grant');
    }
  }
  if (client.backchannelLogoutUri !== undefined && client.backchannelLogoutUri !== null) {
    const problem = backchannelLogoutUriProblem(client.backchannelLogoutUri, options);
    if (problem) add('backchannel_logout_uri', problem);
    // Logout tokens are about browser sessions, which only the code flow has.
    else if (!code) add('backchannel_logout_uri', 'must be null without the authorization_code grant');
  }
  // OAuth 2.1 section 4.1.1 / SECURITY.md: only a confidential client may be exempted from PKCE.
  if (isPublic && !client.requirePkce) add('require_pkce', 'public clients always require PKCE');
  return problems;
}

/**
 * The client's keys (OpenID Connect Dynamic Client Registration 1.0 section 2, RFC 7591 section 2): a JWK
 * Set of public keys, or an https jwks_uri, never both; private_key_jwt needs one of them, and
 * token_endpoint_auth_signing_alg must suit the method (asymmetric for private_key_jwt, HMAC for
 * client_secret_jwt, nothing for the others). `{ field: reason }` with wire names.
 */
export function clientKeysProblems(
  client: {
    jwks: ClientJwks | null;
    jwksUri: string | null;
    tokenEndpointAuthMethod?: string;
    tokenEndpointAuthSigningAlg?: string | null;
  },
  config: Pick<Config, 'outboundAllowLoopback'>,
): Record<string, string> {
  const problems: Record<string, string> = {};
  const method = client.tokenEndpointAuthMethod;
  if (method === 'private_key_jwt' && client.jwks === null && client.jwksUri === null) {
    problems.jwks = 'private_key_jwt needs the client public keys: jwks or jwks_uri';
  }
  const alg = client.tokenEndpointAuthSigningAlg ?? null;
  if (alg !== null) {
    const hmac = alg.startsWith('HS');
    if (method === 'private_key_jwt' && hmac) problems.token_endpoint_auth_signing_alg = 'private_key_jwt needs an asymmetric alg (RS256, PS256, ES256 or EdDSA)';
    else if (method === 'client_secret_jwt' && !hmac) problems.token_endpoint_auth_signing_alg = 'client_secret_jwt needs an HMAC alg (HS256, HS384 or HS512)';
    else if (method !== 'private_key_jwt' && method !== 'client_secret_jwt') {
      problems.token_endpoint_auth_signing_alg = 'applies only to private_key_jwt and client_secret_jwt';
    }
  }
  if (client.jwks !== null) {
    const problem = jwksProblem(client.jwks);
    if (problem) problems.jwks = problem;
  }
  if (client.jwksUri !== null) {
    const problem = jwksUriProblem(client.jwksUri, config);
    if (problem) problems.jwks_uri = problem;
    else if (client.jwks !== null) problems.jwks_uri = 'must not be registered together with jwks (OpenID Connect Dynamic Client Registration 1.0 section 2)';
  }
  return problems;
}
