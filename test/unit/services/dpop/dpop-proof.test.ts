import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../src/config/config.js';
import { InvalidDpopProof, InvalidDpopProofAtResource, UseDpopNonce, UseDpopNonceAtResource } from '../../../../src/errors/oauth-errors.js';
import { currentDpopNonce } from '../../../../src/services/dpop/dpop-nonce.js';
import { normalizedHtu, verifyDpopProof, type DpopRequest } from '../../../../src/services/dpop/dpop-proof.js';
import { dpopKey, dpopProof, type ProofOptions } from '../../../helpers/dpop.js';

const ISSUER = 'http://localhost:8000';
const TOKEN_URL = `${ISSUER}/oauth/token`;

/** A context whose replay guard is an in-memory stand-in for Redis SET NX, and whose clock is pinned. */
function proofContext(env: Record<string, string> = {}, nowMs = Date.now()) {
  const used = new Set<string>();
  const config = loadConfig({ DEFAULT_ISSUER_URL: ISSUER, AUTHLY_DATA_DIR: '/tmp/authly-dpop-unit', ...env });
  const redis = {
    isUp: true,
    client: {
      set: async (key: string) => {
        if (used.has(key)) return null;
        used.add(key);
        return 'OK';
      },
    },
  };
  return { config, db: undefined as never, redis: redis as never, dpopNonceKey: Buffer.alloc(32, 7), now: () => nowMs };
}

const es256 = await dpopKey('ES256');
const other = await dpopKey('ES256');

function tokenRequest(header: string | string[] | undefined): DpopRequest {
  return { header, method: 'POST', url: TOKEN_URL, at: 'authorization_server' };
}

async function refusal(promise: Promise<unknown>): Promise<{ type: string; status: number; error: string; description: string; nonce?: string; algs?: readonly string[] }> {
  try {
    await promise;
  } catch (err) {
    if (!(err instanceof InvalidDpopProof || err instanceof UseDpopNonce)) throw err;
    return {
      type: err.constructor.name,
      status: err.status,
      error: err.error,
      description: err.description,
      ...(err.dpopNonce ? { nonce: err.dpopNonce } : {}),
      ...(err.dpopChallengeAlgs ? { algs: err.dpopChallengeAlgs } : {}),
    };
  }
  throw new Error('expected a refusal');
}

