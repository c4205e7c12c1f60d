import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetadataDocumentServer } from '../../helpers/metadata-document-server.js';
import { authorizeUrl, isInteractionRedirect } from '../../helpers/oauth-flow.js';
import { metricValue, startReplica, uniqueRedisPrefix, type Replica } from '../../helpers/redis.js';
import { createTestDb, type TestDb } from '../../helpers/test-db.js';
import { testRedisUrl } from '../../helpers/tools.js';

const redisUrl = testRedisUrl();
const MCP_REDIRECT = 'https://mcp-client.example.com/callback';

/**
 * Client ID metadata documents are shared across replicas: the clients row is the record, and the client
 * cache (L1, plus Redis when configured) serves it, so a document one replica fetched costs the others no
 * request while it is fresh.
 */
describe.each([
  ['without Redis: the database row is the shared record', false],
  ['with Redis: the shared client cache serves it', true],
])('client ID metadata documents across two replicas, %s', (_name, useRedis) => {
  let testDb: TestDb;
  let docs: MetadataDocumentServer;
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    if (useRedis && !redisUrl) return;
    testDb = await createTestDb();
    docs = await MetadataDocumentServer.start();
    const env = {
      CIMD_ALLOW_LOOPBACK: 'true',
      ...(useRedis ? { REDIS_URL: redisUrl!, AUTHLY_REDIS_KEY_PREFIX: uniqueRedisPrefix() } : {}),
    };
    a = await startReplica(testDb.db, env);
    b = await startReplica(testDb.db, env);
    await a.app.ctx.clients.whenUsable();
    await b.app.ctx.clients.whenUsable();
  });
  afterAll(async () => {
    await a?.app.close();
    await b?.app.close();
    await testDb?.drop();
    await docs?.close();
  });

  const authorize = (app: FastifyInstance, clientId: string) =>
    app.inject({ method: 'GET', url: authorizeUrl(clientId, { redirect_uri: MCP_REDIRECT }) });

  it.skipIf(useRedis && !redisUrl)('fetches a document once for both replicas, and serves later lookups from the cache', async () => {
    const clientId = docs.document('/shared.json');
    expect(isInteractionRedirect(await authorize(a.app, clientId))).toBe(true);
    expect(isInteractionRedirect(await authorize(b.app, clientId))).toBe(true);
    for (let i = 0; i < 3; i++) {
      expect(isInteractionRedirect(await authorize(a.app, clientId))).toBe(true);
      expect(isInteractionRedirect(await authorize(b.app, clientId))).toBe(true);
    }
    expect(docs.count('/shared.json')).toBe(1);
    expect(await metricValue(a.app, 'authly_client_metadata_fetches_total', { result: 'ok' })).toBe(1);
    expect(await metricValue(b.app, 'authly_client_metadata_fetches_total', { result: 'ok' })).toBe(0);
    expect(await metricValue(b.app, 'authly_cache_requests_total', { cache: 'client_metadata', result: 'hit' })).toBe(4);
  });
});
