import { randomToken, sha256Base64url } from '../lib/crypto.js';

/**
 * Opaque tokens (authorization codes, refresh tokens, session cookies): 256 random bits handed out once;
 * only the SHA-256 is stored. A hash of a 256-bit random value needs no salt or slow hash.
 */
export function newOpaqueToken(): { value: string; hash: string } {
  const value = randomToken(32);
  return { value, hash: sha256Base64url(value) };
}

export const hashOpaqueToken = sha256Base64url;
