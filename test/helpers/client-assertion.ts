import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/** A client's signing key for private_key_jwt tests: the private key, and the public JWK to register. */
export interface ClientSigningKey {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function clientSigningKey(alg: string, kid = `${alg.toLowerCase()}-${randomBytes(4).toString('hex')}`): Promise<ClientSigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface AssertionOptions {
  clientId: string;
  audience: string | string[];
  /** Claims to set or (undefined) to leave out. */
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
}

/** An RFC 7523 client assertion: iss = sub = client_id, aud, exp in 60 s, iat now, a fresh jti. */
export function signAssertion(key: ClientSigningKey | { alg: string; kid?: string; secret: string }, options: AssertionOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: options.clientId,
    sub: options.clientId,
    aud: options.audience,
    exp: now + 60,
    iat: now,
    jti: randomBytes(12).toString('base64url'),
    ...options.claims,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: key.alg, ...(key.kid ? { kid: key.kid } : {}), ...options.header });
  return 'secret' in key ? jwt.sign(new TextEncoder().encode(key.secret)) : jwt.sign(key.privateKey);
}
