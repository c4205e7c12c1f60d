import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ROUTES } from '../config/routes.js';
import { ClientKeysUnavailable } from '../errors/client-keys-errors.js';
import { InvalidClient } from '../errors/oauth-errors.js';
import type { Client } from '../repositories/clients-repository.js';
import type { AuditLog } from './audit.js';
import { clientKeyResolver } from './client-keys.js';
import { openClientSecret } from './client-secret-box.js';
import type { ServiceContext } from './context.js';
import { useOnce } from './replay-guard.js';

/**
 * Client authentication with a JWT (RFC 7523 section 2.2 and section 3; RFC 7521 section 4.2; OpenID Connect
 * Core 1.0 section 9): private_key_jwt, signed with a key the client registered (jwks or jwks_uri), and
 * client_secret_jwt, an HMAC with the client secret. Checked in order: the client's registered method, the
 * header (alg allowed for the method, typ), the signature, the claims (iss = sub = client_id, aud, exp
 * required and bounded, nbf, iat), and last the single use of jti, so that only a valid assertion spends it.
 * Every failure is invalid_client (RFC 7521 section 4.2.1).
 */

export const JWT_BEARER_CLIENT_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Asymmetric algorithms accepted for private_key_jwt (FAPI 2.0 permits PS256, ES256, EdDSA; RS256 is widespread). */
export const PRIVATE_KEY_JWT_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
/** HMAC algorithms accepted for client_secret_jwt. */
export const CLIENT_SECRET_JWT_ALGS = ['HS256', 'HS384', 'HS512'] as const;
export const CLIENT_AUTH_SIGNING_ALGS = [...PRIVATE_KEY_JWT_ALGS, ...CLIENT_SECRET_JWT_ALGS] as const;

/** Clock difference tolerated between the client and Authly for exp, nbf and iat. */
export const CLIENT_ASSERTION_CLOCK_SKEW_SECONDS = 30;
/** A longer assertion is refused before it is parsed (a few keys' worth of header at most). */
const MAX_ASSERTION_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;
/**
 * typ values accepted: none, JWT, or the explicit type of draft-ietf-oauth-rfc7523bis section 4
 * (client-authentication+jwt). Any other type (dpop+jwt, at+jwt, logout+jwt, ...) is another kind of token.
 */
const ACCEPTED_TYPES = new Set(['jwt', 'client-authentication+jwt']);

/**
 * The client_id an assertion claims (its iss), without verifying anything: the client to look up, and the
 * key of the brute-force throttle. undefined when the assertion is not a JWT with a string iss.
 */
export function assertionClientId(assertion: string): string | undefined {
  if (assertion.length > MAX_ASSERTION_LENGTH) return undefined;
  try {
    const { iss } = decodeJwt(assertion);
    return typeof iss === 'string' && iss.length > 0 && iss.length <= 1024 ? iss : undefined;
  } catch {
    return undefined;
  }
}

type Ctx = Pick<ServiceContext, 'config' | 'metrics' | 'clientKeySets' | 'clientSecretKey' | 'db' | 'redis' | 'audit'>;

const fail = (description: string) => new InvalidClient(description);

/**
 * The audiences an assertion may name: the issuer identifier (draft-ietf-oauth-rfc7523bis section 5: the
 * value clients should use), the token endpoint URL (RFC 7523 section 3 item 3, OIDC Core section 9), and
 * the URL of the endpoint the assertion is presented to (RFC 9126 section 2 requires this for PAR; RFC 7662
 * and RFC 7009 authenticate "as at the token endpoint", and the endpoint's own URL names this server alone).
 */
export function acceptedAudiences(issuer: string, endpointPath: string | undefined): string[] {
  const audiences = new Set([issuer, issuer + ROUTES.token]);
  if (endpointPath !== undefined && endpointPath.startsWith('/')) audiences.add(issuer + endpointPath);
  return [...audiences];
}

function keyFor(ctx: Ctx, client: Client): { algorithms: string[]; key: JWTVerifyGetKey | Uint8Array } {
  const pinned = client.tokenEndpointAuthSigningAlg;
  if (client.tokenEndpointAuthMethod === 'private_key_jwt') {
    const key = clientKeyResolver(ctx, client);
    if (!key) throw fail('the client has no registered keys (jwks or jwks_uri) to verify its assertion with');
    return { algorithms: pinned ? [pinned] : [...PRIVATE_KEY_JWT_ALGS], key };
  }
  if (client.tokenEndpointAuthMethod === 'client_secret_jwt') {
    const secret = client.clientSecretEncrypted ? openClientSecret(ctx.clientSecretKey, client.clientId, client.clientSecretEncrypted) : undefined;
    if (secret === undefined) throw fail('the client has no secret usable for client_secret_jwt; rotate its secret');
    return { algorithms: pinned ? [pinned] : [...CLIENT_SECRET_JWT_ALGS], key: new TextEncoder().encode(secret) };
  }
  throw fail(`the client is registered for ${client.tokenEndpointAuthMethod}, not for a client assertion`);
}