/** A JWS with any header, payload and signature text: for what a signing library would not produce. */
function rawJws(header: object, payload: object, signature = 'c2lnbmF0dXJl'): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part(header)}.${part(payload)}.${signature}`;
}

const now = () => Math.floor(Date.now() / 1000);

describe('DPoP proof checks (RFC 9449 section 4.3), at the token endpoint', () => {
  const cases: { name: string; proof: () => Promise<string | string[] | undefined>; description: string }[] = [
    { name: 'no DPoP header', proof: async () => undefined, description: 'a DPoP proof is required' },
    { name: 'two DPoP headers', proof: async () => [await dpopProof(es256), await dpopProof(es256)], description: 'exactly one DPoP header is allowed' },
    { name: 'two proofs joined in one header', proof: async () => `${await dpopProof(es256)}, ${await dpopProof(es256)}`, description: 'exactly one DPoP header is allowed' },
    { name: 'not a JWT', proof: async () => 'not-a-jwt', description: 'the DPoP proof is not a well-formed JWT' },
    { name: 'a JWT whose header is not JSON', proof: async () => 'bm90IGpzb24.e30.c2ln', description: 'the DPoP proof is not a well-formed JWT' },
    { name: 'typ missing', proof: () => dpopProof(es256, { header: { typ: undefined } }), description: 'the DPoP proof typ must be dpop+jwt' },
    { name: 'typ JWT', proof: () => dpopProof(es256, { header: { typ: 'JWT' } }), description: 'the DPoP proof typ must be dpop+jwt' },
    {
      name: 'alg none',
      proof: async () => rawJws({ typ: 'dpop+jwt', alg: 'none', jwk: es256.publicJwk }, { jti: 'x', htm: 'POST', htu: TOKEN_URL, iat: now() }),
      description: 'the DPoP proof alg must be one of ES256 EdDSA Ed25519 PS256 RS256',
    },
    {
      name: 'alg HS256 (symmetric)',
      proof: async () => rawJws({ typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: 'c2VjcmV0' } }, { jti: 'x', htm: 'POST', htu: TOKEN_URL, iat: now() }),
      description: 'the DPoP proof alg must be one of ES256 EdDSA Ed25519 PS256 RS256',
    },
    { name: 'alg not in DPOP_SIGNING_ALGS', proof: async () => dpopProof(await dpopKey('ES384')), description: 'the DPoP proof alg must be one of ES256 EdDSA Ed25519 PS256 RS256' },
    { name: 'no jwk', proof: () => dpopProof(es256, { header: { jwk: undefined } }), description: 'the DPoP proof header must carry a jwk' },
    { name: 'jwk not an object', proof: () => dpopProof(es256, { header: { jwk: 'key' } }), description: 'the DPoP proof header must carry a jwk' },
    { name: 'a private jwk', proof: () => dpopProof(es256, { header: { jwk: { ...es256.publicJwk, d: 'c2VjcmV0' } } }), description: 'the DPoP proof jwk must be a public key' },
    { name: 'signed by another key than its jwk', proof: () => dpopProof(es256, { header: { jwk: other.publicJwk } }), description: 'the DPoP proof signature does not verify with its jwk' },
    { name: 'a jwk that does not fit the alg', proof: () => dpopProof(es256, { header: { jwk: { kty: 'RSA', n: 'AQAB', e: 'AQAB' } } }), description: 'the DPoP proof signature does not verify with its jwk' },
    { name: 'jti missing', proof: () => dpopProof(es256, { claims: { jti: undefined } }), description: 'the DPoP proof must carry a jti' },
    { name: 'jti empty', proof: () => dpopProof(es256, { jti: '' }), description: 'the DPoP proof must carry a jti' },
    { name: 'htm missing', proof: () => dpopProof(es256, { claims: { htm: undefined } }), description: 'the DPoP proof must carry htm' },
    { name: 'htu missing', proof: () => dpopProof(es256, { claims: { htu: undefined } }), description: 'the DPoP proof must carry htu' },
    { name: 'iat missing', proof: () => dpopProof(es256, { claims: { iat: undefined } }), description: 'the DPoP proof must carry iat' },
    { name: 'iat a string', proof: () => dpopProof(es256, { claims: { iat: '1700000000' } }), description: 'the DPoP proof must carry iat' },
    { name: 'htm GET for a POST', proof: () => dpopProof(es256, { htm: 'GET' }), description: 'the DPoP proof htm does not match the request method' },
    { name: 'htm in lower case', proof: () => dpopProof(es256, { htm: 'post' }), description: 'the DPoP proof htm does not match the request method' },
    { name: 'htu of another endpoint', proof: () => dpopProof(es256, { htu: `${ISSUER}/oauth/revoke` }), description: 'the DPoP proof htu does not match the request URL' },
    { name: 'htu of another host', proof: () => dpopProof(es256, { htu: 'http://evil.example/oauth/token' }), description: 'the DPoP proof htu does not match the request URL' },
    { name: 'htu not a URL', proof: () => dpopProof(es256, { htu: 'token' }), description: 'the DPoP proof htu does not match the request URL' },
    { name: 'iat in the future beyond the skew', proof: () => dpopProof(es256, { iat: now() + 30 }), description: 'the DPoP proof iat is in the future' },
    { name: 'iat older than the window', proof: () => dpopProof(es256, { iat: now() - 120 }), description: 'the DPoP proof has expired (iat too old)' },
  ];

  it.each(cases)('$name: 400 invalid_dpop_proof', async ({ proof, description }) => {
    const ctx = proofContext();
    expect(await refusal(verifyDpopProof(ctx, tokenRequest(await proof())))).toEqual({
      type: 'InvalidDpopProof',
      status: 400,
      error: 'invalid_dpop_proof',
      description,
    });
  });

  it.each(['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'])('a valid %s proof gives the RFC 7638 thumbprint of its key', async (alg) => {
    const key = await dpopKey(alg);
    const verified = await verifyDpopProof(proofContext(), tokenRequest(await dpopProof(key)));
    expect(verified.jkt).toBe(key.jkt);
  });

  // The options are made from the same pinned clock as the context: a case list evaluated when the file
  // loads can be seconds old when its case runs on a loaded machine.
  it.each<[string, (nowSeconds: number) => ProofOptions]>([
    ['a query and a fragment in htu', () => ({ htu: `${TOKEN_URL}?x=1#frag` })],
    ['an upper-case scheme and host and an explicit default port', () => ({ htu: 'HTTP://LOCALHOST:8000/oauth/token' })],
    ['iat within the skew ahead', (t) => ({ iat: t + 4 })],
    ['iat at the edge of the window', (t) => ({ iat: t - 60 })],
  ])('accepts %s (section 4.3 normalisation and window)', async (_name, options) => {
    const t = now();
    const proof = await dpopProof(es256, options(t));
    await expect(verifyDpopProof(proofContext({}, t * 1000), tokenRequest(proof))).resolves.toMatchObject({ jkt: es256.jkt });
  });

  it('a replayed proof (same jti) is refused the second time', async () => {
    const ctx = proofContext();
    const proof = await dpopProof(es256);
    await verifyDpopProof(ctx, tokenRequest(proof));
    expect(await refusal(verifyDpopProof(ctx, tokenRequest(proof)))).toEqual({
      type: 'InvalidDpopProof',
      status: 400,
      error: 'invalid_dpop_proof',
      description: 'the DPoP proof was already used (jti replayed)',
    });
  });

  it('a proof refused for another reason uses nothing up: its jti stays usable', async () => {
    const ctx = proofContext();
    const jti = 'kept-jti';
    await refusal(verifyDpopProof(ctx, tokenRequest(await dpopProof(es256, { jti, htm: 'GET' }))));
    await expect(verifyDpopProof(ctx, tokenRequest(await dpopProof(es256, { jti })))).resolves.toMatchObject({ jti });
  });

  it('DPOP_PROOF_MAX_AGE_SECONDS and DPOP_CLOCK_SKEW_SECONDS set the window', async () => {
    const ctx = proofContext({ DPOP_PROOF_MAX_AGE_SECONDS: '300', DPOP_CLOCK_SKEW_SECONDS: '0' });
    await expect(verifyDpopProof(ctx, tokenRequest(await dpopProof(es256, { iat: now() - 290 })))).resolves.toBeDefined();
    expect((await refusal(verifyDpopProof(ctx, tokenRequest(await dpopProof(es256, { iat: now() + 2 }))))).description).toBe(
      'the DPoP proof iat is in the future',
    );
  });

  it('DPOP_SIGNING_ALGS narrows the accepted algorithms', async () => {
    const ctx = proofContext({ DPOP_SIGNING_ALGS: 'EdDSA' });
    expect((await refusal(verifyDpopProof(ctx, tokenRequest(await dpopProof(es256))))).description).toBe('the DPoP proof alg must be one of EdDSA');
  });
});

