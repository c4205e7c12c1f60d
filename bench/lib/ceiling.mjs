// The physical ceiling: how many JWS signatures and verifications jose makes per second on one core
// (sequential, in this process, before the servers start), and argon2id verifications per second.
import argon2 from 'argon2';
import { SignJWT, generateKeyPair, jwtVerify } from 'jose';

async function rate(fn, ms) {
  const end = performance.now() + ms;
  let n = 0;
  const start = performance.now();
  while (performance.now() < end) {
    await fn();
    n++;
  }
  return Math.round(n / ((performance.now() - start) / 1000));
}

export async function joseCeiling(alg, ms = 1000) {
  const options = alg === 'RS256' ? { modulusLength: 2048 } : alg === 'EdDSA' ? { crv: 'Ed25519' } : {};
  const { privateKey, publicKey } = await generateKeyPair(alg, options);
  const payload = { iss: 'http://127.0.0.1', sub: 'bench', aud: 'http://127.0.0.1', client_id: 'bench', scope: 'openid profile', jti: crypto.randomUUID() };
  const sign = () => new SignJWT(payload).setProtectedHeader({ alg, typ: 'at+jwt' }).setIssuedAt().setExpirationTime('15m').sign(privateKey);
  const token = await sign();
  return {
    alg,
    signPerSecond: await rate(sign, ms),
    verifyPerSecond: await rate(() => jwtVerify(token, publicKey, { algorithms: [alg] }), ms),
  };
}

/** argon2id verifications per second on one thread, with the given parameters. */
export async function argon2Ceiling(params, ms = 1500) {
  const hash = await argon2.hash('correct horse battery staple', { ...params, type: argon2.argon2id });
  return rate(() => argon2.verify(hash, 'correct horse battery staple'), ms);
}
