import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countAttempt, findLockSeconds } from '../../../src/repositories/auth-failures-repository.js';
import { CLIENT_DEFAULTS } from '../../../src/services/admin/client-admin-service.js';
import { insertClient } from '../../../src/repositories/clients-repository.js';
import { findLiveAccessToken, insertAccessToken, type AccessTokenRecord } from '../../../src/repositories/tokens-repository.js';
import { createTestDb, type TestDb } from '../../helpers/test-db.js';

/** The batched statements on the real database (PGlite, or PostgreSQL with TEST_DATABASE_URL). */
describe('batched statements', () => {
  let t: TestDb;
  const clientId = `batch-${randomUUID()}`;

  beforeAll(async () => {
    t = await createTestDb();
    await insertClient(t.db, {
      ...CLIENT_DEFAULTS,
      clientId,
      clientSecretHash: null,
      clientName: 'Batch',
      clientType: 'public',
      tokenEndpointAuthMethod: 'none',
      redirectUris: [],
      grantTypes: ['client_credentials'],
      responseTypes: [],
      scope: '',
    });
  });
  afterAll(() => t.drop());

  const record = (overrides: Partial<AccessTokenRecord> = {}): AccessTokenRecord => ({
    jti: randomUUID(),
    grantId: null,
    clientId,
    userId: null,
    scope: 'a b',
    issuedAt: new Date(Math.floor(Date.now() / 1000) * 1000),
    expiresAt: new Date(Date.now() + 60_000),
    ...overrides,
  });

  it('records concurrent access tokens, each with its own values, and finds each one', async () => {
    const records = Array.from({ length: 40 }, (_, i) => record({ scope: `scope-${i}` }));
    await Promise.all(records.map((r) => insertAccessToken(t.db, r)));
    const found = await Promise.all([...records.map((r) => findLiveAccessToken(t.db, r.jti)), findLiveAccessToken(t.db, randomUUID())]);
    expect(found.slice(0, 40).map((f) => f && { jti: f.jti, scope: f.scope, issuedAt: f.issuedAt })).toEqual(
      records.map((r) => ({ jti: r.jti, scope: r.scope, issuedAt: r.issuedAt })),
    );
    expect(found[40]).toBeUndefined();
  });

  it('fails only the caller whose row cannot be written (an unknown client), not its batch', async () => {
    const good = [record(), record()];
    const outcomes = await Promise.allSettled([
      insertAccessToken(t.db, good[0]!),
      insertAccessToken(t.db, record({ clientId: 'no-such-client' })),
      insertAccessToken(t.db, good[1]!),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    for (const r of good) expect(await findLiveAccessToken(t.db, r.jti)).toBeDefined();
  });

  it('answers concurrent lock checks each for its own keys', async () => {
    const locked = `test:account:${randomUUID()}`;
    await countAttempt(t.db, 60, [{ key: locked, subject: null, free: 1, baseDelaySeconds: 60, maxDelaySeconds: 60 }]);
    const [mine, other, both] = await Promise.all([
      findLockSeconds(t.db, [locked, 'test:ip:1']),
      findLockSeconds(t.db, [`test:account:${randomUUID()}`, 'test:ip:2']),
      findLockSeconds(t.db, ['test:ip:3', locked]),
    ]);
    expect(mine).toBeGreaterThan(55);
    expect(mine).toBeLessThanOrEqual(60);
    expect(other).toBe(0);
    expect(both).toBe(mine);
  });
});
