// DPoP proofs (RFC 9449 section 4.2) made the way a client makes them, one per request, synchronously (an
// autocannon setupRequest cannot wait): ES256 with node:crypto, the public key in the header.
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A client's DPoP key: `proof(htm, htu)` returns a fresh proof for one request. */
export function dpopSigner() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  const header = b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } });
  return {
    proof(htm, htu) {
      const payload = b64({ jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000) });
      const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key: privateKey, dsaEncoding: 'ieee-p1363' });
      return `${header}.${payload}.${signature.toString('base64url')}`;
    },
  };
}
