import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { findClient } from '../../../src/repositories/clients-repository.js';
import { configure, NATIVE_CLIENT, register, WEB_CLIENT } from './registration-helpers.js';

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{21}$/;
const EPOCH = expect.any(Number) as number;

async function clientCount(t: TestApp): Promise<number> {
  return (await t.testDb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM clients')).rows[0]!.n;
}

describe('dynamic client registration (RFC 7591)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ REGISTRATION_POLICY: 'open' });
    // A scope for machine clients: user scopes (profile, ...) are never granted to client_credentials.
    await t.testDb.db.query("INSERT INTO scopes (name, description) VALUES ('mcp:tools', 'Use the tools')");
  });
  afterAll(() => t.close());

  it('registers a confidential web client: secret once, registration access token, defaults filled in', async () => {
    const res = await register(t.app, WEB_CLIENT);
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.pragma).toBe('no-cache');
    const body = res.json() as Record<string, unknown>;
    expect(body).toEqual({
      client_id: expect.stringMatching(CLIENT_ID),
      client_secret: expect.stringMatching(TOKEN),
      client_id_issued_at: EPOCH,
      client_secret_expires_at: 0,
      registration_access_token: expect.stringMatching(TOKEN),
      registration_client_uri: `${TEST_ISSUER}/oauth/register/${body.client_id as string}`,
      client_name: 'Web MCP client',
      application_type: 'web',
      redirect_uris: ['https://mcp.example.com/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid profile',
      id_token_signed_response_alg: 'RS256',
      dpop_bound_access_tokens: false,
    });
    expect(Math.abs((body.client_id_issued_at as number) - Date.now() / 1000)).toBeLessThan(600);

    const stored = (await findClient(t.testDb.db, body.client_id as string))!;
    expect(stored).toMatchObject({
      registrationType: 'dynamic',
      clientType: 'confidential',
      skipConsent: false,
      requirePkce: true,
      isActive: true,
      accessTokenFormat: null,
      allowedResources: null,
    });
    // Only hashes at rest.
    const rows = JSON.stringify((await t.testDb.db.query('SELECT * FROM client_registrations')).rows);
    expect(rows).not.toContain(body.registration_access_token as string);
    expect(JSON.stringify(stored)).not.toContain(body.client_secret as string);
  });

  it('registers a native public client: no secret, loopback and private-use redirect URIs', async () => {
    const res = await register(t.app, NATIVE_CLIENT);
    expect(res.statusCode).toBe(201);
    const body = res.json() as Record<string, unknown>;
    expect(body).toEqual({
      client_id: expect.stringMatching(CLIENT_ID),
      client_id_issued_at: EPOCH,
      registration_access_token: expect.stringMatching(TOKEN),
      registration_client_uri: `${TEST_ISSUER}/oauth/register/${body.client_id as string}`,
      client_name: 'Desktop MCP client',
      application_type: 'native',
      redirect_uris: ['http://127.0.0.1:33418/callback', 'com.example.desktop:/oauth/cb'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'openid profile email',
      id_token_signed_response_alg: 'RS256',
      dpop_bound_access_tokens: false,
    });
    expect((await findClient(t.testDb.db, body.client_id as string))!.clientType).toBe('public');
  });

  it('applies the RFC 7591 section 2 defaults to a minimal request, and infers native from loopback redirect URIs', async () => {
    const web = (await register(t.app, { redirect_uris: ['https://a.example.com/cb'] })).json() as Record<string, unknown>;
    expect(web).toMatchObject({
      client_name: web.client_id,
      application_type: 'web',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid profile email',
    });
    const loopback = (await register(t.app, { redirect_uris: ['http://localhost:6274/oauth/callback'], token_endpoint_auth_method: 'none' })).json();
    expect(loopback).toMatchObject({ application_type: 'native', token_endpoint_auth_method: 'none' });
  });

  it('registers a confidential client_credentials client with client_secret_post and optional metadata', async () => {
    const res = await register(t.app, {
      client_name: 'Agent',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_post',
      scope: 'mcp:tools',
      client_uri: 'https://agent.example.com',
      logo_uri: 'https://agent.example.com/logo.png',
      tos_uri: 'https://agent.example.com/tos',
      policy_uri: 'https://agent.example.com/privacy',
      contacts: ['ops@agent.example.com'],
      software_id: 'ignored-unknown-metadata',
      software_statement: 'eyJhbGciOiJub25lIn0.e30.',
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      client_id: expect.stringMatching(CLIENT_ID),
      client_secret: expect.stringMatching(TOKEN),
      client_id_issued_at: EPOCH,
      client_secret_expires_at: 0,
      registration_access_token: expect.stringMatching(TOKEN),
      registration_client_uri: expect.stringMatching(/^http:\/\/localhost:8000\/oauth\/register\//),
      client_name: 'Agent',
      application_type: 'web',
      redirect_uris: [],
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_post',
      scope: 'mcp:tools',
      id_token_signed_response_alg: 'RS256',
      dpop_bound_access_tokens: false,
      client_uri: 'https://agent.example.com',
      logo_uri: 'https://agent.example.com/logo.png',
      tos_uri: 'https://agent.example.com/tos',
      policy_uri: 'https://agent.example.com/privacy',
      contacts: ['ops@agent.example.com'],
    });
    const { client_id, client_secret } = res.json() as { client_id: string; client_secret: string };
    const token = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'client_credentials', client_id, client_secret }).toString(),
    });
    expect(token.statusCode).toBe(200);
    expect(token.json()).toMatchObject({ token_type: 'Bearer', scope: 'mcp:tools' });
  });

  describe('errors (RFC 7591 section 3.2.2), with nothing persisted', () => {
    const cases: [name: string, body: unknown, error: string, description: string][] = [
      ['web redirect URI on http', { redirect_uris: ['http://app.example.com/cb'], application_type: 'web' }, 'invalid_redirect_uri', 'redirect_uris.0: http is allowed only for loopback hosts (RFC 8252 section 7.3); use https'],
      ['web redirect URI on localhost', { redirect_uris: ['https://localhost/cb'], application_type: 'web' }, 'invalid_redirect_uri', 'redirect_uris.0: a web client redirects to https URIs that are not on localhost (OpenID Connect Dynamic Client Registration 1.0 section 2)'],
      ['web client with a loopback http redirect', { redirect_uris: ['https://a.example.com/cb', 'http://127.0.0.1:8080/cb'] }, 'invalid_redirect_uri', 'redirect_uris.1: a web client redirects to https URIs that are not on localhost (OpenID Connect Dynamic Client Registration 1.0 section 2)'],
      ['native client with an https redirect', { redirect_uris: ['https://a.example.com/cb'], application_type: 'native' }, 'invalid_redirect_uri', 'redirect_uris.0: a native client redirects to a loopback http URI or a private-use scheme such as com.example.app (OpenID Connect Dynamic Client Registration 1.0 section 2)'],
      ['native client with a scheme that is not reverse-domain', { redirect_uris: ['myapp:/cb'], application_type: 'native' }, 'invalid_redirect_uri', 'redirect_uris.0: must use https, http on a loopback host, or a private-use scheme such as com.example.app (RFC 8252 section 7.1)'],
      ['a fragment', { redirect_uris: ['https://a.example.com/cb#x'] }, 'invalid_redirect_uri', 'redirect_uris.0: must not contain a fragment (RFC 6749 section 3.1.2)'],
      ['a relative URI', { redirect_uris: ['/cb'] }, 'invalid_redirect_uri', 'redirect_uris.0: must be an absolute URI'],
      ['javascript:', { redirect_uris: ['javascript:alert(1)'] }, 'invalid_redirect_uri', 'redirect_uris.0: must use https, http on a loopback host, or a private-use scheme such as com.example.app (RFC 8252 section 7.1)'],
      ['no redirect URI for the code grant', { client_name: 'x' }, 'invalid_redirect_uri', 'redirect_uris: at least one redirect URI is required for authorization_code'],
      ['redirect_uris not an array', { redirect_uris: 'https://a.example.com/cb' }, 'invalid_redirect_uri', 'redirect_uris: expected array, received string'],
      ['a post-logout redirect on http', { redirect_uris: ['https://a.example.com/cb'], post_logout_redirect_uris: ['http://a.example.com/'] }, 'invalid_redirect_uri', 'post_logout_redirect_uris.0: http is allowed only for loopback hosts (RFC 8252 section 7.3); use https'],
      ['an unsupported grant type', { redirect_uris: ['https://a.example.com/cb'], grant_types: ['password'] }, 'invalid_client_metadata', 'grant_types.0: expected one of authorization_code|refresh_token|client_credentials|urn:ietf:params:oauth:grant-type:device_code'],
      ['implicit response type', { redirect_uris: ['https://a.example.com/cb'], response_types: ['token'] }, 'invalid_client_metadata', 'response_types.0: expected code'],
      ['code response without the code grant', { grant_types: ['client_credentials'], response_types: ['code'] }, 'invalid_client_metadata', 'response_types: must be empty without the authorization_code grant'],
      ['client_credentials for a public client', { grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' }, 'invalid_client_metadata', 'grant_types: client_credentials requires a confidential client (token_endpoint_auth_method other than none)'],
      ['refresh_token alone', { grant_types: ['refresh_token'] }, 'invalid_client_metadata', 'grant_types: refresh_token requires authorization_code'],
      ['an unsupported auth method', { redirect_uris: ['https://a.example.com/cb'], token_endpoint_auth_method: 'tls_client_auth' }, 'invalid_client_metadata', 'token_endpoint_auth_method: expected one of client_secret_basic|client_secret_post|client_secret_jwt|private_key_jwt|none'],
      ['an admin scope', { redirect_uris: ['https://a.example.com/cb'], scope: 'openid authly:admin' }, 'invalid_client_metadata', 'scope: admin scopes cannot be registered: authly:admin'],
      ['admin:clients:write', { grant_types: ['client_credentials'], scope: 'admin:clients:write' }, 'invalid_client_metadata', 'scope: admin scopes cannot be registered: admin:clients:write'],
      ['an unknown scope', { redirect_uris: ['https://a.example.com/cb'], scope: 'openid no-such-scope' }, 'invalid_client_metadata', 'scope: unknown scope: no-such-scope'],
      ['a scope with bad characters', { redirect_uris: ['https://a.example.com/cb'], scope: 'openid "x"' }, 'invalid_client_metadata', 'scope: expected space-separated scope tokens (RFC 6749 section 3.3)'],
      ['an unknown application_type', { redirect_uris: ['https://a.example.com/cb'], application_type: 'desktop' }, 'invalid_client_metadata', 'application_type: expected one of web|native'],
      ['an ID token alg without a key', { redirect_uris: ['https://a.example.com/cb'], id_token_signed_response_alg: 'ES256' }, 'invalid_client_metadata', 'id_token_signed_response_alg: expected one of RS256 (the algorithms this server holds signing keys for)'],
      ['id_token alg none', { redirect_uris: ['https://a.example.com/cb'], id_token_signed_response_alg: 'none' }, 'invalid_client_metadata', 'id_token_signed_response_alg: expected one of RS256|ES256|EdDSA'],
      ['an empty client_name', { redirect_uris: ['https://a.example.com/cb'], client_name: ' ' }, 'invalid_client_metadata', 'client_name: must not be empty'],
      ['a bad contact', { redirect_uris: ['https://a.example.com/cb'], contacts: ['not-an-email'] }, 'invalid_client_metadata', 'contacts.0: expected an email address'],
      ['a logo_uri that is not http(s)', { redirect_uris: ['https://a.example.com/cb'], logo_uri: 'javascript:alert(1)' }, 'invalid_client_metadata', 'logo_uri: expected an absolute http(s) URL'],
      ['a JSON array', [], 'invalid_client_metadata', 'the registration request must be a JSON object'],
      ['malformed JSON', '{"redirect_uris": [', 'invalid_client_metadata', 'body: not valid JSON'],
      ['an empty body', '', 'invalid_client_metadata', 'the registration request must be a JSON object'],
      ['NUL in a redirect URI', '{"redirect_uris":["https://a.example.com/\\u0000"]}', 'invalid_redirect_uri', 'redirect_uris.0: must not contain NUL characters'],
    ];

    it.each(cases)('%s', async (_name, body, error, description) => {
      const before = await clientCount(t);
      const res = await register(t.app, body);
      expect(res.statusCode).toBe(400);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.json()).toEqual({ error, error_description: description });
      expect(await clientCount(t)).toBe(before);
    });

    it('a body that is not JSON is refused with 415', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/register',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'redirect_uris=https://a.example.com/cb',
      });
      expect(res.statusCode).toBe(415);
      expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'Unsupported Media Type' });
    });
  });
});

