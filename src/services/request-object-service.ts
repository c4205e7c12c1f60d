import { decodeProtectedHeader, errors as joseErrors, jwtVerify, UnsecuredJWT, type JWTPayload } from 'jose';
import { MAX_NAME_LENGTH, MAX_PARAM_LENGTH, PARAM_LIMITS } from '../config/input-limits.js';
import { ClientKeysUnavailable } from '../errors/client-keys-errors.js';
import { InvalidRequestObject } from '../errors/oauth-errors.js';
import type { Client, RequestObjectSigningAlg } from '../repositories/clients-repository.js';
import { clientKeyResolver } from './client-keys.js';
import { openClientSecret } from './client-secret-box.js';
import type { ServiceContext } from './context.js';

/**
 * Signed request objects (RFC 9101, OIDC Core section 6.1): the `request` parameter, at the authorization
 * endpoint or in a pushed request, verified against the client's own keys and unpacked into the
 * authorization request parameters. Only the object's parameters count (RFC 9101 section 6.3).
 */

/** Asymmetric algs Authly verifies request objects with, against the client's registered keys. */
export const ASYMMETRIC_REQUEST_OBJECT_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
/** HMAC algs, keyed with the client secret: only for a client whose method is client_secret_jwt. */
export const HMAC_REQUEST_OBJECT_ALGS = ['HS256', 'HS384', 'HS512'] as const;
/** Discovery's request_object_signing_alg_values_supported; `none` is per client and not advertised. */
export const REQUEST_OBJECT_SIGNING_ALGS = [...ASYMMETRIC_REQUEST_OBJECT_ALGS, ...HMAC_REQUEST_OBJECT_ALGS] as const;

/** What a client may register as request_object_signing_alg (OIDC Registration 1.0 section 2): `none` is opt-in. */
export const REQUEST_OBJECT_REGISTRATION_ALGS = [...REQUEST_OBJECT_SIGNING_ALGS, 'none'] as const satisfies readonly RequestObjectSigningAlg[];

/**
 * A registration that contradicts itself: require_signed_request_object with unsigned request objects, or
 * an HMAC alg for a client that does not authenticate with client_secret_jwt (its secret is not kept).
 */
export function requestObjectSettingsProblem(
  client: Pick<Client, 'requestObjectSigningAlg' | 'requireSignedRequestObject' | 'tokenEndpointAuthMethod'>,
): { field: string; reason: string } | undefined {
  const alg = client.requestObjectSigningAlg;
  if (client.requireSignedRequestObject && alg === 'none') {
    return { field: 'request_object_signing_alg', reason: 'cannot be none when require_signed_request_object is true (RFC 9101 section 10.5)' };
  }
  if (alg !== null && isHmac(alg) && client.tokenEndpointAuthMethod !== 'client_secret_jwt') {
    return { field: 'request_object_signing_alg', reason: 'HS256, HS384 and HS512 need token_endpoint_auth_method client_secret_jwt' };
  }
  return undefined;
}

const isHmac = (alg: string) => (HMAC_REQUEST_OBJECT_ALGS as readonly string[]).includes(alg);

/** Longest accepted lifetime of a request object from now (FAPI 2.0 asks for at most 60 minutes). */
export const MAX_REQUEST_OBJECT_LIFETIME_SECONDS = 3600;
/** Allowance for clocks that disagree, on exp and nbf. */
const CLOCK_TOLERANCE_SECONDS = 30;

