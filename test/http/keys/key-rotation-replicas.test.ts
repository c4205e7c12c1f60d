import { decodeProtectedHeader } from 'jose';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maintainKeys } from '../../../src/services/key-rotation.js';
import { rotationPolicy } from '../../../src/tokens/key-lifecycle.js';
import { startReplica, uniqueRedisPrefix, type Replica } from '../../helpers/redis.js';
import { createTestDb, type TestDb } from '../../helpers/test-db.js';
import { testRedisUrl } from '../../helpers/tools.js';
import { ADMIN_ENV, adminCall, adminToken } from '../admin/admin-helpers.js';

const redisUrl = testRedisUrl();

async function jwksKids(app: FastifyInstance): Promise<string[]> {
  const res = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
  return (res.json() as { keys: { kid: string }[] }).keys.map((k) => k.kid).sort();
}

const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid!;
const later = (seconds: number) => new Date(Date.now() + seconds * 1000);

/**
 * Two replicas over one database and one Redis: what one does to the keys, the other applies as soon as
 * the admin API has answered (the change signal is acknowledged), and only one of them acts on a step.
 */
describe.skipIf(!redisUrl)('signing-key rotation across two replicas', () => {
  let testDb: TestDb;
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    testDb = await createTestDb();
    const env = { ...ADMIN_ENV, REDIS_URL: redisUrl!, AUTHLY_REDIS_KEY_PREFIX: uniqueRedisPrefix() };
    a = await startReplica(testDb.db, env);
    b = await startReplica(testDb.db, env);
    await a.app.ctx.clients.whenUsable();
    await b.app.ctx.clients.whenUsable();
  });
  afterAll(async () => {
    await a?.app.close();
    await b?.app.close();
    await testDb?.drop();
  });

  it('agree on next, active and revoked keys; one replica acts on a maintenance step', async () => {
    const [original] = await jwksKids(a.app);
    expect(await jwksKids(b.app)).toEqual([original]);

    // Rotate on A: B publishes the next key at once, and neither signs with it.
    const rotate = await adminCall(a.app, await adminToken(a.app))('POST', '/admin/keys/rotate', {});
    const next = (rotate.json() as { changes: { kid: string }[] }).changes[0]!.kid;
    expect(await jwksKids(b.app)).toEqual([original, next].sort());
    expect(kidOf(await adminToken(b.app))).toBe(original);

    // Both replicas run the maintenance step at once: exactly one set of changes is applied.
    const policy = rotationPolicy(a.app.ctx.config);
    const when = later(policy.publishLeadSeconds + 1);
    const results = await Promise.all([maintainKeys(a.app.ctx, when), maintainKeys(b.app.ctx, when)]);
    expect(results.map((r) => r.changes.length).sort()).toEqual([0, 2]);
    expect(kidOf(await adminToken(a.app))).toBe(next);
    expect(kidOf(await adminToken(b.app))).toBe(next);

    // A token B signed with the new key; revoked on A: B refuses it and unpublishes the key at once.
    const onB = await adminToken(b.app);
    const revoke = await adminCall(a.app, await adminToken(a.app))('POST', `/admin/keys/${next}/revoke`);
    expect(revoke.statusCode).toBe(200);
    expect(await jwksKids(b.app)).not.toContain(next);
    expect((await adminCall(b.app, onB)('GET', '/admin/keys')).statusCode).toBe(401);
    const replacement = kidOf(await adminToken(b.app));
    expect(replacement).not.toBe(next);
    expect(kidOf(await adminToken(a.app))).toBe(replacement);
  });
});
