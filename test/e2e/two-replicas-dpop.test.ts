import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentDpopNonce } from '../../src/services/dpop/dpop-nonce.js';
import { dpopKey, dpopProof, type DpopTestKey } from '../helpers/dpop.js';
import { createClient, type TestClient } from '../helpers/fixtures.js';
import { tokenRequest } from '../helpers/oauth-flow.js';
import { startReplica, uniqueRedisPrefix, type Replica } from '../helpers/redis.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { testRedisUrl } from '../helpers/tools.js';

/**
 * RFC 9449 section 11.1 across a deployment: a DPoP proof used at one replica is refused at the other,
 * whether the replay guard is Redis (shared key space) or PostgreSQL (the used_jtis table, when no Redis is
 * configured); and a nonce handed out by one replica is accepted by the other (stateless nonces).
 */
const redisUrl = testRedisUrl();
const setups = [
  { name: 'one database, no Redis (PostgreSQL replay guard)', env: {} as Record<string, string>, skip: false },
  { name: 'one database and one Redis', env: { REDIS_URL: redisUrl ?? '' } as Record<string, string>, skip: !redisUrl },
];

describe.each(setups)('DPoP across two replicas: $name', ({ env, skip }) => {
  let testDb: TestDb;
  let a: Replica;
  let b: Replica;
  let key: DpopTestKey;
  let service: TestClient;

  beforeAll(async () => {
    if (skip) return;
    testDb = await createTestDb();
    const shared = { ...env, ...(env.REDIS_URL ? { AUTHLY_REDIS_KEY_PREFIX: uniqueRedisPrefix() } : {}), RATE_LIMIT_ENABLED: 'false', DPOP_REQUIRE_NONCE: 'true' };
    a = await startReplica(testDb.db, shared);
    b = await startReplica(testDb.db, shared);
    key = await dpopKey('ES256');
    service = await createClient(a.app, { grantTypes: ['client_credentials'], scope: '' });
  });
  afterAll(async () => {
    await a?.app.close();
    await b?.app.close();
    await testDb?.drop();
  });

  it.skipIf(skip)('a nonce from replica A is accepted by replica B, and a proof used at A is refused at B', async () => {
    const first = await tokenRequest(a.app, service, { grant_type: 'client_credentials' }, { headers: { dpop: await dpopProof(key) } });
    expect(first.json()).toEqual({ error: 'use_dpop_nonce', error_description: 'a DPoP nonce is required' });
    const nonce = first.headers['dpop-nonce'] as string;
    expect(nonce).toBe(currentDpopNonce(b.app.ctx));

    const proof = await dpopProof(key, { nonce });
    const atA = await tokenRequest(a.app, service, { grant_type: 'client_credentials' }, { headers: { dpop: proof } });
    expect(atA.statusCode).toBe(200);
    expect(atA.json().token_type).toBe('DPoP');
    const atB = await tokenRequest(b.app, service, { grant_type: 'client_credentials' }, { headers: { dpop: proof } });
    expect(atB.statusCode).toBe(400);
    expect(atB.json()).toEqual({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof was already used (jti replayed)' });
  });

  it.skipIf(skip)('proofs sent to both replicas at once: exactly one is accepted', async () => {
    const nonce = currentDpopNonce(a.app.ctx);
    const proof = await dpopProof(key, { nonce });
    const answers = await Promise.all(
      [a, b, a, b].map((replica) => tokenRequest(replica.app, service, { grant_type: 'client_credentials' }, { headers: { dpop: proof } })),
    );
    expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 400, 400, 400]);
  });
});
