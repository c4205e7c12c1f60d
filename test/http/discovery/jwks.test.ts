import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { decodeProtectedHeader } from 'jose';
import { buildApp } from '../../../src/app.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { createClient, createUser } from '../../helpers/fixtures.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { obtainTokens, userinfo, type Tokens } from '../../helpers/oauth-flow.js';

type Jwk = Record<string, unknown>;

const PUBLIC_MEMBERS: Record<string, string[]> = {
  RSA: ['alg', 'e', 'kid', 'kty', 'n', 'use'],
  EC: ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'],
  OKP: ['alg', 'crv', 'kid', 'kty', 'use', 'x'],
};

async function jwks(app: FastifyInstance): Promise<Jwk[]> {
  const res = await app.inject('/.well-known/jwks.json');
  expect(res.statusCode).toBe(200);
  return (res.json() as { keys: Jwk[] }).keys;
}

function expectPublicOnly(keys: Jwk[]) {
  for (const key of keys) {
    expect(Object.keys(key).sort()).toEqual(PUBLIC_MEMBERS[key.kty as string]);
    for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) expect(key[priv]).toBeUndefined();
    expect(key.use).toBe('sig');
    expect(key.kid).toBeTypeOf('string');
  }
}

describe('JWKS (default RS256)', () => {
  let t: TestApp;
  let second: FastifyInstance | undefined;
  let tokens: Tokens;

  beforeAll(async () => {
    t = await createTestApp();
    const client = await createClient(t.app);
    const user = await createUser(t.app);
    tokens = await obtainTokens(t.app, new InjectBrowser(t.app), client, user.username);
  });
  afterAll(async () => {
    await second?.close();
    await t.close();
  });

  it('publishes only public members, with kid, kty, alg and use, and a max-age', async () => {
    const res = await t.app.inject('/.well-known/jwks.json');
    expect(res.headers['cache-control']).toMatch(/max-age=\d+/);
    expect(res.headers['content-type']).toMatch(/^application\/(jwk-set\+)?json/);
    const keys = await jwks(t.app);
    expect(keys.map((k) => k.alg)).toEqual(['RS256']);
    expectPublicOnly(keys);
    // No duplicate kids.
    expect(new Set(keys.map((k) => k.kid)).size).toBe(keys.length);
  });

  it('every token is signed by a published key', async () => {
    const kids = (await jwks(t.app)).map((k) => k.kid);
    expect(kids).toContain(decodeProtectedHeader(tokens.access_token).kid);
    expect(kids).toContain(decodeProtectedHeader(tokens.id_token!).kid);
  });

  it('keys persist: a second app on the same database publishes the same kids and accepts the first app\'s tokens', async () => {
    second = await buildApp(t.config, { db: t.testDb.db });
    await second.ready();
    expect((await jwks(second)).map((k) => k.kid).sort()).toEqual((await jwks(t.app)).map((k) => k.kid).sort());
    const res = await userinfo(second, tokens.access_token);
    expect(res.statusCode).toBe(200);
  });

});

describe('JWKS with JWT_ALGORITHM=EdDSA', () => {
  let t: TestApp;
  let tokens: Tokens;

  beforeAll(async () => {
    t = await createTestApp({ JWT_ALGORITHM: 'EdDSA' });
    const client = await createClient(t.app);
    const user = await createUser(t.app);
    tokens = await obtainTokens(t.app, new InjectBrowser(t.app), client, user.username);
  });
  afterAll(() => t?.close());

  it('publishes an RS256 and an EdDSA key, public members only', async () => {
    const keys = await jwks(t.app);
    expect(keys.map((k) => k.alg).sort()).toEqual(['EdDSA', 'RS256']);
    expect(keys.find((k) => k.alg === 'EdDSA')).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    expectPublicOnly(keys);
  });

  it('signs access tokens with EdDSA and ID tokens with RS256', async () => {
    const keys = await jwks(t.app);
    const at = decodeProtectedHeader(tokens.access_token);
    const id = decodeProtectedHeader(tokens.id_token!);
    expect(at.alg).toBe('EdDSA');
    expect(id.alg).toBe('RS256');
    expect(keys.find((k) => k.kid === at.kid)?.alg).toBe('EdDSA');
    expect(keys.find((k) => k.kid === id.kid)?.alg).toBe('RS256');
    expect((await userinfo(t.app, tokens.access_token)).statusCode).toBe(200);
  });
});

describe('JWKS with AUTHLY_KEY_ENCRYPTION_KEY', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTHLY_KEY_ENCRYPTION_KEY: 'k'.repeat(40) });
  });
  afterAll(() => t?.close());

  it('stores private keys encrypted at rest and still publishes public members only', async () => {
    const { rows } = await t.app.ctx.db.query<{ private_jwk: string; private_jwk_encrypted: boolean }>('SELECT private_jwk, private_jwk_encrypted FROM signing_keys');
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.private_jwk_encrypted).toBe(true);
      expect(row.private_jwk).not.toContain('"d"');
      expect(row.private_jwk.startsWith('v2.')).toBe(true);
    }
    expectPublicOnly(await jwks(t.app));
  });
});
