import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV } from '../admin/admin-helpers.js';
import { configure, register, WEB_CLIENT } from '../registration/registration-helpers.js';

const REDIRECT = 'https://app.example.com/cb';
const RULES_INVALID = 'the client registration is not valid';

/** Client keys (jwks / jwks_uri, OpenID Connect Dynamic Client Registration 1.0 section 2) through the admin API and RFC 7591. */
describe('client keys: admin API and dynamic registration', () => {
  let t: TestApp;
  let call: ReturnType<typeof adminCall>;
  let publicJwk: JWK;
  let privateJwk: JWK;

  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, REGISTRATION_POLICY: 'open' });
    call = adminCall(t.app, await adminToken(t.app));
    const pair = await generateKeyPair('ES256', { extractable: true });
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', use: 'sig' };
    privateJwk = { ...(await exportJWK(pair.privateKey)), kid: 'k1' };
  });
  afterAll(() => t?.close());

  it('stores, shows, replaces and removes jwks and jwks_uri through the admin API', async () => {
    const created = await call('POST', '/admin/clients', { client_name: 'Keys', redirect_uris: [REDIRECT], jwks: { keys: [publicJwk] } });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ jwks: { keys: [publicJwk] }, jwks_uri: null });
    const url = `/admin/clients/${(created.json() as { client_id: string }).client_id}`;
    expect((await call('GET', url)).json()).toMatchObject({ jwks: { keys: [publicJwk] }, jwks_uri: null });

    // Switching to a jwks_uri needs jwks removed in the same change (never both).
    const both = await call('PATCH', url, { jwks_uri: 'https://app.example.com/jwks.json' });
    expect(both.statusCode).toBe(400);
    expect(both.json()).toEqual({
      error: 'validation_failed',
      message: RULES_INVALID,
      fields: { jwks_uri: 'must not be registered together with jwks (OpenID Connect Dynamic Client Registration 1.0 section 2)' },
    });
    const switched = await call('PATCH', url, { jwks: null, jwks_uri: 'https://app.example.com/jwks.json' });
    expect(switched.statusCode).toBe(200);
    expect(switched.json()).toMatchObject({ jwks: null, jwks_uri: 'https://app.example.com/jwks.json' });
    expect((await call('PATCH', url, { jwks_uri: null })).json()).toMatchObject({ jwks: null, jwks_uri: null });
  });

  it.each([
    ['a private key', () => ({ jwks: { keys: [privateJwk] } }), { jwks: 'keys.0 contains the private or symmetric member d; register public keys only' }],
    ['a symmetric key', () => ({ jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }), { jwks: 'keys.0 contains the private or symmetric member k; register public keys only' }],
    ['an http jwks_uri', () => ({ jwks_uri: 'http://app.example.com/jwks.json' }), { jwks_uri: 'must be an https URL' }],
    ['a loopback jwks_uri', () => ({ jwks_uri: 'https://127.0.0.1/jwks.json' }), { jwks_uri: 'must name a public internet host' }],
    [
      'both',
      () => ({ jwks: { keys: [publicJwk] }, jwks_uri: 'https://app.example.com/jwks.json' }),
      { jwks_uri: 'must not be registered together with jwks (OpenID Connect Dynamic Client Registration 1.0 section 2)' },
    ],
  ])('admin API refuses %s', async (_name, fields, expected) => {
    const res = await call('POST', '/admin/clients', { client_name: 'Bad keys', redirect_uris: [REDIRECT], ...fields() });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'validation_failed', message: RULES_INVALID, fields: expected });
  });

  it('dynamic registration accepts jwks and jwks_uri, returns them, and replaces them on update', async () => {
    const res = await register(t.app, { ...WEB_CLIENT, jwks: { keys: [publicJwk] } });
    expect(res.statusCode).toBe(201);
    const info = res.json() as { client_id: string; registration_access_token: string; jwks: unknown; jwks_uri?: string };
    expect(info.jwks).toEqual({ keys: [publicJwk] });
    expect(info.jwks_uri).toBeUndefined();

    const { registration_access_token: token, client_id: clientId } = info;
    const updated = await configure(t.app, 'PUT', clientId, token, { ...WEB_CLIENT, client_id: clientId, jwks_uri: 'https://mcp.example.com/jwks.json' });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ jwks_uri: 'https://mcp.example.com/jwks.json' });
    expect((updated.json() as { jwks?: unknown }).jwks).toBeUndefined();
  });

  it.each([
    ['a private key', () => ({ jwks: { keys: [privateJwk] } }), 'jwks: keys.0 contains the private or symmetric member d; register public keys only'],
    ['an http jwks_uri', () => ({ jwks_uri: 'http://mcp.example.com/jwks.json' }), 'jwks_uri: must be an https URL'],
    [
      'both',
      () => ({ jwks: { keys: [publicJwk] }, jwks_uri: 'https://mcp.example.com/jwks.json' }),
      'jwks_uri: must not be registered together with jwks (OpenID Connect Dynamic Client Registration 1.0 section 2)',
    ],
    ['jwks that is not a JWK Set', () => ({ jwks: [publicJwk] }), 'jwks: expected object, received array'],
  ])('dynamic registration refuses %s with invalid_client_metadata', async (_name, fields, description) => {
    const res = await register(t.app, { ...WEB_CLIENT, ...fields() });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_client_metadata', error_description: description });
  });
});
