import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV } from '../admin/admin-helpers.js';
import { DEVICE_GRANT, deviceAuthorizationRequest } from '../../helpers/device-flow.js';

/** Issue 13 §5: the admin API and dynamic registration (RFC 7591) accept the device grant for a client. */
describe('clients registered for the device grant', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, REGISTRATION_POLICY: 'open' });
  });
  afterAll(() => t.close());

  it('admin API: a public device client (no redirect URI), with refresh_token; it can start a device authorization', async () => {
    const admin = adminCall(t.app, await adminToken(t.app));
    const res = await admin('POST', '/admin/clients', {
      client_name: 'Kiosk',
      token_endpoint_auth_method: 'none',
      grant_types: [DEVICE_GRANT, 'refresh_token'],
      scope: 'openid offline_access',
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ grant_types: [DEVICE_GRANT, 'refresh_token'], response_types: [], redirect_uris: [], client_type: 'public' });
    expect((await deviceAuthorizationRequest(t.app, { clientId: body.client_id })).statusCode).toBe(200);
  });

  it('admin API: refresh_token alone is still refused', async () => {
    const admin = adminCall(t.app, await adminToken(t.app));
    const res = await admin('POST', '/admin/clients', { client_name: 'Bad', token_endpoint_auth_method: 'none', grant_types: ['refresh_token'] });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields).toMatchObject({ grant_types: 'refresh_token requires authorization_code' });
  });

  it('dynamic registration: grant_types with the device grant', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/register',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ client_name: 'CLI tool', token_endpoint_auth_method: 'none', grant_types: [DEVICE_GRANT], scope: 'openid' }),
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ grant_types: [DEVICE_GRANT], token_endpoint_auth_method: 'none' });
    expect((await deviceAuthorizationRequest(t.app, { clientId: res.json().client_id })).statusCode).toBe(200);
  });
});
