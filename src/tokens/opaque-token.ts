import { randomToken, sha256Base64url } from '../lib/crypto.js';

/**
 * Opaque tokens (authorization codes, refresh tokens, session cookies, opaque access tokens): 256 random bits handed out once;
 * only the SHA-256 is stored. A hash of a 256-bit random value needs no salt or slow hash.
 */
export function newOpaqueToken(): { value: string; hash: string } {
  const value = randomToken(32);
  return { value, hash: sha256Base64url(value) };
}

export const hashOpaqueToken = sha256Base64url;

/**
 * Opaque access tokens (ACCESS_TOKEN_FORMAT=opaque): 256 random bits, recorded under a jti made from their
 * SHA-256, so revocation, introspection and cleanup treat both formats alike. JWT jtis are UUIDs, so the
 * prefix keeps the two apart.
 */
const OPAQUE_JTI_PREFIX = 'sha256:';
const OPAQUE_ACCESS_TOKEN = /^[A-Za-z0-9_-]{43}$/;

function opaqueAccessTokenJti(value: string): string {
  return OPAQUE_JTI_PREFIX + sha256Base64url(value);
}

export function newOpaqueAccessToken(): { value: string; jti: string } {
  const value = randomToken(32);
  return { value, jti: opaqueAccessTokenJti(value) };
}

/** The jti of what looks like an opaque access token (a JWT always has two dots), else undefined. */
export function opaqueAccessTokenJtiOf(token: string): string | undefined {
  return OPAQUE_ACCESS_TOKEN.test(token) ? opaqueAccessTokenJti(token) : undefined;
}
