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

  it('private_key_jwt needs keys; its client is shown no secret and has none to rotate', async () => {
    const keyless = await call('POST', '/admin/clients', { client_name: 'No keys', grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt' });
    expect(keyless.statusCode).toBe(400);
    expect(keyless.json()).toEqual({ error: 'validation_failed', message: RULES_INVALID, fields: { jwks: 'private_key_jwt needs the client public keys: jwks or jwks_uri' } });
    const created = await call('POST', '/admin/clients', { client_name: 'Keys', grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [publicJwk] } });
    expect(created.statusCode).toBe(201);
    const body = created.json() as Record<string, unknown>;
    expect(body.client_secret).toBeUndefined();
    expect(body).toMatchObject({ client_type: 'confidential', token_endpoint_auth_method: 'private_key_jwt' });
    const rotate = await call('POST', `/admin/clients/${body.client_id as string}/rotate-secret`);
    expect(rotate.statusCode).toBe(400);
    expect(rotate.json()).toEqual({
      error: 'validation_failed',
      message: 'private_key_jwt clients have no secret to rotate',
      fields: { token_endpoint_auth_method: 'a private_key_jwt client authenticates with its keys and has no secret' },
    });
  });

  it.each([
    ['an HMAC alg for private_key_jwt', { token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'HS256' }, 'private_key_jwt needs an asymmetric alg (RS256, PS256, ES256 or EdDSA)'],
    ['an asymmetric alg for client_secret_jwt', { token_endpoint_auth_method: 'client_secret_jwt', token_endpoint_auth_signing_alg: 'ES256' }, 'client_secret_jwt needs an HMAC alg (HS256, HS384 or HS512)'],
    ['a signing alg for client_secret_basic', { token_endpoint_auth_signing_alg: 'ES256' }, 'applies only to private_key_jwt and client_secret_jwt'],
  ])('admin API refuses %s', async (_name, fields, reason) => {
    const res = await call('POST', '/admin/clients', { client_name: 'Alg', grant_types: ['client_credentials'], jwks: { keys: [publicJwk] }, ...fields });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'validation_failed', message: RULES_INVALID, fields: { token_endpoint_auth_signing_alg: reason } });
  });

  it('the client_secret_jwt secret is stored only encrypted beside its hash, and a switch to it waits for a rotation', async () => {
    const created = (await call('POST', '/admin/clients', { client_name: 'HMAC', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_jwt' })).json() as {
      client_id: string;
      client_secret: string;
    };
    const row = await t.app.ctx.db.query<{ client_secret_encrypted: string | null }>('SELECT client_secret_encrypted FROM clients WHERE client_id = $1', [created.client_id]);
    expect(row.rows[0]!.client_secret_encrypted).toMatch(/^csj1\./);
    expect(row.rows[0]!.client_secret_encrypted).not.toContain(created.client_secret);
    expect(JSON.stringify((await call('GET', `/admin/clients/${created.client_id}`)).json())).not.toContain('csj1');

    const basic = (await call('POST', '/admin/clients', { client_name: 'Basic', grant_types: ['client_credentials'] })).json() as { client_id: string };
    const switched = await call('PATCH', `/admin/clients/${basic.client_id}`, { token_endpoint_auth_method: 'client_secret_jwt' });
    expect(switched.statusCode).toBe(200);
    const encrypted = async () =>
      (await t.app.ctx.db.query<{ c: string | null }>('SELECT client_secret_encrypted AS c FROM clients WHERE client_id = $1', [basic.client_id])).rows[0]!.c;
    expect(await encrypted()).toBeNull();
    expect((await call('POST', `/admin/clients/${basic.client_id}/rotate-secret`)).statusCode).toBe(200);
    expect(await encrypted()).toMatch(/^csj1\./);
    // Switching away forgets the readable copy.
    await call('PATCH', `/admin/clients/${basic.client_id}`, { token_endpoint_auth_method: 'client_secret_post' });
    expect(await encrypted()).toBeNull();
  });

  it('dynamic registration: private_key_jwt gets no secret, client_secret_jwt gets one, both echo their method', async () => {
    const pkj = await register(t.app, { ...WEB_CLIENT, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [publicJwk] }, token_endpoint_auth_signing_alg: 'ES256' });
    expect(pkj.statusCode).toBe(201);
    const body = pkj.json() as Record<string, unknown>;
    expect(body).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256' });
    expect(body.client_secret).toBeUndefined();
    expect(body.client_secret_expires_at).toBeUndefined();
    const csj = await register(t.app, { ...WEB_CLIENT, token_endpoint_auth_method: 'client_secret_jwt' });
    expect(csj.json()).toMatchObject({ token_endpoint_auth_method: 'client_secret_jwt', client_secret: expect.any(String), client_secret_expires_at: 0 });
    const keyless = await register(t.app, { ...WEB_CLIENT, token_endpoint_auth_method: 'private_key_jwt' });
    expect(keyless.json()).toEqual({ error: 'invalid_client_metadata', error_description: 'jwks: private_key_jwt needs the client public keys: jwks or jwks_uri' });
  });
});
