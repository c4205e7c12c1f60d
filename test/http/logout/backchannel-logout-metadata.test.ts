import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV } from '../admin/admin-helpers.js';
import { configure, register } from '../registration/registration-helpers.js';

/**
 * OIDC Back-Channel Logout 1.0 section 2.2 client metadata (backchannel_logout_uri,
 * backchannel_logout_session_required) through the admin API and dynamic registration, and section 2.1
 * discovery metadata, which follows BACKCHANNEL_LOGOUT_ENABLED.
 */

const REDIRECT = 'https://rp.example.com/cb';

describe.each([
  ['without OUTBOUND_ALLOW_LOOPBACK', 'false'],
  ['with OUTBOUND_ALLOW_LOOPBACK (development)', 'true'],
])('back-channel logout metadata %s', (_name, loopback) => {
  let t: TestApp;
  let call: ReturnType<typeof adminCall>;
  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, OUTBOUND_ALLOW_LOOPBACK: loopback, REGISTRATION_POLICY: 'open' });
    call = adminCall(t.app, await adminToken(t.app));
  });
  afterAll(() => t?.close());

  const httpsOnly = loopback === 'true' ? 'must use https (or http on a loopback host)' : 'must use https';
  const invalid: [string, unknown, string][] = [
    ['plain http', 'http://rp.example.com/logout', httpsOnly],
    ['a fragment (section 2.2)', 'https://rp.example.com/logout#x', 'must not contain a fragment (OpenID Connect Back-Channel Logout 1.0 section 2.2)'],
    ['a relative URI', '/logout', 'must be an absolute URI'],
    ['user credentials', 'https://user:pw@rp.example.com/logout', 'must not contain user credentials'],
    ['a space', 'https://rp.example.com/log out', 'must be printable ASCII without spaces (percent-encode other characters)'],
    ['javascript:', 'javascript:alert(1)', httpsOnly],
    ['a number', 42, 'expected string, received number'],
  ];
  if (loopback === 'false') invalid.push(['loopback http', 'http://127.0.0.1:8080/logout', httpsOnly]);

  describe('admin API', () => {
    it('registers, shows, changes and clears the URI and the flag', async () => {
      const created = await call('POST', '/admin/clients', {
        client_name: 'RP',
        redirect_uris: [REDIRECT],
        backchannel_logout_uri: 'https://rp.example.com/logout?tenant=a',
        backchannel_logout_session_required: true,
      });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ backchannel_logout_uri: 'https://rp.example.com/logout?tenant=a', backchannel_logout_session_required: true });
      const id = created.json().client_id as string;
      const loopbackUri = 'http://127.0.0.1:8080/logout';
      const patched = await call('PATCH', `/admin/clients/${id}`, { backchannel_logout_uri: loopbackUri });
      if (loopback === 'true') {
        expect(patched.statusCode).toBe(200);
        expect(patched.json()).toMatchObject({ backchannel_logout_uri: loopbackUri, backchannel_logout_session_required: true });
      } else {
        expect(patched.statusCode).toBe(400);
      }
      const cleared = await call('PATCH', `/admin/clients/${id}`, { backchannel_logout_uri: null, backchannel_logout_session_required: false });
      expect(cleared.json()).toMatchObject({ backchannel_logout_uri: null, backchannel_logout_session_required: false });
    });

    it.each(invalid)('refuses %s', async (_case, uri, reason) => {
      const res = await call('POST', '/admin/clients', { client_name: 'RP', redirect_uris: [REDIRECT], backchannel_logout_uri: uri });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        error: 'validation_failed',
        message: typeof uri === 'string' ? 'the client registration is not valid' : 'the request body is not valid',
        fields: { backchannel_logout_uri: typeof uri === 'string' ? reason : 'expected string, received number' },
      });
    });

    it('refuses a URI on a client without the code grant (no browser sessions)', async () => {
      const res = await call('POST', '/admin/clients', { client_name: 'M2M', grant_types: ['client_credentials'], backchannel_logout_uri: 'https://rp.example.com/logout' });
      expect(res.statusCode).toBe(400);
      expect(res.json().fields).toEqual({ backchannel_logout_uri: 'must be null without the authorization_code grant' });
    });

    it('refuses a flag that is not a boolean', async () => {
      const res = await call('POST', '/admin/clients', { client_name: 'RP', redirect_uris: [REDIRECT], backchannel_logout_session_required: 'yes' });
      expect(res.statusCode).toBe(400);
      expect(res.json().fields).toEqual({ backchannel_logout_session_required: 'expected boolean, received string' });
    });
  });

  describe('dynamic registration (RFC 7591)', () => {
    it('registers both, reports them, and an RFC 7592 update replaces them', async () => {
      const res = await register(t.app, {
        redirect_uris: [REDIRECT],
        backchannel_logout_uri: 'https://rp.example.com/logout',
        backchannel_logout_session_required: true,
      });
      expect(res.statusCode).toBe(201);
      const body = res.json();
      expect(body).toMatchObject({ backchannel_logout_uri: 'https://rp.example.com/logout', backchannel_logout_session_required: true });
      const read = await configure(t.app, 'GET', body.client_id, body.registration_access_token);
      expect(read.json()).toMatchObject({ backchannel_logout_uri: 'https://rp.example.com/logout', backchannel_logout_session_required: true });
      const updated = await configure(t.app, 'PUT', body.client_id, body.registration_access_token, { client_id: body.client_id, redirect_uris: [REDIRECT] });
      expect(updated.statusCode).toBe(200);
      expect(updated.json()).not.toHaveProperty('backchannel_logout_uri');
      expect(updated.json()).not.toHaveProperty('backchannel_logout_session_required');
    });

    it.each(invalid)('refuses %s with invalid_client_metadata', async (_case, uri, reason) => {
      const res = await register(t.app, { redirect_uris: [REDIRECT], backchannel_logout_uri: uri });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_client_metadata', error_description: `backchannel_logout_uri: ${reason}` });
    });
  });

  it('discovery advertises back-channel logout with sid (section 2.1)', async () => {
    const doc = (await t.app.inject('/.well-known/openid-configuration')).json();
    expect(doc.backchannel_logout_supported).toBe(true);
    expect(doc.backchannel_logout_session_supported).toBe(true);
  });
});

describe('BACKCHANNEL_LOGOUT_ENABLED=false', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ BACKCHANNEL_LOGOUT_ENABLED: 'false', REGISTRATION_POLICY: 'open' });
  });
  afterAll(() => t?.close());

  it('discovery says nothing of back-channel logout', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const doc = (await t.app.inject(path)).json();
      expect(doc).not.toHaveProperty('backchannel_logout_supported');
      expect(doc).not.toHaveProperty('backchannel_logout_session_supported');
    }
  });

  it('dynamic registration ignores the metadata (RFC 7591 section 2) and its response says so', async () => {
    const res = await register(t.app, { redirect_uris: [REDIRECT], backchannel_logout_uri: 'http://not even a url', backchannel_logout_session_required: 'x' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).not.toHaveProperty('backchannel_logout_uri');
    expect(res.json()).not.toHaveProperty('backchannel_logout_session_required');
  });
});
