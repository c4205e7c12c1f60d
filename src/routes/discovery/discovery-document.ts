import type { Config } from '../../config/config.js';
import { urlFor } from '../../config/routes.js';
import { enabledGrantTypes } from '../../grants/grant-registry.js';
import { CLIENT_AUTH_SIGNING_ALGS } from '../../services/client-assertion.js';
import { ACR_VALUES_SUPPORTED } from '../../services/mfa-policy.js';
import { REQUEST_OBJECT_SIGNING_ALGS } from '../../services/request-object-service.js';

/** How a confidential client may authenticate at every client-authenticated endpoint (src/services/client-authentication.ts). */
const CONFIDENTIAL_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt'];

export const SUPPORTED_SCOPES = ['openid', 'profile', 'email', 'phone', 'address', 'offline_access'];

export const SUPPORTED_CLAIMS = [
  'sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'azp', 'sid', 'amr', 'acr',
  'name', 'given_name', 'family_name', 'middle_name', 'nickname', 'preferred_username', 'picture', 'website',
  'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at',
  'email', 'email_verified', 'phone_number', 'phone_number_verified', 'address',
];

/**
 * The OpenID Provider / RFC 8414 metadata. Every URL comes from the route table the server mounts, and
 * only what is implemented is listed (test/http/discovery checks that every advertised URL answers).
 * `signingAlgs` are the key store's algorithms (RS256 first): exactly those a client's
 * id_token_signed_response_alg may name.
 */
export function discoveryDocument(config: Pick<Config, 'issuer' | 'cimd' | 'registrationPolicy' | 'dpop' | 'backchannelLogout' | 'par' | 'requestObjects' | 'deviceGrant'>, signingAlgs: readonly string[]): Record<string, unknown> {
  const { issuer } = config;
  return {
    issuer,
    authorization_endpoint: urlFor(issuer, 'authorization'),
    token_endpoint: urlFor(issuer, 'token'),
    userinfo_endpoint: urlFor(issuer, 'userinfo'),
    // OpenID Connect RP-Initiated Logout 1.0 (src/routes/logout/logout-route.ts).
    end_session_endpoint: urlFor(issuer, 'endSession'),
    jwks_uri: urlFor(issuer, 'jwks'),
    scopes_supported: SUPPORTED_SCOPES,
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'form_post'],
    grant_types_supported: enabledGrantTypes(config),
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: signingAlgs,
    // RFC 7523 client assertions (src/services/client-assertion.ts) beside the secret methods.
    token_endpoint_auth_methods_supported: [...CONFIDENTIAL_AUTH_METHODS, 'none'],
    token_endpoint_auth_signing_alg_values_supported: CLIENT_AUTH_SIGNING_ALGS,
    revocation_endpoint: urlFor(issuer, 'revocation'),
    // As at the token endpoint: public clients revoke their own tokens with client_id alone (RFC 7009 section 5).
    revocation_endpoint_auth_methods_supported: [...CONFIDENTIAL_AUTH_METHODS, 'none'],
    revocation_endpoint_auth_signing_alg_values_supported: CLIENT_AUTH_SIGNING_ALGS,
    introspection_endpoint: urlFor(issuer, 'introspection'),
    // Confidential clients only (src/routes/introspection/introspection-route.ts).
    introspection_endpoint_auth_methods_supported: CONFIDENTIAL_AUTH_METHODS,
    introspection_endpoint_auth_signing_alg_values_supported: CLIENT_AUTH_SIGNING_ALGS,
    code_challenge_methods_supported: ['S256'],
    claims_supported: SUPPORTED_CLAIMS,
    // OIDC Discovery section 3; the values and what they mean: src/services/mfa-policy.ts.
    acr_values_supported: ACR_VALUES_SUPPORTED,
    claims_parameter_supported: false,
    // RFC 9101 / OIDC Discovery section 3: signed request objects while REQUEST_OBJECTS_ENABLED; `none` only
    // for a client registered for it, so it is not advertised.
    request_parameter_supported: config.requestObjects.enabled,
    ...(config.requestObjects.enabled ? { request_object_signing_alg_values_supported: [...REQUEST_OBJECT_SIGNING_ALGS] } : {}),
    // By-reference request objects (fetching a client's URL) are not offered: the only request_uri accepted
    // is the one POST /oauth/par hands out, which RFC 9126 section 5 advertises on its own.
    request_uri_parameter_supported: false,
    prompt_values_supported: ['none', 'login', 'consent'],
    authorization_response_iss_parameter_supported: true,
    // OIDC Back-Channel Logout 1.0 section 2.1, while BACKCHANNEL_LOGOUT_ENABLED: logout tokens always carry
    // sid, the same sid as the ID tokens of the session.
    ...(config.backchannelLogout.enabled ? { backchannel_logout_supported: true, backchannel_logout_session_supported: true } : {}),
    // RFC 9126 section 5: only while PAR_ENABLED.
    ...(config.par.enabled
      ? {
          pushed_authorization_request_endpoint: urlFor(issuer, 'pushedAuthorization'),
          require_pushed_authorization_requests: config.par.required,
        }
      : {}),
    // draft-ietf-oauth-client-id-metadata-document section 6: https URLs as client_id (CIMD_ENABLED).
    ...(config.cimd.enabled ? { client_id_metadata_document_supported: true } : {}),
    // RFC 9449 section 5.1: only while DPoP is on (DPOP_ENABLED).
    ...(config.dpop.enabled ? { dpop_signing_alg_values_supported: config.dpop.signingAlgs } : {}),
    // RFC 7591 / RFC 8414 section 2: only while registration is possible (REGISTRATION_POLICY not closed).
    // RFC 8628 section 4: only while DEVICE_GRANT_ENABLED.
    ...(config.deviceGrant.enabled ? { device_authorization_endpoint: urlFor(issuer, 'deviceAuthorization') } : {}),
    ...(config.registrationPolicy === 'closed' ? {} : { registration_endpoint: urlFor(issuer, 'registration') }),
  };
}
