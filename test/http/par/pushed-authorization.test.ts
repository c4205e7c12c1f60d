import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { basicAuth, createClient, createUser, pkcePair, REDIRECT_URI, type TestClient } from '../../helpers/fixtures.js';
import { InjectBrowser, redirectParams } from '../../helpers/browser.js';
import { authorizeParams, completeInteraction, exchangeCode, FORM, isInteractionRedirect } from '../../helpers/oauth-flow.js';
import { escapeHtml } from '../../../src/views/html.js';
import type { User } from '../../../src/repositories/users-repository.js';
import { adminCall, adminToken, ADMIN_ENV } from '../admin/admin-helpers.js';
import { register, WEB_CLIENT } from '../registration/registration-helpers.js';

const REQUEST_URI = /^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/;

/** POST /oauth/par with the client authenticating as registered (Basic for confidential, client_id for public). */
function push(
  t: TestApp,
  client: TestClient,
  form: URLSearchParams | Record<string, string>,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  const body = new URLSearchParams(form);
  const auth = client.clientSecret ? { authorization: basicAuth(client.clientId, client.clientSecret) } : {};
  return t.app.inject({ method: 'POST', url: '/oauth/par', headers: { ...FORM, ...auth, ...headers }, payload: body.toString() });
}

function expectJsonError(res: LightMyRequestResponse, status: number, error: string, description: string) {
  expect(res.statusCode).toBe(status);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers.location).toBeUndefined();
  expect(res.json()).toEqual({ error, error_description: description });
}

function expectErrorPage(res: LightMyRequestResponse, detail: string) {
  expect(res.statusCode).toBe(400);
  expect(res.headers.location).toBeUndefined();
  expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(res.body).toContain(`<details><summary>Technical details</summary><p><code>${escapeHtml(detail)}</code></p></details>`);
}

const UNUSABLE = 'invalid_request_uri: request_uri is unknown, expired, already used, or was pushed by another client';

