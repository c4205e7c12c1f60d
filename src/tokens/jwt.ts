import { createHash } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { KeyStore, SigningAlg, SigningKey } from './key-store.js';

export async function signJwt(payload: JWTPayload, key: SigningKey, typ: 'at+jwt' | 'JWT' | 'logout+jwt'): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ }).sign(key.privateKey);
}

export interface VerifyOptions {
  issuer: string;
  typ?: 'at+jwt';
  /** Accept an expired token (RP-initiated logout uses expired id_token_hints to find the session). */
  ignoreExpiry?: boolean;
}

/** Verifies a JWT signed by one of our keys; throws on any failure. */
export async function verifyJwt(token: string, keys: KeyStore, options: VerifyOptions): Promise<JWTPayload> {
  const header = decodeProtectedHeader(token);
  if (typeof header.kid !== 'string') throw new Error('missing kid');
  const key = await keys.verificationKey(header.kid);
  if (!key || key.alg !== header.alg) throw new Error('unknown key');
  const { payload } = await jwtVerify(token, key.publicKey, {
    issuer: options.issuer,
    algorithms: [key.alg],
    ...(options.typ ? { typ: options.typ } : {}),
    ...(options.ignoreExpiry ? { currentDate: new Date(0) } : {}),
  });
  return payload;
}

/**
 * OIDC Core section 3.1.3.6: at_hash is the left half of the hash of the access token, with the hash the
 * ID token's alg uses (SHA-256 for RS256/ES256; SHA-512 for Ed25519, per the OpenID errata).
 */
export function atHash(accessToken: string, alg: SigningAlg): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256').update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}
