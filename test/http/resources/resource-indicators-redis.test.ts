import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { createTestDb, type TestDb } from '../../helpers/test-db.js';
import { startReplica, uniqueRedisPrefix, type Replica } from '../../helpers/redis.js';
import { testRedisUrl } from '../../helpers/tools.js';
import { TEST_ISSUER } from '../../helpers/test-app.js';
import { basicAuth, createClient, type TestClient } from '../../helpers/fixtures.js';
import { introspect } from '../../helpers/token-management.js';
import { insertResource } from '../../../src/repositories/resources-repository.js';
import { insertScope } from '../../../src/repositories/scopes-repository.js';

const redisUrl = testRedisUrl();
const API = 'https://api-redis.example.com';

/**
 * Two replicas sharing Redis: a token for a resource issued by one is introspected by the resource's own
 * client on the other, which reads the resource (and its acting clients) from the shared cache.
 */
describe.skipIf(!redisUrl)('resource indicators across replicas sharing Redis', () => {
  let testDb: TestDb;
  let one: Replica;
  let two: Replica;
  let service: TestClient;
  let rs: TestClient;

  beforeAll(async () => {
    testDb = await createTestDb();
    const env = { REDIS_URL: redisUrl!, AUTHLY_REDIS_KEY_PREFIX: uniqueRedisPrefix(), RATE_LIMIT_ENABLED: 'false' };
    one = await startReplica(testDb.db, env);
    two = await startReplica(testDb.db, env);
    await insertScope(testDb.db, { name: 'read:r', description: 'read', isDefault: false });
    service = await createClient(one.app, { grantTypes: ['client_credentials'], scope: 'read:r' });
    rs = await createClient(one.app, { grantTypes: ['client_credentials'], scope: '' });
    await insertResource(testDb.db, { identifier: API, name: 'Redis API', scopes: ['read:r'], accessTokenFormat: 'opaque', accessTokenTtlSeconds: 90, signingAlg: null, clientIds: [rs.clientId] });
  });
  afterAll(async () => {
    await one?.app.close();
    await two?.app.close();
    await testDb?.drop();
  });

  it('issued on one replica, introspected as active by the resource client on the other', async () => {
    const res = await one.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(service.clientId, service.clientSecret!) },
      payload: `grant_type=client_credentials&resource=${encodeURIComponent(API)}`,
    });
    expect(res.statusCode, res.body).toBe(200);
    const tokens = res.json() as { access_token: string; expires_in: number; scope: string };
    expect(tokens).toMatchObject({ expires_in: 90, scope: 'read:r' });
    expect(() => decodeJwt(tokens.access_token)).toThrow();
    const body = (await introspect(two.app, rs, { token: tokens.access_token })).json() as { iat: number };
    expect(body).toEqual({
      active: true,
      scope: 'read:r',
      client_id: service.clientId,
      sub: service.clientId,
      aud: API,
      iss: TEST_ISSUER,
      exp: body.iat + 90,
      iat: body.iat,
      token_type: 'Bearer',
    });
  });
});
