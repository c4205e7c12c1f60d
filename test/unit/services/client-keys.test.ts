import { generateKeyPairSync } from 'node:crypto';
import { generateKeyPair, exportJWK, SignJWT, jwtVerify, errors as joseErrors, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/config.js';
import type { Db } from '../../../src/db/db.js';
import { ClientKeysUnavailable } from '../../../src/errors/client-keys-errors.js';
import { jwksProblem, jwksUriProblem } from '../../../src/services/client-key-rules.js';
import { clientKeyResolver, ClientKeySets } from '../../../src/services/client-keys.js';
import { Metrics } from '../../../src/services/metrics.js';
import { OutboundFetcher } from '../../../src/services/outbound-fetch.js';
import { MetadataDocumentServer } from '../../helpers/metadata-document-server.js';

async function keyPair(alg: string, kid: string) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const privateJwk = await exportJWK(privateKey);
  return { jwk, privateJwk, sign: (claims: Record<string, unknown> = {}) => new SignJWT({ sub: 'c', ...claims }).setProtectedHeader({ alg, kid }).sign(privateKey) };
}

describe('jwksProblem: what a client may register as its keys', () => {
  let ec: JWK;
  let ecPrivate: JWK;
  let rsa: JWK;
  let ed: JWK;
  let weakRsa: JWK;
  beforeAll(async () => {
    const e = await keyPair('ES256', 'e1');
    ec = e.jwk;
    ecPrivate = e.privateJwk;
    rsa = (await keyPair('PS256', 'r1')).jwk;
    ed = (await keyPair('EdDSA', 'd1')).jwk;
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    weakRsa = publicKey.export({ format: 'jwk' }) as JWK;
  });

  it('accepts public RSA, EC and OKP keys', () => {
    expect(jwksProblem({ keys: [ec, rsa, ed] })).toBeUndefined();
    expect(jwksProblem({ keys: [{ ...ec, kid: undefined }] })).toBeUndefined();
  });

  it.each([
    ['not an object', () => 'x', 'must be a JWK Set: an object with a keys array (RFC 7517 section 5)'],
    ['no keys array', () => ({ keys: {} }), 'must be a JWK Set: an object with a keys array (RFC 7517 section 5)'],
    ['empty', () => ({ keys: [] }), 'must hold at least one key'],
    ['too many keys', () => ({ keys: Array.from({ length: 21 }, (_, i) => ({ ...ec, kid: `k${i}` })) }), 'must hold at most 20 keys'],
    ['a private key', () => ({ keys: [ecPrivate] }), 'keys.0 contains the private or symmetric member d; register public keys only'],
    ['a symmetric key', () => ({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }), 'keys.0 contains the private or symmetric member k; register public keys only'],
    ['an unknown kty', () => ({ keys: [{ kty: 'XYZ' }] }), 'keys.0 must have kty RSA, EC or OKP'],
    ['a broken key', () => ({ keys: [{ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }] }), 'keys.0 is not a valid public key'],
    ['a short RSA key', () => ({ keys: [weakRsa] }), 'keys.0 is an RSA key shorter than 2048 bits'],
    ['a bad use', () => ({ keys: [{ ...ec, use: 'other' }] }), 'keys.0 must have use sig or enc'],
    ['a non-string kid', () => ({ keys: [{ ...ec, kid: 5 }] }), 'keys.0 has an invalid kid'],
    ['a repeated kid', () => ({ keys: [ec, { ...rsa, kid: 'e1' }] }), 'keys.1 repeats the kid "e1"; each key needs its own'],
  ])('refuses %s', (_name, value, problem) => {
    expect(jwksProblem(value())).toBe(problem);
  });
});

describe('jwksUriProblem', () => {
  const strict = { outboundAllowLoopback: false };
  const dev = { outboundAllowLoopback: true };
  it.each([
    ['https://client.example.com/jwks.json', strict, undefined],
    ['http://client.example.com/jwks.json', strict, 'must be an https URL'],
    ['not a url', strict, 'must be an absolute https URL'],
    ['https://client.example.com/jwks.json#k', strict, 'must not contain a fragment'],
    ['https://u:p@client.example.com/jwks.json', strict, 'must not contain a user name or password'],
    ['https://127.0.0.1/jwks.json', strict, 'must name a public internet host'],
    ['https://localhost/jwks.json', strict, 'must name a public internet host'],
    ['https://10.1.2.3/jwks.json', strict, 'must name a public internet host'],
    ['https://[fd00::1]/jwks.json', strict, 'must name a public internet host'],
    ['http://127.0.0.1:8080/jwks.json', dev, undefined],
    ['http://10.1.2.3/jwks.json', dev, 'must be an https URL'],
    ['file:///etc/passwd', dev, 'must be an https URL'],
  ])('%s (%o)', (uri, config, problem) => {
    expect(jwksUriProblem(uri, config)).toBe(problem);
  });
});