describe('pushed authorization requests (RFC 9126)', () => {
  let t: TestApp;
  let client: TestClient;
  let publicClient: TestClient;
  let ccOnly: TestClient;
  let user: User;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app);
    publicClient = await createClient(t.app, { tokenEndpointAuthMethod: 'none' });
    ccOnly = await createClient(t.app, { grantTypes: ['client_credentials'] });
    user = await createUser(t.app);
  });
  afterAll(() => t.close());

  const pushed = async (c: TestClient, overrides: Record<string, string | undefined> = {}) => {
    const res = await push(t, c, authorizeParams(c.clientId, overrides));
    expect(res.statusCode).toBe(201);
    return (res.json() as { request_uri: string }).request_uri;
  };
  const authorizeWith = (clientId: string, requestUri: string, extra: Record<string, string> = {}) =>
    `/oauth/authorize?${new URLSearchParams({ client_id: clientId, request_uri: requestUri, ...extra })}`;

  it('discovery advertises the endpoint and that pushing is not required', async () => {
    const doc = (await t.app.inject('/.well-known/openid-configuration')).json() as Record<string, unknown>;
    expect(doc.pushed_authorization_request_endpoint).toBe(`${TEST_ISSUER}/oauth/par`);
    expect(doc.require_pushed_authorization_requests).toBe(false);
    // No request object is fetched by reference: the only request_uri is the pushed one.
    expect(doc.request_uri_parameter_supported).toBe(false);
  });

  it('answers 201 with a single-use request_uri (section 2.2), and the code flow completes with it', async () => {
    const browser = new InjectBrowser(t.app);
    const { verifier, challenge } = pkcePair();
    const res = await push(t, client, authorizeParams(client.clientId, { code_challenge: challenge, state: 'pushed-state' }));
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json() as { request_uri: string; expires_in: number };
    expect(body).toEqual({ request_uri: expect.stringMatching(REQUEST_URI), expires_in: 60 });

    const start = await browser.get(authorizeWith(client.clientId, body.request_uri));
    expect(isInteractionRedirect(start)).toBe(true);
    const done = await completeInteraction(browser, start, { username: user.username });
    const params = redirectParams(done);
    expect(params.get('state')).toBe('pushed-state');
    expect(params.get('iss')).toBe(TEST_ISSUER);
    const tokens = await exchangeCode(t.app, client, { code: params.get('code')!, verifier });
    expect(tokens.statusCode).toBe(200);

    // Used once: a second use is refused as an error page, never a redirect.
    expectErrorPage(await browser.get(authorizeWith(client.clientId, body.request_uri)), UNUSABLE);
  });

  it('accepts client_secret_post and public clients identified by client_id (section 2)', async () => {
    const viaPost = await t.app.inject({
      method: 'POST',
      url: '/oauth/par',
      headers: FORM,
      payload: new URLSearchParams([...authorizeParams(client.clientId), ['client_secret', client.clientSecret!]]).toString(),
    });
    expect(viaPost.statusCode).toBe(201);
    expect(await pushed(publicClient)).toMatch(REQUEST_URI);
  });

  it('stores only a hash of the request_uri, bound to the client, and never the client credentials', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/par',
      headers: FORM,
      payload: new URLSearchParams([...authorizeParams(client.clientId), ['client_secret', client.clientSecret!]]).toString(),
    });
    const requestUri = (res.json() as { request_uri: string }).request_uri;
    const reference = requestUri.split(':').pop()!;
    const { rows } = await t.testDb.db.query<{ row: string; client_id: string }>(
      'SELECT row_to_json(p)::text AS row, client_id FROM pushed_authorization_requests p',
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const { row } of rows) {
      expect(row).not.toContain(reference);
      expect(row).not.toContain(client.clientSecret!);
    }
  });

  describe('errors at the endpoint: JSON, never a redirect (section 2.3)', () => {
    const cases: { name: string; send: () => Promise<LightMyRequestResponse>; status: number; error: string; description: string }[] = [
      {
        name: 'no client authentication',
        send: () => t.app.inject({ method: 'POST', url: '/oauth/par', headers: FORM, payload: authorizeParams('').toString().replace('client_id=&', '') }),
        status: 401,
        error: 'invalid_client',
        description: 'client authentication is required',
      },
      {
        name: 'a confidential client without its secret',
        send: () => t.app.inject({ method: 'POST', url: '/oauth/par', headers: FORM, payload: authorizeParams(client.clientId).toString() }),
        status: 401,
        error: 'invalid_client',
        description: 'client authentication failed',
      },
      {
        name: 'a wrong secret',
        send: () => push(t, client, authorizeParams(client.clientId), { authorization: basicAuth(client.clientId, 'wrong') }),
        status: 401,
        error: 'invalid_client',
        description: 'client authentication failed',
      },
      {
        name: 'client_id naming another client than the authenticated one',
        send: () => push(t, client, authorizeParams(publicClient.clientId)),
        status: 400,
        error: 'invalid_request',
        description: 'client_id does not match the authenticated client',
      },
      {
        name: 'request_uri inside the push (section 2.1)',
        send: () => push(t, client, authorizeParams(client.clientId, { request_uri: 'urn:ietf:params:oauth:request_uri:abc' })),
        status: 400,
        error: 'invalid_request',
        description: 'request_uri must not be pushed (RFC 9126 section 2.1)',
      },
      {
        name: 'no redirect_uri',
        send: () => push(t, client, authorizeParams(client.clientId, { redirect_uri: undefined })),
        status: 400,
        error: 'invalid_request',
        description: 'The request has no redirect_uri.',
      },
      {
        name: 'an unregistered redirect_uri',
        send: () => push(t, client, authorizeParams(client.clientId, { redirect_uri: 'https://evil.example/cb' })),
        status: 400,
        error: 'invalid_request',
        description: 'The redirect_uri is not registered for this application.',
      },
      {
        name: 'response_type=token',
        send: () => push(t, client, authorizeParams(client.clientId, { response_type: 'token' })),
        status: 400,
        error: 'unsupported_response_type',
        description: 'only response_type=code is supported',
      },
      {
        name: 'a client without the code flow',
        send: () => push(t, ccOnly, authorizeParams(ccOnly.clientId)),
        status: 400,
        error: 'unauthorized_client',
        description: 'this client may not use the authorization code flow',
      },
      {
        name: 'no PKCE',
        send: () => push(t, client, authorizeParams(client.clientId, { code_challenge: undefined, code_challenge_method: undefined })),
        status: 400,
        error: 'invalid_request',
        description: 'code_challenge is required (PKCE with S256)',
      },
      {
        name: 'a scope the client may not ask for',
        send: () => push(t, client, authorizeParams(client.clientId, { scope: 'openid no-such-scope' })),
        status: 400,
        error: 'invalid_scope',
        description: 'scope not allowed for this client: no-such-scope',
      },
      {
        name: 'a repeated parameter',
        send: () => push(t, client, new URLSearchParams([...authorizeParams(client.clientId), ['state', 'again']])),
        status: 400,
        error: 'invalid_request',
        description: 'state must not be repeated',
      },
      {
        name: 'a JSON body',
        send: () =>
          t.app.inject({
            method: 'POST',
            url: '/oauth/par',
            headers: { 'content-type': 'application/json', authorization: basicAuth(client.clientId, client.clientSecret!) },
            payload: JSON.stringify(Object.fromEntries(authorizeParams(client.clientId))),
          }),
        status: 400,
        error: 'invalid_request',
        description: 'the request body must be application/x-www-form-urlencoded',
      },
      {
        name: 'GET (section 2.3: 405)',
        send: () => t.app.inject({ method: 'GET', url: '/oauth/par' }),
        status: 405,
        error: 'invalid_request',
        description: '/oauth/par accepts POST, not GET',
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const res = await c.send();
        expectJsonError(res, c.status, c.error, c.description);
        if (c.status === 405) expect(res.headers.allow).toBe('POST');
      });
    }

    it('a wrong Basic secret carries a Basic challenge', async () => {
      const res = await push(t, client, authorizeParams(client.clientId), { authorization: basicAuth(client.clientId, 'wrong') });
      expect(res.headers['www-authenticate']).toBe('Basic realm="authly"');
    });
  });

  describe('the request_uri at the authorization endpoint (section 4)', () => {
    it('an unknown request_uri is an error page', async () => {
      const unknown = `urn:ietf:params:oauth:request_uri:${'A'.repeat(43)}`;
      expectErrorPage(await t.app.inject(authorizeWith(client.clientId, unknown)), UNUSABLE);
    });

    it('a request_uri that is not a pushed one (by-reference fetching is not offered) is an error page', async () => {
      expectErrorPage(
        await t.app.inject(authorizeWith(client.clientId, 'https://app.example.com/request.jwt')),
        'invalid_request_uri: request_uri must be one issued by the pushed authorization request endpoint',
      );
    });

    it('a request_uri without client_id is an error page', async () => {
      const requestUri = await pushed(client);
      expectErrorPage(
        await t.app.inject(`/oauth/authorize?${new URLSearchParams({ request_uri: requestUri })}`),
        'invalid_request: a request with a request_uri needs its client_id (RFC 9126 section 4).',
      );
    });

    it("another client's client_id does not use it up: the pushing client still can", async () => {
      const requestUri = await pushed(client, { prompt: 'none' });
      expectErrorPage(await t.app.inject(authorizeWith(publicClient.clientId, requestUri)), UNUSABLE);
      const res = await t.app.inject(authorizeWith(client.clientId, requestUri));
      expect(res.statusCode).toBe(303);
      expect(redirectParams(res).get('error')).toBe('login_required');
    });

    it('an expired request_uri is an error page', async () => {
      const requestUri = await pushed(client);
      await t.testDb.db.query("UPDATE pushed_authorization_requests SET expires_at = now() - interval '1 second' WHERE used_at IS NULL");
      expectErrorPage(await t.app.inject(authorizeWith(client.clientId, requestUri)), UNUSABLE);
    });

    it('only the pushed parameters count: redirect_uri, state and scope outside the push are ignored', async () => {
      const requestUri = await pushed(client, { prompt: 'none', state: 'from-the-push' });
      const res = await t.app.inject(
        authorizeWith(client.clientId, requestUri, { redirect_uri: 'https://evil.example/cb', state: 'from-outside', scope: 'openid profile' }),
      );
      expect(res.statusCode).toBe(303);
      const location = new URL(res.headers.location as string);
      expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
      expect(Object.fromEntries(location.searchParams)).toEqual({
        error: 'login_required',
        error_description: 'the user is not signed in',
        state: 'from-the-push',
        iss: TEST_ISSUER,
      });
    });

    it('of concurrent uses of one request_uri exactly one proceeds', async () => {
      const requestUri = await pushed(client, { prompt: 'none' });
      const results = await Promise.all(Array.from({ length: 6 }, () => t.app.inject(authorizeWith(client.clientId, requestUri))));
      expect(results.filter((r) => r.statusCode === 303)).toHaveLength(1);
      expect(results.filter((r) => r.statusCode === 400)).toHaveLength(5);
    });
  });

  describe('a client registered with require_pushed_authorization_requests (section 6)', () => {
    it('is refused a request that was not pushed, with the error sent to its redirect URI', async () => {
      const strict = await createClient(t.app, { requirePushedAuthorizationRequests: true });
      const res = await t.app.inject(`/oauth/authorize?${authorizeParams(strict.clientId)}`);
      expect(res.statusCode).toBe(303);
      expect(Object.fromEntries(redirectParams(res))).toEqual({
        error: 'invalid_request',
        error_description: 'authorization requests of this client must be pushed to the pushed authorization request endpoint first (RFC 9126)',
        state: 'st-123',
        iss: TEST_ISSUER,
      });
      const requestUri = await pushed(strict, { prompt: 'none' });
      expect(redirectParams(await t.app.inject(authorizeWith(strict.clientId, requestUri))).get('error')).toBe('login_required');
    });
  });
});