describe('DPoP nonces (RFC 9449 section 8)', () => {
  const env = { DPOP_REQUIRE_NONCE: 'true', DPOP_NONCE_LIFETIME_SECONDS: '60' };

  it('a proof without a nonce gets use_dpop_nonce with the current nonce', async () => {
    const ctx = proofContext(env);
    expect(await refusal(verifyDpopProof(ctx, tokenRequest(await dpopProof(es256))))).toEqual({
      type: 'UseDpopNonce',
      status: 400,
      error: 'use_dpop_nonce',
      description: 'a DPoP nonce is required',
      nonce: currentDpopNonce(ctx),
    });
  });

  it('a made-up nonce is refused as stale', async () => {
    const ctx = proofContext(env);
    expect((await refusal(verifyDpopProof(ctx, tokenRequest(await dpopProof(es256, { nonce: 'made-up' }))))).description).toBe(
      'the DPoP nonce is stale or invalid',
    );
  });

  it('the current and the previous slot are accepted, the one before is not (rotation)', async () => {
    const t0 = 1_800_000_000_000;
    const issued = currentDpopNonce(proofContext(env, t0));
    const iat = (ms: number) => Math.floor(ms / 1000);
    // The nonce of the slot of t0, one slot later: still accepted.
    const later = proofContext(env, t0 + 60_000);
    await expect(verifyDpopProof(later, tokenRequest(await dpopProof(es256, { nonce: issued, iat: iat(t0 + 60_000) })))).resolves.toBeDefined();
    // Two slots later: stale, and the answer carries the new nonce.
    const muchLater = proofContext(env, t0 + 120_000);
    const refused = await refusal(verifyDpopProof(muchLater, tokenRequest(await dpopProof(es256, { nonce: issued, iat: iat(t0 + 120_000) }))));
    expect(refused).toMatchObject({ error: 'use_dpop_nonce', nonce: currentDpopNonce(muchLater) });
    expect(refused.nonce).not.toBe(issued);
  });

  it('two replicas (same server secret) agree on nonces without sharing state', async () => {
    const a = proofContext(env, 1_800_000_000_000);
    const b = proofContext(env, 1_800_000_000_000);
    const nonce = currentDpopNonce(a);
    await expect(verifyDpopProof(b, tokenRequest(await dpopProof(es256, { nonce, iat: 1_800_000_000 })))).resolves.toBeDefined();
  });
});

