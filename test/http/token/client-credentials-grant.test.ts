import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { createClient, type TestClient } from '../../helpers/fixtures.js';
import { tokenRequest, userinfo } from '../../helpers/oauth-flow.js';
import { insertScope } from '../../../src/repositories/scopes-repository.js';

/** RFC 6749 section 4.4: confidential clients only, no user, no user scopes, no refresh token. */
describe('token endpoint: client_credentials grant', () => {
  let t: TestApp;
  let client: TestClient;
  let publicClient: TestClient;

  beforeAll(async () => {
    t = await createTestApp();
    await insertScope(t.app.ctx.db, { name: 'api:read', description: '', isDefault: false });
    await insertScope(t.app.ctx.db, { name: 'api:write', description: '', isDefault: false });
    client = await createClient(t.app, { grantTypes: ['client_credentials'], scope: 'openid offline_access email api:read' });
    publicClient = await createClient(t.app, { tokenEndpointAuthMethod: 'none', grantTypes: ['client_credentials'], scope: 'api:read' });
  });
  afterAll(() => t.close());

  const cc = (c: TestClient, extra: Record<string, string> = {}) => tokenRequest(t.app, c, { grant_type: 'client_credentials', ...extra });

  it('issues an access token without refresh or ID token', async () => {
    const res = await cc(client, { scope: 'api:read' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'api:read', expires_in: 900 });
    expect(decodeProtectedHeader(body.access_token).typ).toBe('at+jwt');
    const claims = decodeJwt(body.access_token);
    expect(claims).toMatchObject({ iss: TEST_ISSUER, sub: client.clientId, client_id: client.clientId, scope: 'api:read' });
    expect(claims.auth_time).toBeUndefined();
  });

  it('without scope, the registered non-user scopes apply', async () => {
    const res = await cc(client);
    expect(res.statusCode).toBe(200);
    expect(res.json().scope).toBe('api:read');
  });

  it('a public client → unauthorized_client', async () => {
    const res = await cc(publicClient, { scope: 'api:read' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'unauthorized_client', error_description: 'client_credentials requires a confidential client' });
  });

  it.each([
    ['openid', 'openid needs a user and is not available with client_credentials'],
    ['api:read offline_access', 'offline_access needs a user and is not available with client_credentials'],
    ['email', 'email needs a user and is not available with client_credentials'],
  ])('user scope %s → invalid_scope', async (scope, description) => {
    const res = await cc(client, { scope });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_scope', error_description: description });
  });

  it.each([
    ['api:write', 'scope not allowed for this client: api:write'],
    ['api:read authly:admin', 'scope not allowed for this client: authly:admin'],
    ['unknown', 'scope not allowed for this client: unknown'],
  ])('scope beyond the registered scope (%s) → invalid_scope', async (scope, description) => {
    const res = await cc(client, { scope });
    expect(res.statusCode).toBe(400);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({ error: 'invalid_scope', error_description: description });
  });

  it('its token is refused at userinfo (no user)', async () => {
    const token = (await cc(client, { scope: 'api:read' })).json().access_token as string;
    const res = await userinfo(t.app, token);
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  });
});
