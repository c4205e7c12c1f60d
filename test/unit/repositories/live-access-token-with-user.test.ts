import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertClient } from '../../../src/repositories/clients-repository.js';
import {
  findLiveAccessToken,
  findLiveAccessTokenWithUser,
  insertAccessToken,
  type AccessTokenRecord,
} from '../../../src/repositories/tokens-repository.js';
import { findUserById, insertUser } from '../../../src/repositories/users-repository.js';
import { CLIENT_DEFAULTS } from '../../../src/services/admin/client-admin-service.js';
import { createTestDb, type TestDb } from '../../helpers/test-db.js';

/**
 * The userinfo lookup reads the token and its user out of one joined row with fixed field lists
 * (prefixedUserReader): they must equal what the plain lookups read, field for field, on the real database.
 */
describe('findLiveAccessTokenWithUser', () => {
  let t: TestDb;
  const clientId = `with-user-${randomUUID()}`;

  beforeAll(async () => {
    t = await createTestDb();
    await insertClient(t.db, {
      ...CLIENT_DEFAULTS,
      clientId,
      clientSecretHash: null,
      clientName: 'With user',
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
    scope: 'openid profile',
    audience: 'https://api.example.com',
    issuedAt: new Date(Math.floor(Date.now() / 1000) * 1000),
    expiresAt: new Date(Date.now() + 60_000),
    ...overrides,
  });

  it('reads every field of the token and of its user as the plain lookups do', async () => {
    const inserted = await insertUser(t.db, {
      username: `u-${randomUUID()}`,
      email: `${randomUUID()}@example.com`,
      emailVerified: true,
      name: 'Full Name',
      givenName: 'Full',
      familyName: 'Name',
      middleName: 'M',
      nickname: 'nick',
      picture: 'https://example.com/p.png',
      website: 'https://example.com',
      gender: 'other',
      birthdate: '1990-01-02',
      zoneinfo: 'Europe/Paris',
      locale: 'fr-FR',
      phoneNumber: '+33100000000',
      phoneNumberVerified: true,
      address: { locality: 'Paris', country: 'FR' },
    });
    const token = record({ userId: inserted.id, dpopJkt: 'a'.repeat(43) });
    await insertAccessToken(t.db, token);

    const [live, plain] = await Promise.all([findLiveAccessTokenWithUser(t.db, token.jti), findLiveAccessToken(t.db, token.jti)]);
    expect(live?.token).toEqual(plain);
    expect(live?.token).toMatchObject({ jti: token.jti, userId: inserted.id, audience: token.audience, dpopJkt: token.dpopJkt, username: inserted.username });
    // Every User field, no more and no fewer (a field the reader forgot would be missing here).
    expect(live?.user).toEqual(await findUserById(t.db, inserted.id));
    expect(Object.keys(live!.user!).sort()).toEqual(Object.keys(inserted).sort());
  });

  it('has no user for a client_credentials token, and nothing for an unknown one, in the same batch', async () => {
    const token = record();
    await insertAccessToken(t.db, token);
    const [found, unknown] = await Promise.all([findLiveAccessTokenWithUser(t.db, token.jti), findLiveAccessTokenWithUser(t.db, randomUUID())]);
    expect(found?.token).toEqual(await findLiveAccessToken(t.db, token.jti));
    expect(found?.user).toBeUndefined();
    expect(unknown).toBeUndefined();
  });

  it('gives each caller of a batch its own objects when several present the same token', async () => {
    const user = await insertUser(t.db, { username: `u-${randomUUID()}` });
    const token = record({ userId: user.id });
    await insertAccessToken(t.db, token);
    const [a, b] = await Promise.all([findLiveAccessTokenWithUser(t.db, token.jti), findLiveAccessTokenWithUser(t.db, token.jti)]);
    expect(a).toEqual(b);
    expect(a!.token).not.toBe(b!.token);
    expect(a!.user).not.toBe(b!.user);
  });
});
