import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { basicAuth, createClient, REDIRECT_URI, type TestClient } from '../../helpers/fixtures.js';
import { redirectParams } from '../../helpers/browser.js';
import { authorizeParams, FORM } from '../../helpers/oauth-flow.js';
import { escapeHtml } from '../../../src/views/html.js';
import type { ClientJwks } from '../../../src/repositories/clients-repository.js';
import { adminCall, adminToken, ADMIN_ENV } from '../admin/admin-helpers.js';
import { register, WEB_CLIENT } from '../registration/registration-helpers.js';

type Alg = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';
interface SigningKey {
  alg: Alg;
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(alg: Alg, kid = `${alg}-key`): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** The parameters of an authorization request that ends in login_required: what the object carried shows in the redirect. */
const requestClaims = (clientId: string, extra: JWTPayload = {}): JWTPayload => ({
  ...Object.fromEntries(authorizeParams(clientId, { prompt: 'none', state: 'from-the-object' })),
  ...extra,
});

/** A request object as a client library signs it (RFC 9101 section 4): iss, aud, exp, typ oauth-authz-req+jwt. */
function sign(clientId: string, key: SigningKey, claims: JWTPayload, header: Record<string, unknown> = {}, lifetime: string | number = '5m'): Promise<string> {
  return new SignJWT({ iss: clientId, aud: TEST_ISSUER, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'oauth-authz-req+jwt', ...header })
    .setIssuedAt()
    .setExpirationTime(lifetime)
    .sign(key.privateKey);
}

function expectErrorPage(res: LightMyRequestResponse, detail: string) {
  expect(res.statusCode).toBe(400);
  expect(res.headers.location).toBeUndefined();
  expect(res.body).toContain(`<details><summary>Technical details</summary><p><code>${escapeHtml(detail)}</code></p></details>`);
}

/** A redirect to the client carrying the object's state: the object's parameters were used. */
function expectObjectUsed(res: LightMyRequestResponse) {
  expect(res.statusCode).toBe(303);
  const location = new URL(res.headers.location as string);
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
  expect(Object.fromEntries(location.searchParams)).toEqual({
    error: 'login_required',
    error_description: 'the user is not signed in',
    state: 'from-the-object',
    iss: TEST_ISSUER,
  });
}

describe('signed request objects (RFC 9101)', () => {
  let t: TestApp;
  const keys = {} as Record<Alg, SigningKey>;
  let client: TestClient;
  let noKeys: TestClient;
  let unsigned: TestClient;
  let esOnly: TestClient;
  let strict: TestClient;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA'] as const) keys[alg] = await signingKey(alg);
    const jwks = { keys: Object.values(keys).map((k) => k.jwk) } as unknown as ClientJwks;
    client = await createClient(t.app, { jwks });
    noKeys = await createClient(t.app);
    unsigned = await createClient(t.app, { requestObjectSigningAlg: 'none' });
    esOnly = await createClient(t.app, { jwks, requestObjectSigningAlg: 'ES256' });
    strict = await createClient(t.app, { jwks, requireSignedRequestObject: true });
  });
  afterAll(() => t.close());