describe('REQUIRE_PUSHED_AUTHORIZATION_REQUESTS=true', () => {
  let t: TestApp;
  let client: TestClient;
  beforeAll(async () => {
    t = await createTestApp({ REQUIRE_PUSHED_AUTHORIZATION_REQUESTS: 'true' });
    client = await createClient(t.app);
  });
  afterAll(() => t.close());

  it('discovery says so, and a request that was not pushed is refused while a pushed one proceeds', async () => {
    const doc = (await t.app.inject('/.well-known/openid-configuration')).json() as Record<string, unknown>;
    expect(doc.require_pushed_authorization_requests).toBe(true);
    const refused = await t.app.inject(`/oauth/authorize?${authorizeParams(client.clientId)}`);
    expect(redirectParams(refused).get('error')).toBe('invalid_request');
    const res = await push(t, client, authorizeParams(client.clientId, { prompt: 'none' }));
    const requestUri = (res.json() as { request_uri: string }).request_uri;
    const used = await t.app.inject(`/oauth/authorize?${new URLSearchParams({ client_id: client.clientId, request_uri: requestUri })}`);
    expect(redirectParams(used).get('error')).toBe('login_required');
  });
});

describe('PAR_ENABLED=false', () => {
  let t: TestApp;
  let client: TestClient;
  beforeAll(async () => {
    t = await createTestApp({ PAR_ENABLED: 'false' });
    client = await createClient(t.app);
  });
  afterAll(() => t.close());

  it('is absent from discovery, the endpoint does not exist, and request_uri is refused as not supported', async () => {
    const doc = (await t.app.inject('/.well-known/openid-configuration')).json() as Record<string, unknown>;
    expect(doc).not.toHaveProperty('pushed_authorization_request_endpoint');
    expect(doc).not.toHaveProperty('require_pushed_authorization_requests');
    const res = await push(t, client, authorizeParams(client.clientId));
    expect(res.statusCode).toBe(404);
    const refused = await t.app.inject(`/oauth/authorize?${authorizeParams(client.clientId, { request_uri: 'urn:ietf:params:oauth:request_uri:abc' })}`);
    expect(Object.fromEntries(redirectParams(refused))).toEqual({
      error: 'request_uri_not_supported',
      error_description: 'the request_uri parameter is not supported',
      state: 'st-123',
      iss: TEST_ISSUER,
    });
  });
});

