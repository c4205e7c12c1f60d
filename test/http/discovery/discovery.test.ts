import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';

/** OIDC Discovery 1.0 and RFC 8414: one document, only what is implemented, every URL served. */
describe('discovery', () => {
  let t: TestApp;
  let doc: Record<string, unknown>;

  beforeAll(async () => {
    t = await createTestApp();
    doc = (await t.app.inject('/.well-known/openid-configuration')).json();
  });
  afterAll(() => t.close());

  it.each(['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', '/.well-known/openid_configuration'])(
    '%s serves the same JSON document',
    async (path) => {
      const res = await t.app.inject(path);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['cache-control']).toMatch(/max-age=\d+/);
      expect(res.json()).toEqual(doc);
    },
  );

  it('the issuer is the configured issuer, with no trailing slash', () => {
    expect(doc.issuer).toBe(TEST_ISSUER);
    expect(t.config.issuer).toBe(TEST_ISSUER);
  });

  it('advertises only what is implemented', () => {
    expect(doc).toMatchObject({
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      // RFC 9101 signed request objects (test/http/par/request-objects.test.ts); no by-reference fetching.
      request_parameter_supported: true,
      request_object_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA', 'HS256', 'HS384', 'HS512'],
      request_uri_parameter_supported: false,
      // RFC 9126 (test/http/par/pushed-authorization.test.ts).
      pushed_authorization_request_endpoint: `${TEST_ISSUER}/oauth/par`,
      require_pushed_authorization_requests: false,
      authorization_response_iss_parameter_supported: true,
      subject_types_supported: ['public'],
    });
    // Exactly the algorithms a client's id_token_signed_response_alg may name (the key store's).
    expect(doc.id_token_signing_alg_values_supported).toEqual(['RS256']);
    expect(doc.response_modes_supported).toEqual(expect.arrayContaining(['query', 'form_post']));
    expect(doc.response_modes_supported).not.toContain('fragment');
    const grants = doc.grant_types_supported as string[];
    expect(grants).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']));
    for (const removed of ['password', 'implicit']) expect(grants).not.toContain(removed);
    expect(doc.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'none']));
    expect(doc.scopes_supported).toEqual(expect.arrayContaining(['openid', 'offline_access']));
  });

  it('advertises revocation and introspection with exactly the client authentication methods each accepts', async () => {
    expect(doc).toMatchObject({
      revocation_endpoint: `${TEST_ISSUER}/oauth/revoke`,
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'],
      revocation_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519', 'HS256', 'HS384', 'HS512'],
      introspection_endpoint: `${TEST_ISSUER}/oauth/introspect`,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt'],
      introspection_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519', 'HS256', 'HS384', 'HS512'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519', 'HS256', 'HS384', 'HS512'],
    });
    for (const key of ['revocation_endpoint', 'introspection_endpoint']) {
      const res = await t.app.inject({
        method: 'POST',
        url: (doc[key] as string).slice(TEST_ISSUER.length),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'token=x',
      });
      expect(res.statusCode, key).toBe(401);
      expect(res.json(), key).toEqual({ error: 'invalid_client', error_description: 'client authentication is required' });
    }
  });

  // Endpoints that only answer POST (RFC 7009, RFC 7662, RFC 9126, RFC 7591 and the token endpoint).
  const POST_ONLY = new Set([
    'token_endpoint',
    'revocation_endpoint',
    'introspection_endpoint',
    'pushed_authorization_request_endpoint',
    'registration_endpoint',
    'backchannel_authentication_endpoint',
    'device_authorization_endpoint',
  ]);

  it('every URL in the document is under the issuer and answers (not 404, not 5xx)', async () => {
    const urls = Object.entries(doc).filter(([, v]) => typeof v === 'string' && /^https?:\/\//.test(v)) as [string, string][];
    expect(urls.map(([k]) => k)).toEqual(expect.arrayContaining(['issuer', 'authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri']));
    for (const [name, url] of urls) {
      if (name === 'issuer' || name.endsWith('_documentation') || name.startsWith('op_')) continue;
      expect(url.startsWith(`${TEST_ISSUER}/`), name).toBe(true);
      const path = url.slice(TEST_ISSUER.length);
      const method = POST_ONLY.has(name) ? 'POST' : 'GET';
      const res = await t.app.inject({ method, url: path, headers: method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}, payload: method === 'POST' ? '' : undefined });
      expect(res.statusCode, `${name} ${method} ${path}`).not.toBe(404);
      expect(res.statusCode, `${name} ${method} ${path}`).toBeLessThan(500);
    }
  });

  it('the endpoints answer as expected: jwks 200, userinfo 401, authorize 400 page, token 4xx JSON', async () => {
    const path = (key: string) => (doc[key] as string).slice(TEST_ISSUER.length);
    expect((await t.app.inject(path('jwks_uri'))).statusCode).toBe(200);
    expect((await t.app.inject(path('userinfo_endpoint'))).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'POST', url: path('userinfo_endpoint') })).statusCode).toBe(401);
    const authorize = await t.app.inject(path('authorization_endpoint'));
    expect(authorize.statusCode).toBe(400);
    expect(authorize.headers['content-type']).toBe('text/html; charset=utf-8');
    const token = await t.app.inject({ method: 'POST', url: path('token_endpoint'), headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
    expect(token.json().error).toBe('invalid_request');
  });

  it('every advertised scope exists and every advertised grant is served', async () => {
    const { rows } = await t.app.ctx.db.query<{ name: string }>('SELECT name FROM scopes');
    const known = new Set(rows.map((r) => r.name));
    for (const scope of doc.scopes_supported as string[]) expect(known.has(scope), scope).toBe(true);
  });
});

/** id_token_signing_alg_values_supported follows the key store: RS256 first, then JWT_ALGORITHM. */
describe.each(['ES256', 'EdDSA'])('discovery with JWT_ALGORITHM=%s', (alg) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ JWT_ALGORITHM: alg });
  });
  afterAll(() => t?.close());

  it('lists exactly the algorithms the server holds signing keys for, each published in the JWKS', async () => {
    const doc = (await t.app.inject('/.well-known/openid-configuration')).json() as Record<string, unknown>;
    expect(doc.id_token_signing_alg_values_supported).toEqual(['RS256', alg]);
    expect(t.app.ctx.keys.algorithms).toEqual(['RS256', alg]);
    const jwks = (await t.app.inject('/.well-known/jwks.json')).json() as { keys: { alg: string }[] };
    expect(new Set(jwks.keys.map((k) => k.alg))).toEqual(new Set(['RS256', alg]));
  });
});
