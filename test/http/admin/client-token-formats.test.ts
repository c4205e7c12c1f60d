import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../helpers/fixtures.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV } from './admin-helpers.js';

const REDIRECT = 'https://app.example.com/cb';
const RULES_INVALID = 'the client registration is not valid';

/**
 * id_token_signed_response_alg may name only an algorithm the server holds a signing key for: RS256 and
 * JWT_ALGORITHM (src/app.ts builds the key store from them). test/http/admin/clients.test.ts covers the
 * default server (RS256 only) and access_token_format.
 */
describe('admin API: id_token_signed_response_alg with JWT_ALGORITHM=ES256', () => {
  let t: TestApp;
  let call: ReturnType<typeof adminCall>;

  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, JWT_ALGORITHM: 'ES256' });
    call = adminCall(t.app, await adminToken(t.app));
  });
  afterAll(() => t?.close());

  it('accepts ES256 on create and update, and RS256 stays the default', async () => {
    const created = await call('POST', '/admin/clients', { client_name: 'EC', redirect_uris: [REDIRECT], id_token_signed_response_alg: 'ES256' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ id_token_signed_response_alg: 'ES256', access_token_format: null });
    const url = `/admin/clients/${(created.json() as { client_id: string }).client_id}`;
    expect((await call('GET', url)).json()).toMatchObject({ id_token_signed_response_alg: 'ES256' });
    expect((await call('PATCH', url, { id_token_signed_response_alg: 'RS256' })).json()).toMatchObject({ id_token_signed_response_alg: 'RS256' });
    expect((await call('PATCH', url, { id_token_signed_response_alg: 'ES256', access_token_format: 'opaque' })).json()).toMatchObject({
      id_token_signed_response_alg: 'ES256',
      access_token_format: 'opaque',
    });

    const plain = await call('POST', '/admin/clients', { client_name: 'Default', redirect_uris: [REDIRECT] });
    expect(plain.json()).toMatchObject({ id_token_signed_response_alg: 'RS256' });
  });

  it('refuses EdDSA, naming the algorithms it holds keys for', async () => {
    const res = await call('POST', '/admin/clients', { client_name: 'Ed', redirect_uris: [REDIRECT], id_token_signed_response_alg: 'EdDSA' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'validation_failed',
      message: RULES_INVALID,
      fields: { id_token_signed_response_alg: 'expected one of "RS256"|"ES256" (the algorithms this server holds signing keys for)' },
    });
  });
});

describe('admin API: a client whose ID token alg lost its key (JWT_ALGORITHM changed)', () => {
  let t: TestApp;
  let call: ReturnType<typeof adminCall>;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    call = adminCall(t.app, await adminToken(t.app));
  });
  afterAll(() => t?.close());

  it('is shown as stored, and an update must move it to an algorithm the server holds a key for', async () => {
    // Registered while the server ran with JWT_ALGORITHM=ES256; this one has RS256 only.
    const { clientId } = await createClient(t.app, { idTokenSignedResponseAlg: 'ES256' });
    const url = `/admin/clients/${clientId}`;
    expect((await call('GET', url)).json()).toMatchObject({ id_token_signed_response_alg: 'ES256' });

    const rename = await call('PATCH', url, { client_name: 'Renamed' });
    expect(rename.statusCode).toBe(400);
    expect(rename.json()).toEqual({
      error: 'validation_failed',
      message: RULES_INVALID,
      fields: { id_token_signed_response_alg: 'expected one of "RS256" (the algorithms this server holds signing keys for)' },
    });
    const fixed = await call('PATCH', url, { client_name: 'Renamed', id_token_signed_response_alg: 'RS256' });
    expect(fixed.statusCode).toBe(200);
    expect(fixed.json()).toMatchObject({ client_name: 'Renamed', id_token_signed_response_alg: 'RS256' });
  });

  it('the database refuses an alg or a format outside its CHECK, whatever wrote it', async () => {
    for (const idTokenSignedResponseAlg of ['none', 'HS256']) {
      await expect(createClient(t.app, { idTokenSignedResponseAlg: idTokenSignedResponseAlg as 'RS256' })).rejects.toThrow(/check constraint/);
    }
    await expect(createClient(t.app, { accessTokenFormat: 'reference' as 'jwt' })).rejects.toThrow(/check constraint/);
  });
});
