import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { basicAuth, createClient, type TestClient } from '../helpers/fixtures.js';
import { authorizeParams, FORM } from '../helpers/oauth-flow.js';
import { startReplica, uniqueRedisPrefix, type Replica } from '../helpers/redis.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { testRedisUrl } from '../helpers/tools.js';

/**
 * Issue 13 §2: a pushed request's request_uri is single use across a deployment. Two Authly instances on one
 * database (and one Redis when TEST_REDIS_URL is set; PAR keeps its state in the database either way).
 */
const redisUrl = testRedisUrl();

describe('pushed authorization requests on two replicas', () => {
  let testDb: TestDb;
  let a: Replica;
  let b: Replica;
  let client: TestClient;

  beforeAll(async () => {
    testDb = await createTestDb();
    const env: Record<string, string> = redisUrl ? { REDIS_URL: redisUrl, AUTHLY_REDIS_KEY_PREFIX: uniqueRedisPrefix() } : {};
    a = await startReplica(testDb.db, env);
    b = await startReplica(testDb.db, env);
    client = await createClient(a.app);
  });
  afterAll(async () => {
    await a?.app.close();
    await b?.app.close();
    await testDb?.drop();
  });

  async function push(app: FastifyInstance): Promise<string> {
    const res = await app.inject({
      method: 'POST',
      url: '/oauth/par',
      headers: { ...FORM, authorization: basicAuth(client.clientId, client.clientSecret!) },
      payload: authorizeParams(client.clientId, { prompt: 'none' }).toString(),
    });
    expect(res.statusCode).toBe(201);
    return (res.json() as { request_uri: string }).request_uri;
  }
  const use = (app: FastifyInstance, requestUri: string) =>
    app.inject(`/oauth/authorize?${new URLSearchParams({ client_id: client.clientId, request_uri: requestUri })}`);

  it('a request_uri used on one replica is refused on the other', async () => {
    const requestUri = await push(a.app);
    const first = await use(b.app, requestUri);
    expect(first.statusCode).toBe(303);
    expect(new URL(first.headers.location as string).searchParams.get('error')).toBe('login_required');
    const replay = await use(a.app, requestUri);
    expect(replay.statusCode).toBe(400);
    expect(replay.headers.location).toBeUndefined();
    expect(replay.body).toContain('invalid_request_uri');
  });

  it('of uses racing through both replicas exactly one proceeds', async () => {
    const requestUri = await push(b.app);
    const results = await Promise.all([a.app, b.app, a.app, b.app, a.app, b.app].map((app) => use(app, requestUri)));
    expect(results.filter((r) => r.statusCode === 303)).toHaveLength(1);
    expect(results.filter((r) => r.statusCode === 400)).toHaveLength(5);
  });
});
