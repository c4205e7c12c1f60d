import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, adminToken, ADMIN_ENV } from '../http/admin/admin-helpers.js';
import { clientSigningKey, JWT_BEARER, signAssertion } from '../helpers/client-assertion.js';
import { FORM } from '../helpers/oauth-flow.js';
import { startReplica, uniqueRedisPrefix, type Replica } from '../helpers/redis.js';
import { TEST_ISSUER } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { testRedisUrl } from '../helpers/tools.js';

/**
 * RFC 7523 section 3 item 7: a client assertion's jti is used once across the whole deployment. Two Authly
 * instances on one database refuse a replay wherever it lands: through the used_jtis table without Redis,
 * and through Redis when it is configured (src/services/replay-guard.ts).
 */
const redisUrl = testRedisUrl();

function replicaSuite(name: string, env: () => Record<string, string>) {
  describe(name, () => {
    let testDb: TestDb;
    let a: Replica;
    let b: Replica;
    let shared: Record<string, string>;

    beforeAll(async () => {
      testDb = await createTestDb();
      shared = env();
      a = await startReplica(testDb.db, { ...ADMIN_ENV, ...shared });
      b = await startReplica(testDb.db, { ...ADMIN_ENV, ...shared });
      // With Redis: both replicas have it up, so the replay guard answers from Redis, not the table.
      if (shared.REDIS_URL) await Promise.all([a.app.ctx.clients.whenUsable(), b.app.ctx.clients.whenUsable()]);
    });
    afterAll(async () => {
      await a?.app.close();
      await b?.app.close();
      await testDb?.drop();
    });

    it('a replayed private_key_jwt assertion is refused by the other replica', async () => {
      const key = await clientSigningKey('ES256');
      const admin = adminCall(a.app, await adminToken(a.app));
      const created = await admin('POST', '/admin/clients', {
        client_name: 'Replicated assertion client',
        grant_types: ['client_credentials'],
        scope: '',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [key.publicJwk] },
      });
      expect(created.statusCode).toBe(201);
      const clientId = (created.json() as { client_id: string }).client_id;
      const assertion = await signAssertion(key, { clientId, audience: TEST_ISSUER });
      const payload = new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: assertion }).toString();
      const first = await a.app.inject({ method: 'POST', url: '/oauth/token', headers: FORM, payload });
      expect(first.statusCode, first.body).toBe(200);
      const replay = await b.app.inject({ method: 'POST', url: '/oauth/token', headers: FORM, payload });
      expect(replay.json()).toEqual({ error: 'invalid_client', error_description: 'the client assertion was already used (jti)' });
      expect(replay.statusCode).toBe(401);
      const again = await a.app.inject({ method: 'POST', url: '/oauth/token', headers: FORM, payload });
      expect(again.statusCode).toBe(401);
      if (shared.REDIS_URL) expect(a.app.ctx.redis?.isUp && b.app.ctx.redis?.isUp).toBe(true);
    });
  });
}

replicaSuite('two replicas on one database (no Redis): client assertion replay', () => ({}));
describe.skipIf(!redisUrl)('with Redis', () => {
  replicaSuite('two replicas on one database and one Redis: client assertion replay', () => ({ REDIS_URL: redisUrl!, AUTHLY_REDIS_KEY_PREFIX: uniqueRedisPrefix() }));
});
