import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyStore } from '../../../src/tokens/key-store.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';

/** The JWKS body is serialized once per key generation: a reload (rotation, a new key) shows at once. */
describe('JWKS serialization cache', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const algs = async () => {
    const res = await t.app.inject('/.well-known/jwks.json');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    return (res.json() as { keys: { alg: string }[] }).keys.map((k) => k.alg).sort();
  };

  it('serves the same document until the keys reload, then the new one', async () => {
    expect(await algs()).toEqual(['RS256']);
    expect(await algs()).toEqual(['RS256']);
    // Another replica adds an ES256 key to the shared table; this one reloads (as on an unknown kid).
    await new KeyStore(t.app.ctx.db, ['ES256']).init();
    expect(await algs()).toEqual(['RS256']);
    await t.app.ctx.keys.reload();
    expect(await algs()).toEqual(['ES256', 'RS256']);
  });
});