describe('DPoP proofs at a protected resource (RFC 9449 section 7)', () => {
  const USERINFO = `${ISSUER}/oidc/userinfo`;
  const at = (header: string, accessToken = 'the-access-token'): DpopRequest => ({ header, method: 'GET', url: USERINFO, accessToken, at: 'resource' });

  it.each<[string, ProofOptions, string]>([
    ['ath missing', { htm: 'GET', htu: USERINFO }, 'the DPoP proof must carry ath'],
    ['ath of another token', { htm: 'GET', htu: USERINFO, accessToken: 'another-token' }, 'the DPoP proof ath does not match the access token'],
    ['htu of the token endpoint', { htm: 'GET', accessToken: 'the-access-token' }, 'the DPoP proof htu does not match the request URL'],
  ])('%s: 401 invalid_dpop_proof with a DPoP challenge', async (_name, options, description) => {
    expect(await refusal(verifyDpopProof(proofContext(), at(await dpopProof(es256, options))))).toEqual({
      type: 'InvalidDpopProofAtResource',
      status: 401,
      error: 'invalid_dpop_proof',
      description,
      algs: ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'],
    });
  });

  it('a nonce required at the resource: 401 use_dpop_nonce with the nonce and a challenge', async () => {
    const ctx = proofContext({ DPOP_REQUIRE_NONCE: 'true' });
    const refused = await refusal(verifyDpopProof(ctx, at(await dpopProof(es256, { htm: 'GET', htu: USERINFO, accessToken: 'the-access-token' }))));
    expect(refused).toEqual({
      type: 'UseDpopNonceAtResource',
      status: 401,
      error: 'use_dpop_nonce',
      description: 'a DPoP nonce is required',
      nonce: currentDpopNonce(ctx),
      algs: ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'],
    });
    expect(new UseDpopNonceAtResource('x', 'n')).toBeInstanceOf(UseDpopNonce);
    expect(new InvalidDpopProofAtResource('x')).toBeInstanceOf(InvalidDpopProof);
  });

  it('a valid proof with the right ath passes', async () => {
    const verified = await verifyDpopProof(proofContext(), at(await dpopProof(es256, { htm: 'GET', htu: USERINFO, accessToken: 'the-access-token' })));
    expect(verified.jkt).toBe(es256.jkt);
  });
});

describe('normalizedHtu', () => {
  it.each([
    ['https://AS.example.com:443/token?x#y', 'https://as.example.com/token'],
    ['https://as.example.com/a/../token', 'https://as.example.com/token'],
    ['https://as.example.com/%7etoken', 'https://as.example.com/%7Etoken'],
    ['ftp://as.example.com/token', undefined],
    ['https://user:pass@as.example.com/token', undefined],
    ['not a url', undefined],
  ])('%s → %s', (input, expected) => {
    expect(normalizedHtu(input)).toBe(expected);
  });
});

