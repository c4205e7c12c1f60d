import { randomUUID, createHash } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { TEST_ISSUER } from './test-app.js';

/** A DPoP key pair as a client holds it: the private key signs proofs, the public JWK goes in their header. */
export interface DpopTestKey {
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** RFC 7638 SHA-256 thumbprint. */
  jkt: string;
}

export async function dpopKey(alg = 'ES256'): Promise<DpopTestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  const publicJwk = await exportJWK(publicKey);
  return { alg, privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') };
}

export interface ProofOptions {
  htm?: string;
  htu?: string;
  iat?: number;
  jti?: string;
  /** The access token whose hash goes in `ath`. */
  accessToken?: string;
  nonce?: string;
  /** Header members replacing or adding to { typ, alg, jwk }; `undefined` removes one. */
  header?: Record<string, unknown>;
  /** Claims replacing or adding to the defaults; `undefined` removes one. */
  claims?: Record<string, unknown>;
}

/** A DPoP proof JWT (RFC 9449 section 4.2) for the token endpoint unless told otherwise. */
export async function dpopProof(key: DpopTestKey, options: ProofOptions = {}): Promise<string> {
  const claims: Record<string, unknown> = {
    jti: options.jti ?? randomUUID(),
    htm: options.htm ?? 'POST',
    htu: options.htu ?? `${TEST_ISSUER}/oauth/token`,
    iat: options.iat ?? Math.floor(Date.now() / 1000),
    ...(options.accessToken !== undefined ? { ath: createHash('sha256').update(options.accessToken).digest('base64url') } : {}),
    ...(options.nonce !== undefined ? { nonce: options.nonce } : {}),
    ...options.claims,
  };
  const header: Record<string, unknown> = { typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk, ...options.header };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  for (const [k, v] of Object.entries(header)) if (v === undefined) delete header[k];
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
}
