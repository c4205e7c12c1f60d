import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { decodeProtectedHeader } from 'jose';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { createClient, createUser } from '../../helpers/fixtures.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { obtainTokens, userinfo, type Tokens } from '../../helpers/oauth-flow.js';

type Jwk = Record<string, unknown>;

async function jwks(app: FastifyInstance): Promise<Jwk[]> {
  const res = await app.inject('/.well-known/jwks.json');
  expect(res.statusCode).toBe(200);
  return (res.json() as { keys: Jwk[] }).keys;
}

function expectPublicOnly(keys: Jwk[]) {
  for (const key of keys) {
    for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) expect(key[priv]).toBeUndefined();
    expect(key).toMatchObject({ use: 'sig', kid: expect.any(String), kty: expect.any(String), alg: expect.any(String) });
  }
}

/** SECURITY.md: RS256 always, ES256 may be offered; access tokens use JWT_ALGORITHM, ID tokens stay RS256. */
describe('JWKS with JWT_ALGORITHM=ES256', () => {
  let t: TestApp;
  let tokens: Tokens;

  beforeAll(async () => {
    t = await createTestApp({ JWT_ALGORITHM: 'ES256' });
    const client = await createClient(t.app);
    const user = await createUser(t.app);
    tokens = await obtainTokens(t.app, new InjectBrowser(t.app), client, user.username);
  });
  afterAll(() => t?.close());

  it('publishes an RS256 and an ES256 key, public members only', async () => {
    const keys = await jwks(t.app);
    expect(keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    expect(keys.find((k) => k.alg === 'ES256')).toMatchObject({ kty: 'EC', crv: 'P-256' });
    expectPublicOnly(keys);
  });

  it('signs access tokens with ES256 and ID tokens with RS256', async () => {
    const keys = await jwks(t.app);
    const at = decodeProtectedHeader(tokens.access_token);
    const id = decodeProtectedHeader(tokens.id_token!);
    expect(at.alg).toBe('ES256');
    expect(id.alg).toBe('RS256');
    expect(keys.find((k) => k.kid === at.kid)?.alg).toBe('ES256');
    expect(keys.find((k) => k.kid === id.kid)?.alg).toBe('RS256');
    expect((await userinfo(t.app, tokens.access_token)).statusCode).toBe(200);
  });
});