/** A public description for a jose failure (jose's own messages quote claim names, which RFC 6749 section 5.2 forbids). */
function describe(err: unknown): string | undefined {
  if (err instanceof joseErrors.JWTExpired) return 'the client assertion has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'iss':
      case 'sub':
        return 'the client assertion iss and sub must both be the client_id';
      case 'aud':
        return 'the client assertion aud must be the issuer identifier of this server';
      case 'nbf':
        return 'the client assertion is not valid yet (nbf)';
      case 'exp':
        return 'the client assertion must have a numeric exp';
      case 'jti':
        return 'the client assertion must have a jti';
      default:
        return `the client assertion ${err.claim} claim is not valid`.replace(/["\\]/g, '');
    }
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'the client assertion alg is not allowed for this client';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the client assertion signature is not valid';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no registered key of the client matches the client assertion (kid, alg)';
  if (err instanceof joseErrors.JWKSMultipleMatchingKeys) return 'several registered keys of the client match the client assertion; send a kid';
  if (err instanceof ClientKeysUnavailable) return err.description;
  if (err instanceof joseErrors.JOSEError) return 'the client assertion is not a valid signed JWT';
  return undefined;
}

/**
 * Verifies `assertion` as the authentication of `client` at the endpoint `endpointPath` (its route path).
 * Returns nothing; throws InvalidClient naming what is wrong.
 */
export async function verifyClientAssertion(
  ctx: Ctx,
  client: Client,
  assertion: string,
  endpointPath: string | undefined,
  audit: AuditLog = ctx.audit,
): Promise<void> {
  const { algorithms, key } = keyFor(ctx, client);
  let header;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    throw fail('the client assertion is not a valid signed JWT');
  }
  if (header.typ !== undefined && !ACCEPTED_TYPES.has(String(header.typ).toLowerCase().replace(/^application\//, ''))) {
    throw fail('the client assertion typ must be JWT or client-authentication+jwt');
  }
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) {
    throw fail(`the client assertion alg must be one of ${algorithms.join(', ')} for this client`);
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, key as never, {
      algorithms,
      issuer: client.clientId,
      subject: client.clientId,
      audience: acceptedAudiences(ctx.config.issuer, endpointPath),
      requiredClaims: ['exp', 'jti'],
      clockTolerance: CLIENT_ASSERTION_CLOCK_SKEW_SECONDS,
    }));
  } catch (err) {
    const description = describe(err);
    if (description === undefined) throw err;
    throw fail(description);
  }
  const now = Math.floor(Date.now() / 1000);
  const exp = payload.exp!;
  const maxLifetime = ctx.config.clientAssertionMaxLifetimeSeconds;
  // RFC 7523 section 3 item 4 lets the server bound how far ahead exp may be: jti is remembered until exp.
  if (exp > now + maxLifetime + CLIENT_ASSERTION_CLOCK_SKEW_SECONDS) {
    throw fail(`the client assertion exp is too far in the future (at most ${maxLifetime} seconds)`);
  }
  if (payload.iat !== undefined && payload.iat > now + CLIENT_ASSERTION_CLOCK_SKEW_SECONDS) {
    throw fail('the client assertion iat is in the future');
  }
  const jti = payload.jti;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
    throw fail(`the client assertion jti must be a string of 1 to ${MAX_JTI_LENGTH} characters`);
  }
  // RFC 7523 section 3 item 7: a jti is used once, on every replica, until the assertion expires.
  const expiresAt = new Date((exp + CLIENT_ASSERTION_CLOCK_SKEW_SECONDS) * 1000);
  if (!(await useOnce(ctx, 'client_assertion', `${client.clientId}:${jti}`, expiresAt))) {
    audit.record('client.assertion_replayed', { client_id: client.clientId, jti });
    throw fail('the client assertion was already used (jti)');
  }
}

/** Whether a client authenticates with an assertion (and so never with a secret in the request). */
export function usesClientAssertion(client: Pick<Client, 'tokenEndpointAuthMethod'>): boolean {
  return client.tokenEndpointAuthMethod === 'private_key_jwt' || client.tokenEndpointAuthMethod === 'client_secret_jwt';
}

export { MAX_ASSERTION_LENGTH };
