import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV, ISO_TIMESTAMP, requestToken } from './admin-helpers.js';

const REDIRECT = 'https://app.example.com/cb';

describe('admin API: clients', () => {
  let t: TestApp;
  let token: string;
  let call: ReturnType<typeof adminCall>;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    token = await adminToken(t.app);
    call = adminCall(t.app, token);
  });
  afterAll(() => t.close());

  it('creates a confidential client with the defaults and shows its secret once', async () => {
    const res = await call('POST', '/admin/clients', { client_name: 'Web App', redirect_uris: [REDIRECT] });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json() as Record<string, unknown>;
    expect(body).toEqual({
      client_id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      client_name: 'Web App',
      client_type: 'confidential',
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: [REDIRECT],
      post_logout_redirect_uris: [],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      scope: 'openid profile email',
      client_uri: null,
      logo_uri: null,
      tos_uri: null,
      policy_uri: null,
      contacts: [],
      skip_consent: false,
      require_pkce: true,
      is_active: true,
      id_token_signed_response_alg: 'RS256',
      access_token_format: null,
      allowed_resources: null,
      mfa_policy: null,
      dpop_bound_access_tokens: false,
      backchannel_logout_uri: null,
      backchannel_logout_session_required: false,
      require_pushed_authorization_requests: false,
      request_object_signing_alg: null,
      require_signed_request_object: false,
      jwks: null,
      jwks_uri: null,
      token_endpoint_auth_signing_alg: null,
      registration_type: 'admin',
      last_used_at: null,
      created_at: expect.stringMatching(ISO_TIMESTAMP),
      updated_at: expect.stringMatching(ISO_TIMESTAMP),
      // 32 random bytes, base64url: 256 bits.
      client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      client_secret_expires_at: 0,
    });
    expect(res.headers.location).toBe(`/admin/clients/${body.client_id as string}`);

    const shown = await call('GET', res.headers.location as string);
    expect(shown.statusCode).toBe(200);
    const { client_secret: _secret, client_secret_expires_at: _expires, ...withoutSecret } = body;
    expect(shown.json()).toEqual(withoutSecret);
    expect(shown.body).not.toContain(body.client_secret as string);
    const listed = await call('GET', '/admin/clients?limit=200');
    expect(listed.body).not.toMatch(/"client_secret(_hash)?"/);
    expect(listed.body).not.toContain('hmac-sha256$');
  });

  it('creates a public client with a chosen client_id and no secret', async () => {
    const res = await call('POST', '/admin/clients', {
      client_id: 'spa.example-1',
      client_name: 'Single-page app',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['https://spa.example.com/cb', 'http://127.0.0.1:5173/cb'],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid  offline_access openid',
      client_uri: 'https://spa.example.com',
      contacts: ['ops@example.com'],
      skip_consent: true,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      client_id: 'spa.example-1',
      client_type: 'public',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'openid offline_access',
      client_uri: 'https://spa.example.com',
      contacts: ['ops@example.com'],
      skip_consent: true,
    });
    expect(Object.keys(res.json() as object).filter((k) => k.includes('secret'))).toEqual([]);
  });

  it('gives a client_credentials-only client no redirect URIs or response types, and its secret works', async () => {
    const res = await call('POST', '/admin/clients', {
      client_name: 'Reporting job',
      grant_types: ['client_credentials'],
      scope: 'admin:users:read',
    });
    expect(res.statusCode).toBe(201);
    const body = res.json() as { client_id: string; client_secret: string };
    expect(res.json()).toMatchObject({ grant_types: ['client_credentials'], redirect_uris: [], response_types: [] });
    const token = await requestToken(t.app, body.client_id, body.client_secret);
    expect(token.statusCode).toBe(200);
    expect(token.json()).toMatchObject({ token_type: 'Bearer', scope: 'admin:users:read' });
  });

  it('rotates a secret: the new one works at the token endpoint, the old one stops working', async () => {
    const created = (
      await call('POST', '/admin/clients', { client_name: 'Rotating', grant_types: ['client_credentials'], scope: '' })
    ).json() as { client_id: string; client_secret: string };
    expect((await requestToken(t.app, created.client_id, created.client_secret)).statusCode).toBe(200);

    const rotated = await call('POST', `/admin/clients/${created.client_id}/rotate-secret`);
    expect(rotated.statusCode).toBe(200);
    expect(rotated.headers['cache-control']).toBe('no-store');
    const { client_secret: secret } = rotated.json() as { client_secret: string };
    expect(rotated.json()).toMatchObject({ client_id: created.client_id, client_secret_expires_at: 0 });
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(secret).not.toBe(created.client_secret);

    const old = await requestToken(t.app, created.client_id, created.client_secret);
    expect(old.statusCode).toBe(401);
    expect(old.json()).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    expect((await requestToken(t.app, created.client_id, secret)).statusCode).toBe(200);
    expect((await call('GET', `/admin/clients/${created.client_id}`)).body).not.toContain(secret);
  });

  it('refuses to rotate the secret of a public client, and of an unknown one', async () => {
    const res = await call('POST', '/admin/clients/spa.example-1/rotate-secret');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'validation_failed',
      message: 'public clients have no secret to rotate',
      fields: { token_endpoint_auth_method: 'a public client has no secret' },
    });
    const unknown = await call('POST', '/admin/clients/nope/rotate-secret');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ error: 'not_found', message: 'client not found' });
  });

  it('answers 409 for a client_id that exists', async () => {
    const res = await call('POST', '/admin/clients', { client_id: 'spa.example-1', client_name: 'Again', redirect_uris: [REDIRECT] });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({
      error: 'conflict',
      message: 'a client with this client_id already exists',
      fields: { client_id: 'already exists' },
    });
  });

  const BODY_INVALID = 'the request body is not valid';
  const RULES_INVALID = 'the client registration is not valid';
  const base = { client_name: 'Bad', redirect_uris: [REDIRECT] };
  const ANY_ALG = 'expected one of "RS256"|"ES256"|"EdDSA"';
  const KEYED_ALG = 'expected one of "RS256" (the algorithms this server holds signing keys for)';
  it.each([
    ['a fragment', { ...base, redirect_uris: [`${REDIRECT}#x`] }, RULES_INVALID, { 'redirect_uris.0': 'must not contain a fragment (RFC 6749 section 3.1.2)' }],
    ['a relative URI', { ...base, redirect_uris: ['/cb'] }, RULES_INVALID, { 'redirect_uris.0': 'must be an absolute URI' }],
    [
      'http on a public host',
      { ...base, redirect_uris: [REDIRECT, 'http://app.example.com/cb'] },
      RULES_INVALID,
      { 'redirect_uris.1': 'http is allowed only for loopback hosts (RFC 8252 section 7.3); use https' },
    ],
    [
      'a javascript: URI',
      { ...base, redirect_uris: ['javascript:alert(1)'] },
      RULES_INVALID,
      {
        'redirect_uris.0':
          'must use https, http on a loopback host, or a private-use scheme such as com.example.app (RFC 8252 section 7.1)',
      },
    ],
    [
      'a bad post-logout URI',
      { ...base, post_logout_redirect_uris: ['https://app.example.com/bye#x'] },
      RULES_INVALID,
      { 'post_logout_redirect_uris.0': 'must not contain a fragment (RFC 6749 section 3.1.2)' },
    ],
    ['no redirect URI for the code flow', { client_name: 'Bad' }, RULES_INVALID, { redirect_uris: 'at least one redirect URI is required for authorization_code' }],
    [
      'redirect URIs without the code flow',
      { ...base, grant_types: ['client_credentials'] },
      RULES_INVALID,
      { redirect_uris: 'must be empty without the authorization_code grant' },
    ],
    [
      'response_types without the code flow',
      { client_name: 'Bad', grant_types: ['client_credentials'], response_types: ['code'] },
      RULES_INVALID,
      { response_types: 'must be empty without the authorization_code grant' },
    ],
    [
      'no response type with the code flow',
      { ...base, response_types: [] },
      RULES_INVALID,
      { response_types: 'must be ["code"] when grant_types includes authorization_code' },
    ],
    ['no grant type', { client_name: 'Bad', grant_types: [] }, RULES_INVALID, { grant_types: 'at least one grant type is required' }],
    [
      'refresh_token alone',
      { client_name: 'Bad', grant_types: ['refresh_token'] },
      RULES_INVALID,
      { grant_types: 'refresh_token requires authorization_code' },
    ],
    [
      'a public client with client_credentials',
      { client_name: 'Bad', token_endpoint_auth_method: 'none', grant_types: ['client_credentials'] },
      RULES_INVALID,
      { grant_types: 'client_credentials requires a confidential client (token_endpoint_auth_method other than none)' },
    ],
    [
      'a public client without PKCE',
      { ...base, token_endpoint_auth_method: 'none', require_pkce: false },
      RULES_INVALID,
      { require_pkce: 'public clients always require PKCE' },
    ],
    ['an unknown scope', { ...base, scope: 'openid reports:read' }, RULES_INVALID, { scope: 'unknown scope: reports:read' }],
    ['the password grant', { ...base, grant_types: ['password'] }, BODY_INVALID, { 'grant_types.0': 'expected one of "authorization_code"|"refresh_token"|"client_credentials"|"urn:ietf:params:oauth:grant-type:device_code"' }],
    ['the token response type', { ...base, response_types: ['token'] }, BODY_INVALID, { 'response_types.0': 'expected "code"' }],
    [
      'an unknown auth method',
      { ...base, token_endpoint_auth_method: 'tls_client_auth' },
      BODY_INVALID,
      { token_endpoint_auth_method: 'expected one of "client_secret_basic"|"client_secret_post"|"client_secret_jwt"|"private_key_jwt"|"none"' },
    ],
    ['a scope with a quote', { ...base, scope: 'openid "x"' }, BODY_INVALID, { scope: 'expected space-separated scope tokens (RFC 6749 section 3.3)' }],
    ['no client_name', { redirect_uris: [REDIRECT] }, BODY_INVALID, { client_name: 'required' }],
    ['an empty client_name', { ...base, client_name: '  ' }, BODY_INVALID, { client_name: 'must not be empty' }],
    ['a client_secret', { ...base, client_secret: 'mine' }, BODY_INVALID, { client_secret: 'unknown field' }],
    ['a client_id with a space', { ...base, client_id: 'a b' }, BODY_INVALID, { client_id: 'expected 1 to 128 characters from A-Z a-z 0-9 . _ ~ -' }],
    ['an ftp client_uri', { ...base, client_uri: 'ftp://example.com' }, BODY_INVALID, { client_uri: 'expected an absolute http(s) URL' }],
    ['a contact that is no email', { ...base, contacts: ['ops'] }, BODY_INVALID, { 'contacts.0': 'expected an email address' }],
    ['a string boolean', { ...base, skip_consent: 'yes' }, BODY_INVALID, { skip_consent: 'expected boolean, received string' }],
    // OIDC Dynamic Client Registration section 2: never an unsigned or shared-secret ID token.
    ['the ID token alg none', { ...base, id_token_signed_response_alg: 'none' }, BODY_INVALID, { id_token_signed_response_alg: ANY_ALG }],
    ['the ID token alg HS256', { ...base, id_token_signed_response_alg: 'HS256' }, BODY_INVALID, { id_token_signed_response_alg: ANY_ALG }],
    ['an unknown ID token alg', { ...base, id_token_signed_response_alg: 'PS256' }, BODY_INVALID, { id_token_signed_response_alg: ANY_ALG }],
    ['a lower-case ID token alg', { ...base, id_token_signed_response_alg: 'rs256' }, BODY_INVALID, { id_token_signed_response_alg: ANY_ALG }],
    ['ES256, which this server holds no key for', { ...base, id_token_signed_response_alg: 'ES256' }, RULES_INVALID, { id_token_signed_response_alg: KEYED_ALG }],
    ['EdDSA, which this server holds no key for', { ...base, id_token_signed_response_alg: 'EdDSA' }, RULES_INVALID, { id_token_signed_response_alg: KEYED_ALG }],
    ['an unknown access token format', { ...base, access_token_format: 'reference' }, BODY_INVALID, { access_token_format: 'expected one of "jwt"|"opaque"' }],
    ['an empty access token format', { ...base, access_token_format: '' }, BODY_INVALID, { access_token_format: 'expected one of "jwt"|"opaque"' }],
    ['an array body', [base], BODY_INVALID, { body: 'expected object, received array' }],
  ])('refuses %s with 400 naming the field', async (_case, body, message, fields) => {
    const res = await call('POST', '/admin/clients', body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'validation_failed', message, fields });
  });

  it('accepts loopback and private-use redirect URIs for native apps (RFC 8252)', async () => {
    const uris = ['http://127.0.0.1:8080/cb', 'http://localhost/cb', 'http://[::1]:3000/cb', 'com.example.app:/oauth2redirect'];
    const res = await call('POST', '/admin/clients', { client_name: 'Native', token_endpoint_auth_method: 'none', redirect_uris: uris });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ redirect_uris: uris });
  });

  it('answers malformed JSON, an empty body and other media types with 4xx, never 5xx', async () => {
    const headers = { authorization: `Bearer ${token}` };
    const malformed = await t.app.inject({
      method: 'POST',
      url: '/admin/clients',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: '{"client_name": ',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toEqual({
      error: 'validation_failed',
      message: 'the request body is not valid JSON',
      fields: { body: 'not valid JSON' },
    });
    const empty = await t.app.inject({ method: 'POST', url: '/admin/clients', headers: { ...headers, 'content-type': 'application/json' }, payload: '' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toEqual({ error: 'validation_failed', message: BODY_INVALID, fields: { body: 'required' } });
    const poisoned = await t.app.inject({
      method: 'POST',
      url: '/admin/clients',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: '{"client_name":"x","__proto__":{"is_active":false}}',
    });
    // Fastify's JSON parser refuses prototype poisoning outright.
    expect(poisoned.statusCode).toBe(400);
    expect(poisoned.json()).toEqual(malformed.json());
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
      const res = await t.app.inject({ method: 'POST', url: '/admin/clients', headers: { ...headers, 'content-type': contentType }, payload: 'client_name=x' });
      expect(res.statusCode).toBe(415);
      expect(res.json()).toMatchObject({ error: 'invalid_request' });
    }
  });

  it('updates only the fields given and validates the merged result', async () => {
    const created = (await call('POST', '/admin/clients', { client_name: 'Before', redirect_uris: [REDIRECT] })).json() as Record<string, unknown>;
    const url = `/admin/clients/${created.client_id as string}`;

    const res = await call('PATCH', url, { client_name: 'After', logo_uri: 'https://app.example.com/logo.png', is_active: false });
    expect(res.statusCode).toBe(200);
    const { client_secret: _s, client_secret_expires_at: _e, updated_at: _u, ...unchanged } = created;
    expect(res.json()).toEqual({
      ...unchanged,
      client_name: 'After',
      logo_uri: 'https://app.example.com/logo.png',
      is_active: false,
      updated_at: expect.stringMatching(ISO_TIMESTAMP),
    });
    expect((await call('PATCH', url, { logo_uri: null })).json()).toMatchObject({ logo_uri: null, client_name: 'After' });
    expect((await call('PATCH', url, {})).statusCode).toBe(200);

    // Dropping the code flow derives response_types, but the redirect URIs must go explicitly.
    const stillHasUris = await call('PATCH', url, { grant_types: ['client_credentials'] });
    expect(stillHasUris.statusCode).toBe(400);
    expect(stillHasUris.json()).toEqual({
      error: 'validation_failed',
      message: RULES_INVALID,
      fields: { redirect_uris: 'must be empty without the authorization_code grant' },
    });
    const switched = await call('PATCH', url, { grant_types: ['client_credentials'], redirect_uris: [] });
    expect(switched.statusCode).toBe(200);
    expect(switched.json()).toMatchObject({ grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });

    const fragment = await call('PATCH', '/admin/clients/spa.example-1', { redirect_uris: ['https://spa.example.com/#x'] });
    expect(fragment.statusCode).toBe(400);
    expect(fragment.json()).toMatchObject({ fields: { 'redirect_uris.0': 'must not contain a fragment (RFC 6749 section 3.1.2)' } });
  });

  it('stores the ID token alg and the access token format: create, get, update, and null back to the server default', async () => {
    const res = await call('POST', '/admin/clients', {
      client_name: 'Formats',
      redirect_uris: [REDIRECT],
      id_token_signed_response_alg: 'RS256',
      access_token_format: 'opaque',
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ id_token_signed_response_alg: 'RS256', access_token_format: 'opaque' });
    const url = `/admin/clients/${(res.json() as { client_id: string }).client_id}`;
    expect((await call('GET', url)).json()).toMatchObject({ id_token_signed_response_alg: 'RS256', access_token_format: 'opaque' });

    const toJwt = await call('PATCH', url, { access_token_format: 'jwt' });
    expect(toJwt.statusCode).toBe(200);
    expect(toJwt.json()).toMatchObject({ id_token_signed_response_alg: 'RS256', access_token_format: 'jwt' });
    // A PATCH without the fields keeps them; null returns to ACCESS_TOKEN_FORMAT.
    expect((await call('PATCH', url, { client_name: 'Renamed' })).json()).toMatchObject({ access_token_format: 'jwt' });
    expect((await call('PATCH', url, { access_token_format: null })).json()).toMatchObject({ access_token_format: null });
    expect((await call('GET', url)).json()).toMatchObject({ client_name: 'Renamed', id_token_signed_response_alg: 'RS256', access_token_format: null });

    const refused = await call('PATCH', url, { id_token_signed_response_alg: 'ES256' });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toEqual({
      error: 'validation_failed',
      message: RULES_INVALID,
      fields: { id_token_signed_response_alg: KEYED_ALG },
    });
    expect((await call('PATCH', url, { id_token_signed_response_alg: null })).json()).toEqual({
      error: 'validation_failed',
      message: BODY_INVALID,
      fields: { id_token_signed_response_alg: ANY_ALG },
    });
  });

  it.each([
    ['confidential to public', 'client_secret_basic', 'none'],
    ['public to confidential', 'none', 'client_secret_post'],
  ])('refuses to switch a client from %s', async (_case, from, to) => {
    const created = (
      await call('POST', '/admin/clients', { client_name: 'Typed', token_endpoint_auth_method: from, redirect_uris: [REDIRECT] })
    ).json() as { client_id: string };
    const res = await call('PATCH', `/admin/clients/${created.client_id}`, { token_endpoint_auth_method: to });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'validation_failed',
      message: 'the client type cannot change',
      fields: { token_endpoint_auth_method: 'cannot switch between a public and a confidential client; create a new client' },
    });
  });

  it('switches between the two secret methods of a confidential client', async () => {
    const created = (await call('POST', '/admin/clients', { client_name: 'Post', redirect_uris: [REDIRECT] })).json() as { client_id: string };
    const res = await call('PATCH', `/admin/clients/${created.client_id}`, { token_endpoint_auth_method: 'client_secret_post' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ token_endpoint_auth_method: 'client_secret_post', client_type: 'confidential' });
  });

  it('refuses to change client_id and answers 404 for unknown clients', async () => {
    const rename = await call('PATCH', '/admin/clients/spa.example-1', { client_id: 'other' });
    expect(rename.statusCode).toBe(400);
    expect(rename.json()).toEqual({ error: 'validation_failed', message: BODY_INVALID, fields: { client_id: 'unknown field' } });
    for (const [method, body] of [['GET'], ['PATCH', { client_name: 'x' }], ['DELETE']] as const) {
      const res = await call(method, '/admin/clients/does-not-exist', body);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: 'not_found', message: 'client not found' });
    }
  });

  it('lists clients newest first, a keyset page at a time', async () => {
    for (const id of ['page-a', 'page-b', 'page-c']) {
      expect((await call('POST', '/admin/clients', { client_id: id, client_name: `Paged ${id}`, redirect_uris: [REDIRECT] })).statusCode).toBe(201);
    }
    type Body = { items: { client_id: string }[]; limit: number; next_cursor: string | null };
    const res = await call('GET', '/admin/clients?limit=2');
    expect(res.statusCode).toBe(200);
    const first = res.json() as Body;
    expect(Object.keys(first).sort()).toEqual(['items', 'limit', 'next_cursor']);
    expect(first.limit).toBe(2);
    expect(first.items.map((c) => c.client_id)).toEqual(['page-c', 'page-b']);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = (await call('GET', `/admin/clients?limit=2&cursor=${first.next_cursor}`)).json() as Body;
    expect(second.items[0]!.client_id).toBe('page-a');

    // Walking every page visits each client once, and the page shape ends with next_cursor null.
    const all = (await call('GET', '/admin/clients?limit=200')).json() as Body;
    expect(all.next_cursor).toBeNull();
    const seen: string[] = [];
    for (let cursor: string | null = null, n = 0; n === 0 || cursor; n++) {
      const body = (await call('GET', `/admin/clients?limit=1${cursor ? `&cursor=${cursor}` : ''}`)).json() as Body;
      seen.push(...body.items.map((c) => c.client_id));
      cursor = body.next_cursor;
    }
    expect(seen).toEqual(all.items.map((c) => c.client_id));
    expect((await call('GET', '/admin/clients')).json()).toMatchObject({ limit: 50, next_cursor: null });
  });

  it('searches clients by a part of the client_id or the name, and filters by registration type', async () => {
    await call('POST', '/admin/clients', { client_id: 'find-me-1', client_name: 'Ledger 50% off', redirect_uris: [REDIRECT] });
    await call('POST', '/admin/clients', { client_id: 'find-me-2', client_name: 'Reports', redirect_uris: [REDIRECT] });
    const ids = async (query: string) =>
      ((await call('GET', `/admin/clients?${query}`)).json() as { items: { client_id: string }[] }).items.map((c) => c.client_id);
    expect(await ids('q=FIND-ME')).toEqual(['find-me-2', 'find-me-1']);
    expect(await ids('q=ledger')).toEqual(['find-me-1']);
    expect(await ids('q=50%25')).toEqual(['find-me-1']);
    expect(await ids('q=find_me')).toEqual([]);
    expect(await ids('q=find-me&registration_type=admin&limit=1')).toEqual(['find-me-2']);
    expect(await ids('q=find-me&registration_type=dynamic')).toEqual([]);
  });

  it.each([
    ['limit=0', { limit: 'expected at least 1' }],
    ['limit=201', { limit: 'expected at most 200' }],
    ['limit=ten', { limit: 'expected a whole number' }],
    ['offset=1', { offset: 'unknown field' }],
    ['cursor=not+a+cursor', { cursor: 'not a valid cursor' }],
    ['cursor=e30', { cursor: 'not a valid cursor' }],
    // Well-formed, but a key of another list (users: a timestamp and a UUID; scopes: a name).
    [`cursor=${Buffer.from('["openid"]').toString('base64url')}`, { cursor: 'not a cursor of this list' }],
    [`cursor=${Buffer.from('["2026-02-30T00:00:00.000000Z","x"]').toString('base64url')}`, { cursor: 'not a cursor of this list' }],
    ['limit=1&limit=2', { limit: 'expected string, received array' }],
    ['sort=name', { sort: 'unknown field' }],
  ])('refuses the query %s with 400', async (query, fields) => {
    const res = await call('GET', `/admin/clients?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'validation_failed', message: 'the query parameters are not valid', fields });
  });

  it('deletes a client: 204, then 404, and its tokens stop working', async () => {
    const created = (
      await call('POST', '/admin/clients', { client_name: 'Doomed', grant_types: ['client_credentials'], scope: 'admin:scopes:read' })
    ).json() as { client_id: string; client_secret: string };
    const token = (await requestToken(t.app, created.client_id, created.client_secret)).json() as { access_token: string };
    const own = adminCall(t.app, token.access_token);
    expect((await own('GET', '/admin/scopes')).statusCode).toBe(200);

    const res = await call('DELETE', `/admin/clients/${created.client_id}`);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await call('GET', `/admin/clients/${created.client_id}`)).statusCode).toBe(404);
    expect((await call('DELETE', `/admin/clients/${created.client_id}`)).statusCode).toBe(404);
    expect((await own('GET', '/admin/scopes')).statusCode).toBe(401);
  });
});