describe('clientKeyResolver over a jwks_uri served by a real HTTP receiver', () => {
  let server: MetadataDocumentServer;
  let now = Date.now();
  const config = {
    outboundAllowLoopback: true,
    clientJwks: { cacheMinSeconds: 60, cacheMaxSeconds: 3600, refetchIntervalSeconds: 30, fetchTimeoutMs: 5000 },
  } as unknown as Config;
  const newCtx = () => {
    const metrics = new Metrics({} as Db);
    return { config, metrics, clientKeySets: new ClientKeySets(new OutboundFetcher({ maxPerHost: 4 }), () => now) };
  };

  beforeAll(async () => {
    server = await MetadataDocumentServer.start();
  });
  afterAll(() => server.close());

  it('verifies with the published key and fetches once while the set is fresh', async () => {
    const k1 = await keyPair('ES256', 'k1');
    const uri = server.serve('/fresh.json', { body: { keys: [k1.jwk] } });
    const ctx = newCtx();
    const getKey = clientKeyResolver(ctx, { jwks: null, jwksUri: uri })!;
    await Promise.all([1, 2, 3].map(async () => jwtVerify(await k1.sign(), getKey)));
    await jwtVerify(await k1.sign(), getKey);
    expect(server.count('/fresh.json')).toBe(1);
  });

  it('picks up a rotated key on an unknown kid, and a storm of unknown kids fetches once per interval', async () => {
    const k1 = await keyPair('ES256', 'k1');
    const k2 = await keyPair('ES256', 'k2');
    const uri = server.serve('/rotate.json', { body: { keys: [k1.jwk] } });
    const ctx = newCtx();
    const getKey = clientKeyResolver(ctx, { jwks: null, jwksUri: uri })!;
    await jwtVerify(await k1.sign(), getKey);
    expect(server.count('/rotate.json')).toBe(1);

    server.serve('/rotate.json', { body: { keys: [k2.jwk] } });
    await jwtVerify(await k2.sign(), getKey);
    expect(server.count('/rotate.json')).toBe(2);

    const strangers = await Promise.all(Array.from({ length: 30 }, (_, i) => keyPair('ES256', `unknown-${i}`)));
    const results = await Promise.allSettled(strangers.map(async (k) => jwtVerify(await k.sign(), getKey)));
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof joseErrors.JWKSNoMatchingKey)).toBe(true);
    expect(server.count('/rotate.json')).toBe(2);

    now += 31_000;
    await expect(jwtVerify(await strangers[0]!.sign(), getKey)).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);
    expect(server.count('/rotate.json')).toBe(3);
  });

  it('refetches when Cache-Control says the set is stale (bounded below by the minimum)', async () => {
    const k1 = await keyPair('ES256', 'k1');
    const uri = server.serve('/max-age.json', { body: { keys: [k1.jwk] }, headers: { 'cache-control': 'max-age=120' } });
    const ctx = newCtx();
    const getKey = clientKeyResolver(ctx, { jwks: null, jwksUri: uri })!;
    await jwtVerify(await k1.sign(), getKey);
    now += 100_000;
    await jwtVerify(await k1.sign(), getKey);
    expect(server.count('/max-age.json')).toBe(1);
    now += 30_000;
    await jwtVerify(await k1.sign(), getKey);
    expect(server.count('/max-age.json')).toBe(2);
  });

  it.each([
    ['an error status', { status: 500, body: { keys: [] } }, 'status', 'The client jwks_uri did not answer 200.'],
    ['a redirect', { status: 302, headers: { location: 'https://example.com/' } }, 'redirect', 'The client jwks_uri redirects; redirects are not followed.'],
    ['not JSON', { body: 'nope', headers: { 'content-type': 'application/json' } }, 'invalid_jwks', 'The client jwks_uri did not return JSON.'],
    ['a private key', { body: 'private' }, 'invalid_jwks', 'The JWK Set at the client jwks_uri is not usable: keys.0 contains the private or symmetric member d; register public keys only.'],
  ])('refuses %s and never keeps the error', async (name, served, reason, description) => {
    const k1 = await keyPair('ES256', 'k1');
    const path = `/bad-${reason}-${name.length}.json`;
    const uri = server.serve(path, (served as { body?: unknown }).body === 'private' ? { body: { keys: [{ ...k1.jwk, ...k1.privateJwk }] } } : (served as never));
    const ctx = newCtx();
    const getKey = clientKeyResolver(ctx, { jwks: null, jwksUri: uri })!;
    const err = await jwtVerify(await k1.sign(), getKey).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientKeysUnavailable);
    expect(err).toMatchObject({ reason, description });
    // Fixed at the client: the next request fetches again and succeeds.
    server.serve(path, { body: { keys: [k1.jwk] } });
    await jwtVerify(await k1.sign(), getKey);
    expect(server.count(path)).toBe(2);
  });

  it('refuses a jwks_uri on a private address when loopback is not allowed', async () => {
    const ctx = { ...newCtx(), config: { ...config, outboundAllowLoopback: false } as Config };
    const getKey = clientKeyResolver(ctx, { jwks: null, jwksUri: server.serve('/private.json', { body: { keys: [] } }) })!;
    const k1 = await keyPair('ES256', 'k1');
    await expect(jwtVerify(await k1.sign(), getKey)).rejects.toMatchObject({ reason: 'invalid_url', description: 'The client jwks_uri must be an https URL.' });
    expect(server.count('/private.json')).toBe(0);
  });

  it('uses a jwks given by value, and none at all means no resolver', async () => {
    const k1 = await keyPair('EdDSA', 'k1');
    const ctx = newCtx();
    const getKey = clientKeyResolver(ctx, { jwks: { keys: [k1.jwk as Record<string, unknown>] }, jwksUri: null })!;
    await jwtVerify(await k1.sign(), getKey);
    expect(clientKeyResolver(ctx, { jwks: null, jwksUri: null })).toBeUndefined();
  });
});