/** JWT claims that describe the object itself, not the authorization request (RFC 7519 section 4.1). */
const JWT_CLAIMS = new Set(['iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'sub']);

/** RFC 9101 section 10.8: the explicit type, or none (JWT, or absent) from clients that predate it. */
const ACCEPTED_TYPES = new Set(['oauth-authz-req+jwt', 'application/oauth-authz-req+jwt', 'jwt', 'application/jwt']);

type Ctx = Pick<ServiceContext, 'config' | 'metrics' | 'clientKeySets' | 'clientSecretKey'>;

const invalid = (description: string) => new InvalidRequestObject(description);

function headerOf(request: string): { alg: string; typ: string | undefined } {
  let header;
  try {
    header = decodeProtectedHeader(request);
  } catch {
    throw invalid('request is not a JWT');
  }
  if (typeof header.alg !== 'string') throw invalid('request has no alg');
  if (header.typ !== undefined && (typeof header.typ !== 'string' || !ACCEPTED_TYPES.has(header.typ.toLowerCase()))) {
    throw invalid('request has a typ other than oauth-authz-req+jwt');
  }
  // An encrypted request object (RFC 9101 section 6.1) has five parts; Authly publishes no encryption keys.
  if (request.split('.').length !== 3) throw invalid('encrypted request objects are not supported');
  return { alg: header.alg, typ: header.typ as string | undefined };
}

/**
 * The alg must be one the client may use: its registered request_object_signing_alg when it has one, else
 * any alg Authly verifies for it. `none` only for a client registered with it; HS* only for a client that
 * authenticates with client_secret_jwt (OIDC Core section 10.1: the HMAC key is the client secret, which
 * Authly keeps only for such clients), never for one whose secret is merely hashed.
 */
function checkAlg(client: Client, alg: string): void {
  const registered = client.requestObjectSigningAlg;
  if (alg === 'none') {
    if (registered !== 'none') throw invalid('unsigned request objects (alg none) are refused for this client');
    return;
  }
  if (/^HS/i.test(alg) && client.tokenEndpointAuthMethod !== 'client_secret_jwt') {
    throw invalid(`${alg} request objects are accepted only from clients that authenticate with client_secret_jwt`);
  }
  if (!(REQUEST_OBJECT_SIGNING_ALGS as readonly string[]).includes(alg)) throw invalid(`alg ${alg} is not supported for request objects`);
  if (registered !== null && registered !== alg) throw invalid(`this client signs its request objects with ${registered}`);
}

async function verifiedClaims(ctx: Ctx, client: Client, request: string, alg: string): Promise<JWTPayload> {
  const { issuer } = ctx.config;
  if (alg === 'none') {
    try {
      return UnsecuredJWT.decode(request, { issuer: client.clientId, audience: issuer, clockTolerance: CLOCK_TOLERANCE_SECONDS }).payload;
    } catch (err) {
      throw claimError(err);
    }
  }
  let keys: Parameters<typeof jwtVerify>[1] | undefined;
  if (isHmac(alg)) {
    const secret = client.clientSecretEncrypted ? openClientSecret(ctx.clientSecretKey, client.clientId, client.clientSecretEncrypted) : undefined;
    if (secret === undefined) throw invalid('the client secret is not available to verify HMAC request objects');
    keys = new TextEncoder().encode(secret);
  } else {
    keys = clientKeyResolver(ctx, client);
    if (!keys) throw invalid('the client has no registered keys (jwks or jwks_uri) to verify request objects with');
  }
  try {
    const { payload } = await jwtVerify(request, keys, {
      algorithms: [alg],
      issuer: client.clientId,
      audience: issuer,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    });
    return payload;
  } catch (err) {
    if (err instanceof ClientKeysUnavailable) throw invalid(err.description);
    throw claimError(err);
  }
}

/** jose's reasons, said in RFC 9101 terms. */
function claimError(err: unknown): InvalidRequestObject {
  // JWTExpired is a JWTClaimValidationFailed too: asked first.
  if (err instanceof joseErrors.JWTExpired) return invalid('request has expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return invalid('request iss must be the client_id');
    if (err.claim === 'aud') return invalid('request aud must be the issuer');
    if (err.claim === 'nbf') return invalid('request is not yet valid (nbf)');
    return invalid(`request ${err.claim} claim is not valid`);
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey) return invalid('no registered key of the client matches the request signature');
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return invalid('request signature is not valid');
  if (err instanceof joseErrors.JOSEError) return invalid('request is not a valid signed JWT');
  throw err;
}

// What the edge refuses in a form or query (src/http/input-guard.ts), refused here too, since the claims never
// passed it: NUL and U+FFFD, and lone surrogate halves, which PostgreSQL cannot store.
const UNACCEPTABLE = /[\u0000\uFFFD]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The edge's rules for one parameter (src/http/input-guard.ts checkParam), as invalid_request_object. */
function checkParameter(name: string, values: string[]): void {
  if (name.length > MAX_NAME_LENGTH || UNACCEPTABLE.test(name)) throw invalid('request has a claim name that is not a valid parameter name');
  const limit = PARAM_LIMITS[name] ?? MAX_PARAM_LENGTH;
  for (const value of values) {
    if (UNACCEPTABLE.test(value)) throw invalid(`request claim ${name} must be UTF-8 text without NUL characters`);
    if (value.length > limit) throw invalid(`request claim ${name} is longer than ${limit} characters`);
  }
}

/** A claim's value as authorization request parameter values (resource may be an array, RFC 8707). */
function parameterValues(name: string, value: unknown): string[] | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  // OIDC Core section 5.5: `claims` is a JSON object, sent as JSON text in a query.
  if (typeof value === 'object' && !Array.isArray(value)) return [JSON.stringify(value)];
  throw invalid(`request claim ${name} is not a parameter value`);
}

/**
 * Verifies `request` for `client` and returns the authorization request parameters it carries, with the
 * client_id of the outer request (RFC 9101 section 5: a client_id inside must be the same). Every failure is
 * InvalidRequestObject with a public description.
 */
export async function unpackRequestObject(
  ctx: Ctx,
  client: Client,
  request: string,
): Promise<{ parameters: Record<string, string[]>; alg: string }> {
  const { alg } = headerOf(request);
  checkAlg(client, alg);
  const claims = await verifiedClaims(ctx, client, request, alg);
  // Bounded: a request object is short-lived (RFC 9101 section 10.3 on replay; FAPI 2.0 at most 60 minutes).
  if (typeof claims.exp !== 'number') throw invalid('request must have an exp claim');
  if (claims.exp > Math.floor(Date.now() / 1000) + MAX_REQUEST_OBJECT_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS) {
    throw invalid(`request exp must be at most ${MAX_REQUEST_OBJECT_LIFETIME_SECONDS} seconds away`);
  }
  if (claims.client_id !== undefined && claims.client_id !== client.clientId) throw invalid('request client_id does not match the client_id parameter');
  // OIDC Core section 6.1: a request object never nests another.
  if (claims.request !== undefined || claims.request_uri !== undefined) throw invalid('request must not contain request or request_uri');
  const parameters: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const [name, value] of Object.entries(claims)) {
    if (JWT_CLAIMS.has(name)) continue;
    const values = parameterValues(name, value);
    if (!values) continue;
    checkParameter(name, values);
    parameters[name] = values;
  }
  parameters.client_id = [client.clientId];
  return { parameters, alg };
}
