import { MAX_RESOURCE_IDENTIFIER_LENGTH } from '../lib/resource-identifier.js';

/**
 * Length limits for every string that enters over HTTP (src/http/input-guard.ts), checked before any lookup,
 * hash or lockout key is built from it. Identifiers that become keys are bounded well below PostgreSQL's
 * btree entry limit (about 2,700 bytes); everything else gets a generic bound far above legitimate use.
 */

/** client_id and login names: column and index keys (users.username, clients.client_id, auth_failures). */
export const MAX_IDENTIFIER_LENGTH = 255;

/** Per-parameter limits (characters) for form and query parameters; other names get MAX_PARAM_LENGTH. */
export const PARAM_LIMITS: Readonly<Record<string, number>> = {
  client_id: MAX_IDENTIFIER_LENGTH,
  username: MAX_IDENTIFIER_LENGTH,
  login_hint: MAX_IDENTIFIER_LENGTH,
  // RFC 7636 section 4.1: 43 to 128 characters; the grant reports a short one, the edge refuses a long one.
  code_verifier: 128,
  password: 1024,
  redirect_uri: 2000,
  post_logout_redirect_uri: 2000,
  // Above the authorize and logout steps' own 8 KiB bound, so those answer it in protocol terms (an error
  // redirected to the client with state); the edge only stops what no step should ever see.
  id_token_hint: 16 * 1024,
  // RFC 8707: above the identifier's own bound (MAX_RESOURCE_IDENTIFIER_LENGTH), so a longer one is answered
  // invalid_target by the endpoint (redirected at the authorization endpoint); the edge stops the absurd.
  resource: 2 * MAX_RESOURCE_IDENTIFIER_LENGTH,
  // RFC 7009 section 2.2 and RFC 7662 section 2.2: any token that is not valid is answered as revoked or
  // inactive, never as an error; it is only hashed or verified, never a key. Bounded by the body limit.
  token: 64 * 1024,
  // A passkey ceremony's response as JSON (W3C WebAuthn §5.1: clientDataJSON, authenticator data, an
  // attestation that may carry a certificate chain); parsed by the passkey routes' schema.
  credential: 32 * 1024,
  // RFC 9101: a signed request object carries every authorization parameter and a signature; checked by
  // src/services/request-object-service.ts.
  request: 32 * 1024,
};

/** Any other parameter value: tokens, state, nonce, scope fit well within it. */
export const MAX_PARAM_LENGTH = 4096;

/** Parameter names and JSON keys. */
export const MAX_NAME_LENGTH = 128;

/** Every string in an admin JSON body (the admin schemas bound their fields more tightly). */
export const MAX_JSON_STRING_LENGTH = 4096;

/** Nesting of arrays and objects in a JSON body; the admin API needs 3 (address, redirect_uris). */
export const MAX_JSON_DEPTH = 32;

/** The request path (before the query); route parameters are further bounded by MAX_PATH_PARAM_LENGTH. */
export const MAX_PATH_LENGTH = 2048;

/** One decoded path parameter (the router's maxParamLength); a longer one is refused at the edge. */
export const MAX_PATH_PARAM_LENGTH = 200;
