import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV, tokenFor } from '../admin/admin-helpers.js';
import { findClient, updateClient } from '../../../src/repositories/clients-repository.js';
import { bootstrap } from '../../../src/services/bootstrap.js';
import { CLI_CLIENT_ID } from '../../../src/services/admin/cli-client.js';

/** `authly admin login`'s built-in client: public, device grant only, may be granted authly:admin (to administrators). */
describe('the built-in CLI client (authly-cli)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
  });
  afterAll(() => t.close());

  it('exists after start: public, device grant and refresh, no redirect URI', async () => {
    expect(await findClient(t.testDb.db, CLI_CLIENT_ID)).toMatchObject({
      clientName: 'Authly CLI',
      clientType: 'public',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      redirectUris: [],
      scope: 'openid offline_access authly:admin',
      isActive: true,
    });
  });

  it('only authly:admin changes it through the admin API, and every start restores it', async () => {
    const admin = adminCall(t.app, await adminToken(t.app));
    const created = await admin('POST', '/admin/clients', { client_name: 'Operator', grant_types: ['client_credentials'], scope: 'admin:clients:write' });
    const { client_id, client_secret } = created.json() as { client_id: string; client_secret: string };
    const operator = adminCall(t.app, await tokenFor(t.app, client_id, client_secret));
    const refused = await operator('PATCH', `/admin/clients/${CLI_CLIENT_ID}`, { client_name: 'Phish' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: 'insufficient_privilege', message: 'changing the built-in CLI client requires authly:admin' });
    expect((await operator('DELETE', `/admin/clients/${CLI_CLIENT_ID}`)).statusCode).toBe(403);

    await updateClient(t.testDb.db, CLI_CLIENT_ID, { isActive: false, scope: 'openid offline_access authly:admin admin:users:write', clientName: 'Phish' });
    await bootstrap(t.app.ctx);
    expect(await findClient(t.testDb.db, CLI_CLIENT_ID)).toMatchObject({ isActive: true, scope: 'openid offline_access authly:admin', clientName: 'Authly CLI' });
    await t.testDb.db.query('DELETE FROM clients WHERE client_id = $1', [CLI_CLIENT_ID]);
    await bootstrap(t.app.ctx);
    expect(await findClient(t.testDb.db, CLI_CLIENT_ID)).toMatchObject({ clientType: 'public' });
  });
});