  const authorize = (clientId: string, request: string, outside: Record<string, string> = {}) =>
    t.app.inject(`/oauth/authorize?${new URLSearchParams({ client_id: clientId, request, ...outside })}`);
  const push = (c: TestClient, form: Record<string, string>) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/par',
      headers: { ...FORM, authorization: basicAuth(c.clientId, c.clientSecret!) },
      payload: new URLSearchParams(form).toString(),
    });

  it('discovery advertises the request parameter and the asymmetric algs', async () => {
    const doc = (await t.app.inject('/.well-known/openid-configuration')).json() as Record<string, unknown>;
    expect(doc.request_parameter_supported).toBe(true);
    expect(doc.request_object_signing_alg_values_supported).toEqual(['RS256', 'PS256', 'ES256', 'EdDSA', 'HS256', 'HS384', 'HS512']);
    expect(doc.request_uri_parameter_supported).toBe(false);
  });

  it.each(['RS256', 'PS256', 'ES256', 'EdDSA'] as const)('accepts a request object signed with %s by a registered key', async (alg) => {
    expectObjectUsed(await authorize(client.clientId, await sign(client.clientId, keys[alg], requestClaims(client.clientId))));
  });

  it("uses only the object's parameters (section 6.3): redirect_uri, state and scope outside it are ignored", async () => {
    const request = await sign(client.clientId, keys.ES256, requestClaims(client.clientId));
    expectObjectUsed(await authorize(client.clientId, request, { redirect_uri: 'https://evil.example/cb', state: 'outside', scope: 'openid profile' }));
  });

  it('takes JSON claim values as parameters: a number as its text, an array as repeated values (refused unless repeatable)', async () => {
    expectObjectUsed(await authorize(client.clientId, await sign(client.clientId, keys.ES256, requestClaims(client.clientId, { max_age: 0 }))));
    const repeated = await authorize(client.clientId, await sign(client.clientId, keys.ES256, requestClaims(client.clientId, { scope: ['openid', 'email'] })));
    expect(Object.fromEntries(redirectParams(repeated))).toEqual({
      error: 'invalid_request',
      error_description: 'scope must not be repeated',
      state: 'from-the-object',
      iss: TEST_ISSUER,
    });
  });

  it('accepts alg none only from a client registered with request_object_signing_alg none', async () => {
    const none = (clientId: string) =>
      new UnsecuredJWT({ iss: clientId, aud: TEST_ISSUER, ...requestClaims(clientId) }).setExpirationTime('5m').encode();
    expectObjectUsed(await authorize(unsigned.clientId, none(unsigned.clientId)));
    expectErrorPage(await authorize(client.clientId, none(client.clientId)), 'invalid_request_object: unsigned request objects (alg none) are refused for this client');
  });

  const hmacSigned = (clientId: string, secret: string, alg = 'HS256') =>
    new SignJWT({ iss: clientId, aud: TEST_ISSUER, ...requestClaims(clientId) })
      .setProtectedHeader({ alg })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(secret));

  it('refuses an HS256 object signed with the secret of a client that does not use client_secret_jwt', async () => {
    expectErrorPage(
      await authorize(noKeys.clientId, await hmacSigned(noKeys.clientId, noKeys.clientSecret!)),
      'invalid_request_object: HS256 request objects are accepted only from clients that authenticate with client_secret_jwt',
    );
  });

  it('accepts HS256 and HS512 objects from a client_secret_jwt client, keyed with its secret, and refuses another key', async () => {
    const call = adminCall(t.app, await adminToken(t.app));
    const created = await call('POST', '/admin/clients', {
      client_name: 'HMAC requests',
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'client_secret_jwt',
      token_endpoint_auth_signing_alg: 'HS256',
    });
    expect(created.statusCode).toBe(201);
    const { client_id: clientId, client_secret: secret } = created.json() as { client_id: string; client_secret: string };
    expectObjectUsed(await authorize(clientId, await hmacSigned(clientId, secret)));
    expectObjectUsed(await authorize(clientId, await hmacSigned(clientId, secret, 'HS512')));
    expectErrorPage(await authorize(clientId, await hmacSigned(clientId, `${secret}x`)), 'invalid_request_object: request signature is not valid');
  });

  describe('refusals, as an error page (the redirect_uri is inside the object, so it is not trusted)', () => {
    const cases: { name: string; clientOf: () => TestClient; request: () => Promise<string>; detail: string }[] = [
      {
        name: 'a bad signature (another key under a registered kid)',
        clientOf: () => client,
        request: async () => sign(client.clientId, { ...(await signingKey('ES256')), kid: keys.ES256.kid }, requestClaims(client.clientId)),
        detail: 'request signature is not valid',
      },
      {
        name: 'a key the client never registered',
        clientOf: () => client,
        request: async () => sign(client.clientId, await signingKey('ES256', 'unknown-kid'), requestClaims(client.clientId)),
        detail: 'no registered key of the client matches the request signature',
      },
      {
        name: 'an alg other than the registered request_object_signing_alg',
        clientOf: () => esOnly,
        request: () => sign(esOnly.clientId, keys.RS256, requestClaims(esOnly.clientId)),
        detail: 'this client signs its request objects with ES256',
      },
      {
        name: 'a client without registered keys',
        clientOf: () => noKeys,
        request: () => sign(noKeys.clientId, keys.ES256, requestClaims(noKeys.clientId)),
        detail: 'the client has no registered keys (jwks or jwks_uri) to verify request objects with',
      },
      {
        name: 'iss other than the client_id',
        clientOf: () => client,
        request: () => sign(client.clientId, keys.ES256, requestClaims(client.clientId, { iss: 'someone-else' })),
        detail: 'request iss must be the client_id',
      },
      {
        name: 'aud other than the issuer',
        clientOf: () => client,
        request: () => sign(client.clientId, keys.ES256, requestClaims(client.clientId, { aud: 'https://other.example' })),
        detail: 'request aud must be the issuer',
      },
      {
        name: 'expired',
        clientOf: () => client,
        request: () => sign(client.clientId, keys.ES256, requestClaims(client.clientId), {}, Math.floor(Date.now() / 1000) - 120),
        detail: 'request has expired',
      },
      {
        name: 'no exp',
        clientOf: () => client,
        request: () =>
          new SignJWT({ iss: client.clientId, aud: TEST_ISSUER, ...requestClaims(client.clientId) })
            .setProtectedHeader({ alg: 'ES256', kid: keys.ES256.kid })
            .sign(keys.ES256.privateKey),
        detail: 'request must have an exp claim',
      },
      {
        name: 'exp more than an hour away',
        clientOf: () => client,
        request: () => sign(client.clientId, keys.ES256, requestClaims(client.clientId), {}, '2h'),
        detail: 'request exp must be at most 3600 seconds away',
      },
      {
        name: 'a client_id inside other than the outer one',
        clientOf: () => client,
        request: () => sign(client.clientId, keys.ES256, requestClaims(client.clientId, { client_id: noKeys.clientId })),
        detail: 'request client_id does not match the client_id parameter',
      },
      {
        name: 'a request_uri inside the object',
        clientOf: () => client,
        request: () => sign(client.clientId, keys.ES256, requestClaims(client.clientId, { request_uri: 'urn:ietf:params:oauth:request_uri:x' })),
        detail: 'request must not contain request or request_uri',
      },
      {
        name: 'a typ of another kind of JWT (an access token)',
        clientOf: () => client,
        request: () => sign(client.clientId, keys.ES256, requestClaims(client.clientId), { typ: 'at+jwt' }),
        detail: 'request has a typ other than oauth-authz-req+jwt',
      },
      {
        name: 'a claim that the edge would refuse in a query (NUL)',
        clientOf: () => client,
        request: () => sign(client.clientId, keys.ES256, requestClaims(client.clientId, { login_hint: 'a\u0000b' })),
        detail: 'request claim login_hint must be UTF-8 text without NUL characters',
      },
      {
        name: 'not a JWT',
        clientOf: () => client,
        request: async () => 'not-a-jwt',
        detail: 'request is not a JWT',
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        expectErrorPage(await authorize(c.clientOf().clientId, await c.request()), `invalid_request_object: ${c.detail}`);
      });
    }
  });

  it('request and request_uri together are refused', async () => {
    const request = await sign(client.clientId, keys.ES256, requestClaims(client.clientId));
    expectErrorPage(
      await authorize(client.clientId, request, { request_uri: `urn:ietf:params:oauth:request_uri:${'A'.repeat(43)}` }),
      'invalid_request: request and request_uri cannot be sent together.',
    );
  });

  describe('inside a pushed authorization request', () => {
    it('is verified at the push, and its parameters are the ones used with the request_uri', async () => {
      const res = await push(client, { client_id: client.clientId, request: await sign(client.clientId, keys.EdDSA, requestClaims(client.clientId)) });
      expect(res.statusCode).toBe(201);
      const { request_uri: requestUri } = res.json() as { request_uri: string };
      expectObjectUsed(await t.app.inject(`/oauth/authorize?${new URLSearchParams({ client_id: client.clientId, request_uri: requestUri })}`));
    });

    it('a bad one is a JSON 400 invalid_request_object', async () => {
      const request = await sign(client.clientId, keys.ES256, requestClaims(client.clientId, { aud: 'https://other.example' }));
      const res = await push(client, { client_id: client.clientId, request });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_request_object', error_description: 'request aud must be the issuer' });
    });
  });

  describe('a client registered with require_signed_request_object (section 10.5)', () => {
    it('is refused a plain request, pushed or not, and accepted with a signed object', async () => {
      const plain = await t.app.inject(`/oauth/authorize?${authorizeParams(strict.clientId)}`);
      expect(Object.fromEntries(redirectParams(plain))).toEqual({
        error: 'invalid_request',
        error_description: 'this client must send its authorization requests as signed request objects (RFC 9101 section 10.5)',
        state: 'st-123',
        iss: TEST_ISSUER,
      });
      const pushedPlain = await push(strict, Object.fromEntries(authorizeParams(strict.clientId)));
      expect(pushedPlain.statusCode).toBe(400);
      expect(pushedPlain.json()).toEqual({
        error: 'invalid_request',
        error_description: 'this client must send its authorization requests as signed request objects (RFC 9101 section 10.5)',
      });
      expectObjectUsed(await authorize(strict.clientId, await sign(strict.clientId, keys.RS256, requestClaims(strict.clientId))));
      const pushedSigned = await push(strict, { client_id: strict.clientId, request: await sign(strict.clientId, keys.PS256, requestClaims(strict.clientId)) });
      const { request_uri: requestUri } = pushedSigned.json() as { request_uri: string };
      expectObjectUsed(await t.app.inject(`/oauth/authorize?${new URLSearchParams({ client_id: strict.clientId, request_uri: requestUri })}`));
    });
  });

  it('the admin API and dynamic registration take request_object_signing_alg and require_signed_request_object', async () => {
    const call = adminCall(t.app, await adminToken(t.app));
    const created = await call('POST', '/admin/clients', {
      client_name: 'Signed requests',
      redirect_uris: [REDIRECT_URI],
      request_object_signing_alg: 'PS256',
      require_signed_request_object: true,
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ request_object_signing_alg: 'PS256', require_signed_request_object: true });
    const contradiction = await call('POST', '/admin/clients', {
      client_name: 'Unsigned but required',
      redirect_uris: [REDIRECT_URI],
      request_object_signing_alg: 'none',
      require_signed_request_object: true,
    });
    expect(contradiction.statusCode).toBe(400);
    expect(contradiction.json()).toMatchObject({
      error: 'validation_failed',
      fields: { request_object_signing_alg: 'cannot be none when require_signed_request_object is true (RFC 9101 section 10.5)' },
    });
    const hs = await call('POST', '/admin/clients', { client_name: 'HS', redirect_uris: [REDIRECT_URI], request_object_signing_alg: 'HS256' });
    expect(hs.statusCode).toBe(400);

    const registered = await register(t.app, { ...WEB_CLIENT, request_object_signing_alg: 'ES256', require_signed_request_object: true });
    expect(registered.statusCode).toBe(201);
    expect(registered.json()).toMatchObject({ request_object_signing_alg: 'ES256', require_signed_request_object: true });
    const refused = await register(t.app, { ...WEB_CLIENT, request_object_signing_alg: 'HS256' });
    expect(refused.statusCode).toBe(400);
    expect((refused.json() as { error: string }).error).toBe('invalid_client_metadata');
  });
});

describe('REQUEST_OBJECTS_ENABLED=false', () => {
  let t: TestApp;
  let client: TestClient;
  beforeAll(async () => {
    t = await createTestApp({ REQUEST_OBJECTS_ENABLED: 'false' });
    client = await createClient(t.app);
  });
  afterAll(() => t.close());

  it('discovery says request objects are not supported, and request is refused with request_not_supported', async () => {
    const doc = (await t.app.inject('/.well-known/openid-configuration')).json() as Record<string, unknown>;
    expect(doc.request_parameter_supported).toBe(false);
    expect(doc).not.toHaveProperty('request_object_signing_alg_values_supported');
    const res = await t.app.inject(`/oauth/authorize?${authorizeParams(client.clientId, { request: 'eyJhbGciOiJub25lIn0.e30.' })}`);
    expect(Object.fromEntries(redirectParams(res))).toEqual({
      error: 'request_not_supported',
      error_description: 'the request parameter is not supported',
      state: 'st-123',
      iss: TEST_ISSUER,
    });
  });
});