describe('client configuration endpoint (RFC 7592)', () => {
  let t: TestApp;
  let web: Record<string, string>;
  let native: Record<string, string>;

  beforeAll(async () => {
    t = await createTestApp({ REGISTRATION_POLICY: 'open' });
    web = (await register(t.app, WEB_CLIENT)).json() as Record<string, string>;
    native = (await register(t.app, NATIVE_CLIENT)).json() as Record<string, string>;
  });
  afterAll(() => t.close());

  const withoutSecret = (body: Record<string, string>) => {
    const { client_secret: _secret, ...rest } = body;
    return rest;
  };

  it('reads the registration with its token: the same information, never the secret', async () => {
    const res = await configure(t.app, 'GET', web.client_id!, web.registration_access_token);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual(withoutSecret(web));
    const nativeRead = await configure(t.app, 'GET', native.client_id!, native.registration_access_token);
    expect(nativeRead.json()).toEqual(native);
  });

  it('refuses a missing, malformed, wrong or foreign token with 401 invalid_token and a Bearer challenge', async () => {
    const missing = await configure(t.app, 'GET', web.client_id!, undefined);
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="authly"');
    expect(missing.json()).toEqual({ error: 'invalid_token', error_description: 'a Bearer access token is required' });

    const wrong = await configure(t.app, 'GET', web.client_id!, 'x'.repeat(43));
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['www-authenticate']).toBe(
      'Bearer realm="authly", error="invalid_token", error_description="the registration access token is not valid for this client"',
    );
    expect(wrong.json()).toEqual({ error: 'invalid_token', error_description: 'the registration access token is not valid for this client' });

    // RFC 7592 section 3: a token is bound to its client; another client's token is not valid here.
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const foreign = await configure(t.app, method, web.client_id!, native.registration_access_token, method === 'PUT' ? { client_id: web.client_id } : undefined);
      expect(foreign.statusCode).toBe(401);
      expect(foreign.json()).toEqual({ error: 'invalid_token', error_description: 'the registration access token is not valid for this client' });
    }
    // A client's own access token is no registration access token.
    const malformed = await t.app.inject({ method: 'GET', url: `/oauth/register/${web.client_id!}`, headers: { authorization: 'Basic abc' } });
    expect(malformed.statusCode).toBe(401);
    expect(malformed.headers['www-authenticate']).toBe('Bearer realm="authly"');
    expect(malformed.json()).toEqual({ error: 'invalid_token', error_description: 'a Bearer access token is required; the Authorization header uses another scheme' });
    const unknown = await configure(t.app, 'GET', 'no-such-client', web.registration_access_token);
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json()).toEqual({ error: 'invalid_token', error_description: 'the registration access token is not valid for this client' });
    // An admin-registered client has no registration access token at all.
    expect((await configure(t.app, 'GET', 'no-such-client', undefined)).statusCode).toBe(401);
  });

  it('updates by full replacement: omitted metadata falls back to the defaults', async () => {
    const res = await configure(t.app, 'PUT', web.client_id!, web.registration_access_token, {
      client_id: web.client_id,
      client_secret: web.client_secret,
      client_name: 'Renamed',
      redirect_uris: ['https://mcp.example.com/callback2'],
      logo_uri: null,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      ...withoutSecret(web),
      client_name: 'Renamed',
      redirect_uris: ['https://mcp.example.com/callback2'],
      grant_types: ['authorization_code'],
      scope: 'openid profile email',
    });
    const read = await configure(t.app, 'GET', web.client_id!, web.registration_access_token);
    expect(read.json()).toEqual(res.json());
    // The cache was invalidated: the authorization endpoint knows the new redirect URI at once.
    expect((await findClient(t.testDb.db, web.client_id!))!.redirectUris).toEqual(['https://mcp.example.com/callback2']);
  });

  it('refuses updates that RFC 7592 section 2.2 forbids, changing nothing', async () => {
    const base = { client_id: web.client_id, redirect_uris: ['https://mcp.example.com/callback3'] };
    const cases: [body: Record<string, unknown>, error: string, description: string][] = [
      [{ ...base, client_id: undefined }, 'invalid_client_metadata', 'client_id: must be the client_id of this registration'],
      [{ ...base, client_id: native.client_id }, 'invalid_client_metadata', 'client_id: must be the client_id of this registration'],
      [{ ...base, client_secret: 'chosen-by-the-client' }, 'invalid_client_metadata', 'client_secret: does not match the current secret (a client cannot choose its secret)'],
      [{ ...base, registration_access_token: web.registration_access_token }, 'invalid_client_metadata', 'registration_access_token: must not be sent in an update (RFC 7592 section 2.2)'],
      [{ ...base, client_id_issued_at: 1 }, 'invalid_client_metadata', 'client_id_issued_at: must not be sent in an update (RFC 7592 section 2.2)'],
      [{ ...base, token_endpoint_auth_method: 'none' }, 'invalid_client_metadata', 'token_endpoint_auth_method: a client cannot switch between public and confidential; register a new client'],
      [{ ...base, scope: 'admin:users:write' }, 'invalid_client_metadata', 'scope: admin scopes cannot be registered: admin:users:write'],
      [{ ...base, redirect_uris: ['http://evil.example.com/'] }, 'invalid_redirect_uri', 'redirect_uris.0: http is allowed only for loopback hosts (RFC 8252 section 7.3); use https'],
    ];
    const before = (await findClient(t.testDb.db, web.client_id!))!;
    for (const [body, error, description] of cases) {
      const res = await configure(t.app, 'PUT', web.client_id!, web.registration_access_token, body);
      expect(res.statusCode, description).toBe(400);
      expect(res.json()).toEqual({ error, error_description: description });
    }
    expect(await findClient(t.testDb.db, web.client_id!)).toEqual(before);
  });

  it('deletes the client with 204; its token then gets 401 and the client no longer authenticates', async () => {
    const res = await configure(t.app, 'DELETE', native.client_id!, native.registration_access_token);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(await findClient(t.testDb.db, native.client_id!)).toBeUndefined();
    for (const method of ['GET', 'DELETE'] as const) {
      const again = await configure(t.app, method, native.client_id!, native.registration_access_token);
      expect(again.statusCode).toBe(401);
      expect(again.json()).toEqual({ error: 'invalid_token', error_description: 'the registration access token is not valid for this client' });
    }
    const authorize = await t.app.inject(`/oauth/authorize?response_type=code&client_id=${native.client_id!}&redirect_uri=${encodeURIComponent('http://127.0.0.1:33418/callback')}`);
    expect(authorize.statusCode).toBe(400);
  });
});

describe('registration from a browser (CORS_ORIGINS)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ REGISTRATION_POLICY: 'open', CORS_ORIGINS: 'https://inspector.example.com' });
  });
  afterAll(() => t.close());

  it('answers the preflight and the registration with the origin, for an allowed origin only', async () => {
    const origin = 'https://inspector.example.com';
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/oauth/register',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': origin,
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'Authorization, Content-Type, DPoP',
    });
    const res = await register(t.app, NATIVE_CLIENT, { origin });
    expect(res.statusCode).toBe(201);
    expect(res.headers['access-control-allow-origin']).toBe(origin);
    const other = await register(t.app, NATIVE_CLIENT, { origin: 'https://evil.example.com' });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const { client_id, registration_access_token } = res.json() as Record<string, string>;
    const read = await t.app.inject({ method: 'GET', url: `/oauth/register/${client_id!}`, headers: { origin, authorization: `Bearer ${registration_access_token!}` } });
    expect(read.headers['access-control-allow-origin']).toBe(origin);
  });
});
