import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { findClient } from '../../../src/repositories/clients-repository.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV, requestToken } from './admin-helpers.js';

/**
 * README: the bootstrap admin client is ensured at every start. Not only its secret: whatever an
 * administrator changed through the API (deactivated it, narrowed its scope, changed its grant types or
 * auth method, rotated its secret), a restart with the same configuration gives the operator back a
 * working admin credential.
 */
describe('bootstrap admin client: restored at every start', () => {
  let t: TestApp;
  const id = ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID;
  const secret = ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET;
  const restart = () => buildApp(t.config, { db: t.testDb.db, logStream: new Writable({ write: (_chunk, _enc, done) => done() }) });

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
  });
  afterAll(() => t.close());

  it('a restart with the same configuration undoes deactivation, a narrowed scope, other grants and a rotated secret', async () => {
    const original = (await findClient(t.testDb.db, id))!;
    const call = adminCall(t.app, await adminToken(t.app));
    expect((await call('POST', `/admin/clients/${id}/rotate-secret`)).statusCode).toBe(200);
    const broken = await call('PATCH', `/admin/clients/${id}`, {
      is_active: false,
      scope: 'admin:scopes:read',
      grant_types: ['authorization_code'],
      redirect_uris: ['https://console.example.com/cb'],
      token_endpoint_auth_method: 'client_secret_post',
      client_name: 'Renamed by an administrator',
    });
    expect(broken.statusCode, broken.body).toBe(200);
    expect((await requestToken(t.app, id, secret, 'authly:admin')).statusCode).toBe(401);

    // The restart: a new app with the same configuration on the same database.
    const restarted = await restart();
    try {
      await restarted.ready();
      const token = await requestToken(restarted, id, secret, 'authly:admin');
      expect(token.statusCode, token.body).toBe(200);
      expect((token.json() as { scope: string }).scope).toBe('authly:admin');
      const restored = (await findClient(t.testDb.db, id))!;
      expect(restored).toEqual({
        ...original,
        // Descriptive fields keep the administrator's edits; the definition is back.
        clientName: 'Renamed by an administrator',
        clientSecretHash: original.clientSecretHash,
        updatedAt: expect.any(Date),
      });
      // The restored credential is a full admin again.
      const status = await adminCall(restarted, (token.json() as { access_token: string }).access_token)('GET', '/admin/status');
      expect(status.statusCode).toBe(200);

      // A second restart with nothing to restore writes nothing.
      const second = await restart();
      await second.ready();
      await second.close();
      expect(await findClient(t.testDb.db, id)).toEqual(restored);
    } finally {
      await restarted.close();
    }
  });
});