describe('require_pushed_authorization_requests through the admin API and dynamic registration', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
  });
  afterAll(() => t.close());

  it('is set and shown by the admin API, and a registered client may ask for it (RFC 9126 section 6)', async () => {
    const call = adminCall(t.app, await adminToken(t.app));
    const created = await call('POST', '/admin/clients', { client_name: 'Strict', redirect_uris: [REDIRECT_URI] });
    const clientId = (created.json() as { client_id: string }).client_id;
    expect(created.json()).toMatchObject({ require_pushed_authorization_requests: false });
    const updated = await call('PATCH', `/admin/clients/${clientId}`, { require_pushed_authorization_requests: true });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ require_pushed_authorization_requests: true });
    const refused = await t.app.inject(`/oauth/authorize?${authorizeParams(clientId)}`);
    expect(redirectParams(refused).get('error')).toBe('invalid_request');
    const wrongType = await call('PATCH', `/admin/clients/${clientId}`, { require_pushed_authorization_requests: 'yes' });
    expect(wrongType.statusCode).toBe(400);

    const registered = await register(t.app, { ...WEB_CLIENT, require_pushed_authorization_requests: true });
    expect(registered.statusCode).toBe(201);
    expect(registered.json()).toMatchObject({ require_pushed_authorization_requests: true });
    const plain = await register(t.app, WEB_CLIENT);
    expect(plain.json()).not.toHaveProperty('require_pushed_authorization_requests');
  });
});

describe('RFC 9126 section 2.3: 413 and 429 at the pushed authorization request endpoint', () => {
  let t: TestApp;
  let client: TestClient;
  beforeAll(async () => {
    t = await createTestApp({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_TOKEN_PER_MINUTE: '3' });
    client = await createClient(t.app);
  });
  afterAll(() => t.close());

  it('an oversized push gets 413 with an OAuth error', async () => {
    const res = await push(t, client, new URLSearchParams([...authorizeParams(client.clientId), ['pad', 'a'.repeat(70 * 1024)]]), {});
    expectJsonError(res, 413, 'invalid_request', 'Request body is too large');
  });

  it('pushes count against the token endpoint\'s rate limit (RATE_LIMIT_TOKEN_PER_MINUTE): 429 with Retry-After', async () => {
    const remoteAddress = '198.51.100.9';
    const send = () =>
      t.app.inject({
        method: 'POST',
        url: '/oauth/par',
        remoteAddress,
        headers: { ...FORM, authorization: basicAuth(client.clientId, client.clientSecret!) },
        payload: authorizeParams(client.clientId).toString(),
      });
    for (let i = 0; i < 3; i++) expect((await send()).statusCode).toBe(201);
    const refused = await send();
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({ error: 'rate_limited', error_description: 'too many requests; try again later' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });
});
