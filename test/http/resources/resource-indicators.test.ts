import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { basicAuth, createClient, createUser, pkcePair, REDIRECT_URI, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { csrfToken, formAction, InjectBrowser, redirectParams } from '../../helpers/browser.js';
import { authorizeParams, completeInteraction, exchangeCode, tokenRequest, userinfo, type Tokens } from '../../helpers/oauth-flow.js';
import { introspect } from '../../helpers/token-management.js';
import { adminCall, ADMIN_ENV, requestToken } from '../admin/admin-helpers.js';
import { insertResource, type NewResource } from '../../../src/repositories/resources-repository.js';
import { insertScope } from '../../../src/repositories/scopes-repository.js';
import type { User } from '../../../src/repositories/users-repository.js';

/**
 * RFC 8707 resource indicators: `resource` at the authorization and token endpoints, the audience and scopes
 * of the tokens issued, per-resource token settings, introspection by a resource's own client, and the admin
 * API's refusal of tokens for another audience. Resources are inserted directly (the admin API for them has
 * its own suite).
 */

const API_A = 'https://api-a.example.com';
const API_B = 'https://api-b.example.com/mcp';
const API_C = 'https://api-c.example.com';
const API_OPAQUE = 'https://opaque.example.com';
const API_RS256 = 'https://rs256.example.com';
const API_ADMINISH = 'https://adminish.example.com';

const resource = (identifier: string, overrides: Partial<NewResource> = {}): NewResource => ({
  identifier,
  name: `API ${identifier}`,
  scopes: [],
  accessTokenFormat: null,
  accessTokenTtlSeconds: null,
  signingAlg: null,
  clientIds: [],
  ...overrides,
});

/** The authorization request's query with every `resource` value appended (the parameter may repeat). */
function authorizeWith(clientId: string, resources: string[], overrides: Record<string, string | undefined> = {}) {
  const { verifier, challenge } = pkcePair();
  const q = authorizeParams(clientId, { code_challenge: challenge, ...overrides });
  for (const r of resources) q.append('resource', r);
  return { url: `/oauth/authorize?${q}`, verifier };
}

function postToken(t: TestApp, client: TestClient, form: Record<string, string>, resources: string[] = []): Promise<LightMyRequestResponse> {
  const body = new URLSearchParams(form);
  for (const r of resources) body.append('resource', r);
  return t.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basicAuth(client.clientId, client.clientSecret!),
    },
    payload: body.toString(),
  });
}

describe('resource indicators (RFC 8707)', () => {
  let t: TestApp;
  let client: TestClient;
  let service: TestClient;
  let rsA: TestClient;
  let rsB: TestClient;
  let user: User;

  beforeAll(async () => {
    // The widest reuse grace window: the repeat below must land inside it on a loaded machine.
    t = await createTestApp({ ...ADMIN_ENV, JWT_ALGORITHM: 'ES256', REFRESH_TOKEN_REUSE_GRACE_SECONDS: '60' });
    for (const name of ['read:a', 'write:a', 'read:b']) await insertScope(t.testDb.db, { name, description: name, isDefault: false });
    client = await createClient(t.app, { scope: 'openid profile email offline_access read:a write:a read:b' });
    service = await createClient(t.app, { grantTypes: ['client_credentials'], scope: 'read:a read:b authly:admin' });
    rsA = await createClient(t.app, { grantTypes: ['client_credentials'], scope: '' });
    rsB = await createClient(t.app, { grantTypes: ['client_credentials'], scope: '' });
    user = await createUser(t.app);
    await insertResource(t.testDb.db, resource(API_A, { scopes: ['read:a', 'write:a'], clientIds: [rsA.clientId] }));
    await insertResource(t.testDb.db, resource(API_B, { scopes: ['read:b'], clientIds: [rsB.clientId] }));
    await insertResource(t.testDb.db, resource(API_C, { scopes: ['read:a'] }));
    await insertResource(t.testDb.db, resource(API_OPAQUE, { scopes: ['read:a'], accessTokenFormat: 'opaque', accessTokenTtlSeconds: 120, clientIds: [rsA.clientId] }));
    await insertResource(t.testDb.db, resource(API_RS256, { scopes: ['read:a'], signingAlg: 'RS256', accessTokenTtlSeconds: 300 }));
    await insertResource(t.testDb.db, resource(API_ADMINISH, { scopes: ['authly:admin'] }));
  });
  afterAll(() => t.close());

  /** Login and consent in a fresh browser; the response that leaves the interaction. */
  async function authorize(c: TestClient, resources: string[], overrides: Record<string, string | undefined> = {}) {
    const browser = new InjectBrowser(t.app);
    const { url, verifier } = authorizeWith(c.clientId, resources, overrides);
    const start = await browser.get(url);
    const done = await completeInteraction(browser, start, { username: user.username });
    return { done, verifier, params: redirectParams(done) };
  }

  async function codeFor(resources: string[], scope = 'openid read:a read:b offline_access') {
    const { params, verifier } = await authorize(client, resources, { scope });
    const code = params.get('code');
    if (!code) throw new Error(`no code: ${params}`);
    return { code, verifier };
  }

  async function tokensFor(resources: string[], exchangeResources: string[] = [], scope?: string): Promise<Tokens> {
    const code = await codeFor(resources, scope);
    const res = await postToken(t, client, { grant_type: 'authorization_code', code: code.code, redirect_uri: REDIRECT_URI, code_verifier: code.verifier }, exchangeResources);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Tokens;
  }

  const errorRedirect = (error: string, description: string) => ({ error, error_description: description, state: 'st-123', iss: TEST_ISSUER });

  describe('at the authorization endpoint', () => {
    it.each([
      ['an unknown resource', ['https://unknown.example.com'], 'resource is not a registered resource this client may request'],
      ['a relative reference', ['/api'], 'resource is not an absolute URI'],
      ['a value with a fragment', [`${API_A}#frag`], 'resource must not contain a fragment'],
      ['a value with user information', ['https://user@api-a.example.com'], 'resource must not contain user information'],
      ['a known and an unknown resource', [API_A, 'urn:example:nothing'], 'resource is not a registered resource this client may request'],
    ])('refuses %s with invalid_target at the redirect URI', async (_name, resources, description) => {
      const browser = new InjectBrowser(t.app);
      const res = await browser.get(authorizeWith(client.clientId, resources).url);
      expect(res.statusCode).toBe(303);
      expect(res.headers.location!.startsWith(`${REDIRECT_URI}?`)).toBe(true);
      expect(Object.fromEntries(redirectParams(res))).toEqual(errorRedirect('invalid_target', description));
    });

    it('refuses a resource the client is not allowed, exactly like an unknown one', async () => {
      const limited = await createClient(t.app, { scope: 'openid read:a read:b', allowedResources: [API_B] });
      const browser = new InjectBrowser(t.app);
      const res = await browser.get(authorizeWith(limited.clientId, [API_A]).url);
      expect(Object.fromEntries(redirectParams(res))).toEqual(
        errorRedirect('invalid_target', 'resource is not a registered resource this client may request'),
      );
      const allowed = await browser.get(authorizeWith(limited.clientId, [API_B]).url);
      expect(allowed.statusCode).toBe(303);
      expect(allowed.headers.location).toMatch(/^\/interaction\//);
    });

    it('refuses explicitly requested scopes none of which the resource accepts (invalid_scope)', async () => {
      const browser = new InjectBrowser(t.app);
      const res = await browser.get(authorizeWith(client.clientId, [API_B], { scope: 'read:a' }).url);
      expect(Object.fromEntries(redirectParams(res))).toEqual(
        errorRedirect('invalid_scope', 'none of the requested scopes is accepted by the requested resource'),
      );
    });

    it('names the resources on the consent page', async () => {
      const browser = new InjectBrowser(t.app);
      const start = await browser.get(authorizeWith(client.clientId, [API_A, API_B], { scope: 'openid read:a' }).url);
      const login = await browser.get(start.headers.location as string);
      const afterLogin = await browser.post(formAction(login.body), { csrf_token: csrfToken(login.body), username: user.username, password: TEST_PASSWORD });
      const consent = await browser.get(afterLogin.headers.location as string);
      expect(consent.statusCode).toBe(200);
      expect(consent.body).toContain(`<ul class="resources"><li><strong>API ${API_A}</strong> <span class="muted">${API_A}</span></li><li><strong>API ${API_B}</strong> <span class="muted">${API_B}</span></li></ul>`);
    });

    it('accepts repeated values, in any case of scheme and host, and issues a token for all of them', async () => {
      const tokens = await tokensFor(['HTTPS://API-A.Example.com/', API_B, API_A]);
      const claims = decodeJwt(tokens.access_token);
      expect(claims.aud).toEqual([API_A, API_B]);
      expect(claims.scope).toBe('openid read:a read:b offline_access');
      expect(tokens.scope).toBe('openid read:a read:b offline_access');
    });
  });

  describe('the code exchange', () => {
    it('without resource: the grant resource, with the scopes it accepts plus the OpenID scopes', async () => {
      const tokens = await tokensFor([API_A]);
      const claims = decodeJwt(tokens.access_token);
      expect(claims.aud).toBe(API_A);
      expect(claims.scope).toBe('openid read:a offline_access');
      expect(tokens.scope).toBe('openid read:a offline_access');
      expect(tokens.expires_in).toBe(900);
      expect(claims.exp! - claims.iat!).toBe(900);
      expect(decodeProtectedHeader(tokens.access_token).alg).toBe('ES256');
      // The ID token is for the client, whatever the access token's audience.
      expect(decodeJwt(tokens.id_token!).aud).toBe(client.clientId);
    });

    it('with one of the granted resources: a token for it alone', async () => {
      const tokens = await tokensFor([API_A, API_B], [API_B]);
      const claims = decodeJwt(tokens.access_token);
      expect(claims.aud).toBe(API_B);
      expect(tokens.scope).toBe('openid read:b offline_access');
    });

    it('with a resource that was not granted: 400 invalid_target', async () => {
      const code = await codeFor([API_A]);
      const res = await postToken(t, client, { grant_type: 'authorization_code', code: code.code, redirect_uri: REDIRECT_URI, code_verifier: code.verifier }, [API_B]);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_target', error_description: 'resource was not part of the authorization grant' });
    });

    it('with a malformed resource: 400 invalid_target', async () => {
      const code = await codeFor([API_A]);
      const res = await postToken(t, client, { grant_type: 'authorization_code', code: code.code, redirect_uri: REDIRECT_URI, code_verifier: code.verifier }, ['api-a']);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_target', error_description: 'resource is not an absolute URI' });
    });

    it('without any resource: the issuer, exactly as before', async () => {
      const tokens = await tokensFor([]);
      const claims = decodeJwt(tokens.access_token);
      expect(claims.aud).toBe(TEST_ISSUER);
      expect(tokens.scope).toBe('openid read:a read:b offline_access');
    });

    it('a repeated resource is accepted at the token endpoint but any other repeated parameter is not', async () => {
      const code = await codeFor([API_A]);
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(client.clientId, client.clientSecret!) },
        payload: `grant_type=authorization_code&code=${code.code}&code=${code.code}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_verifier=${code.verifier}`,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'code must not be repeated' });
    });
  });

  describe('refresh', () => {
    it('remembers the granted resources, downscopes to one of them, refuses a new one, and a rotated token keeps them', async () => {
      const tokens = await tokensFor([API_A, API_B]);
      const refresh = (token: string, resources: string[], extra: Record<string, string> = {}) =>
        postToken(t, client, { grant_type: 'refresh_token', refresh_token: token, ...extra }, resources);

      const refused = await refresh(tokens.refresh_token!, [API_C]);
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toEqual({ error: 'invalid_target', error_description: 'resource was not part of the authorization grant' });

      const toB = await refresh(tokens.refresh_token!, [API_B]);
      expect(toB.statusCode, toB.body).toBe(200);
      const b = toB.json() as Tokens;
      expect(decodeJwt(b.access_token).aud).toBe(API_B);
      expect(b.scope).toBe('openid read:b offline_access');

      // A repeat within the grace window: the same successor, and an access token for the resource asked.
      const repeat = await refresh(tokens.refresh_token!, [API_A]);
      expect(repeat.statusCode, repeat.body).toBe(200);
      const r = repeat.json() as Tokens;
      expect(r.refresh_token).toBe(b.refresh_token);
      expect(decodeJwt(r.access_token).aud).toBe(API_A);
      expect(r.scope).toBe('openid read:a offline_access');
      const repeatRefused = await refresh(tokens.refresh_token!, [API_C]);
      expect(repeatRefused.statusCode).toBe(400);
      expect(repeatRefused.json()).toEqual({ error: 'invalid_target', error_description: 'resource was not part of the authorization grant' });

      // The successor remembers both resources: without resource, a token for both again.
      const both = await refresh(b.refresh_token!, []);
      expect(both.statusCode, both.body).toBe(200);
      const all = both.json() as Tokens;
      expect(decodeJwt(all.access_token).aud).toEqual([API_A, API_B]);
      expect(all.scope).toBe('openid read:a read:b offline_access');

      const toA = await refresh(all.refresh_token!, [API_A], { scope: 'openid read:a' });
      expect(toA.statusCode, toA.body).toBe(200);
      const a = toA.json() as Tokens;
      expect(decodeJwt(a.access_token).aud).toBe(API_A);
      expect(a.scope).toBe('openid read:a');

      const none = await refresh(a.refresh_token!, [API_B], { scope: 'read:a' });
      expect(none.statusCode).toBe(400);
      expect(none.json()).toEqual({ error: 'invalid_scope', error_description: 'none of the requested scopes is accepted by the requested resource' });
    });

    it('a grant without resources refuses a resource at refresh', async () => {
      const tokens = await tokensFor([]);
      const res = await postToken(t, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }, [API_A]);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_target', error_description: 'resource was not part of the authorization grant' });
    });
  });

  describe('client_credentials', () => {
    it('with a resource: aud is the resource and the scopes are those it accepts', async () => {
      const res = await postToken(t, service, { grant_type: 'client_credentials' }, [API_A]);
      expect(res.statusCode, res.body).toBe(200);
      const tokens = res.json() as Tokens;
      expect(tokens.scope).toBe('read:a');
      const claims = decodeJwt(tokens.access_token);
      expect(claims.aud).toBe(API_A);
      expect(claims.scope).toBe('read:a');
      expect(claims.sub).toBe(service.clientId);
      // The audit line names the audience (identifiers only, never the token).
      const issued = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.log === 'audit' && l.event === 'token.issued' && l.jti === claims.jti);
      expect(issued).toHaveLength(1);
      expect(issued[0]).toMatchObject({ client_id: service.clientId, grant_type: 'client_credentials', scope: 'read:a', audience: API_A });
    });

    it.each([
      ['an unknown resource', { grant_type: 'client_credentials' }, ['https://nowhere.example.com'], 'invalid_target', 'resource is not a registered resource this client may request'],
      ['a fragment', { grant_type: 'client_credentials' }, [`${API_A}#x`], 'invalid_target', 'resource must not contain a fragment'],
      ['an empty-path relative value', { grant_type: 'client_credentials' }, ['api-a.example.com'], 'invalid_target', 'resource is not an absolute URI'],
      ['scopes the resource does not accept', { grant_type: 'client_credentials', scope: 'read:b' }, [API_A], 'invalid_scope', 'none of the requested scopes is accepted by the requested resource'],
    ])('refuses %s', async (_name, form, resources, error, description) => {
      const res = await postToken(t, service, form, resources);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error, error_description: description });
    });

    it('refuses a resource the client is not allowed', async () => {
      const limited = await createClient(t.app, { grantTypes: ['client_credentials'], scope: 'read:a', allowedResources: [API_C] });
      const res = await postToken(t, limited, { grant_type: 'client_credentials' }, [API_A]);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_target', error_description: 'resource is not a registered resource this client may request' });
      const ok = await postToken(t, limited, { grant_type: 'client_credentials' }, [API_C]);
      expect(ok.statusCode).toBe(200);
      expect(decodeJwt((ok.json() as Tokens).access_token).aud).toBe(API_C);
    });

    it('refuses more than 16 resources', async () => {
      const many = Array.from({ length: 17 }, (_, i) => `https://r${i}.example.com`);
      const res = await postToken(t, service, { grant_type: 'client_credentials' }, many);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_target', error_description: 'at most 16 resource values are accepted' });
    });

    it('without a resource: the issuer and every scope, as before', async () => {
      const res = await postToken(t, service, { grant_type: 'client_credentials', scope: 'read:a read:b' });
      const claims = decodeJwt((res.json() as Tokens).access_token);
      expect(claims.aud).toBe(TEST_ISSUER);
      expect(claims.scope).toBe('read:a read:b');
    });
  });

  describe('per-resource token settings', () => {
    it('an opaque resource with its own lifetime: opaque token, expires_in and introspected aud follow it', async () => {
      const res = await postToken(t, service, { grant_type: 'client_credentials' }, [API_OPAQUE]);
      expect(res.statusCode, res.body).toBe(200);
      const tokens = res.json() as Tokens;
      expect(tokens.expires_in).toBe(120);
      expect(tokens.access_token.split('.')).toHaveLength(1);
      const active = await introspect(t.app, rsA, { token: tokens.access_token });
      const body = active.json() as { iat: number; exp: number };
      expect(body).toEqual({
        active: true,
        scope: 'read:a',
        client_id: service.clientId,
        sub: service.clientId,
        aud: API_OPAQUE,
        iss: TEST_ISSUER,
        exp: body.iat + 120,
        iat: body.iat,
        token_type: 'Bearer',
      });
      expect(await introspect(t.app, rsB, { token: tokens.access_token }).then((r) => r.json())).toEqual({ active: false });
    });

    it('a resource with its own alg and lifetime: the JWT is signed with it', async () => {
      const tokens = await tokensFor([API_RS256], [], 'openid read:a');
      expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
      const claims = decodeJwt(tokens.access_token);
      expect(claims.exp! - claims.iat!).toBe(300);
      expect(tokens.expires_in).toBe(300);
      // A JWT access token of a resource verifies like any other: userinfo accepts it.
      expect((await userinfo(t.app, tokens.access_token)).statusCode).toBe(200);
    });

    it('several resources: the shortest lifetime, jwt unless all ask for opaque', async () => {
      const res = await postToken(t, service, { grant_type: 'client_credentials' }, [API_OPAQUE, API_RS256]);
      const tokens = res.json() as Tokens;
      expect(tokens.expires_in).toBe(120);
      const claims = decodeJwt(tokens.access_token);
      expect(claims.aud).toEqual([API_OPAQUE, API_RS256]);
      expect(claims.exp! - claims.iat!).toBe(120);
      // The algs differ (one unset: the server's ES256): the server's.
      expect(decodeProtectedHeader(tokens.access_token).alg).toBe('ES256');
    });
  });

  describe('who accepts a resource token', () => {
    it("introspection: the resource's own client sees it active, another resource's client inactive", async () => {
      const tokens = await tokensFor([API_A]);
      const claims = decodeJwt(tokens.access_token);
      const res = await introspect(t.app, rsA, { token: tokens.access_token });
      expect(res.json()).toEqual({
        active: true,
        scope: 'openid read:a offline_access',
        client_id: client.clientId,
        sub: user.id,
        aud: API_A,
        iss: TEST_ISSUER,
        exp: claims.exp,
        iat: claims.iat,
        token_type: 'Bearer',
        jti: claims.jti,
        username: user.username,
      });
      expect((await introspect(t.app, rsB, { token: tokens.access_token })).json()).toEqual({ active: false });
      // Refresh tokens are unchanged: only their owner introspects them.
      expect((await introspect(t.app, rsA, { token: tokens.refresh_token! })).json()).toEqual({ active: false });
      // A token for the issuer is nobody's resource.
      const issuerToken = await tokensFor([]);
      expect((await introspect(t.app, rsA, { token: issuerToken.access_token })).json()).toEqual({ active: false });
    });

    it('userinfo accepts a resource token that carries openid', async () => {
      const tokens = await tokensFor([API_B], [], 'openid email read:b');
      expect(decodeJwt(tokens.access_token).aud).toBe(API_B);
      const res = await userinfo(t.app, tokens.access_token);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ sub: user.id, email: user.email, email_verified: true });
    });

    it('the admin API refuses a token for another audience, even one carrying authly:admin', async () => {
      const res = await postToken(t, service, { grant_type: 'client_credentials', scope: 'authly:admin' }, [API_ADMINISH]);
      expect(res.statusCode, res.body).toBe(200);
      const tokens = res.json() as Tokens;
      expect(tokens.scope).toBe('authly:admin');
      expect(decodeJwt(tokens.access_token).aud).toBe(API_ADMINISH);
      const refused = await adminCall(t.app, tokens.access_token)('GET', '/admin/clients');
      expect(refused.statusCode).toBe(401);
      expect(refused.json()).toEqual({ error: 'invalid_token', error_description: 'the access token is not for this API' });
      expect(refused.headers['www-authenticate']).toBe('Bearer realm="authly", error="invalid_token", error_description="the access token is not for this API"');
      // The same client's token for the issuer opens it.
      const issuer = await postToken(t, service, { grant_type: 'client_credentials', scope: 'authly:admin' });
      expect((await adminCall(t.app, (issuer.json() as Tokens).access_token)('GET', '/admin/clients')).statusCode).toBe(200);
    });
  });
});

describe('DEFAULT_RESOURCE', () => {
  const DEFAULT = 'https://default.example.com';
  let t: TestApp;
  let service: TestClient;

  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, DEFAULT_RESOURCE: 'HTTPS://Default.Example.com/', ACCESS_TOKEN_FORMAT: 'opaque' });
    for (const name of ['read:d', 'other']) await insertScope(t.testDb.db, { name, description: name, isDefault: false });
    service = await createClient(t.app, { grantTypes: ['client_credentials'], scope: 'read:d other' });
  });
  afterAll(() => t.close());

  it('is canonicalized', () => {
    expect(t.config.defaultResource).toBe(DEFAULT);
  });

  it('while not registered: a start-up warning, and tokens keep the issuer audience', async () => {
    const warning = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.variable === 'DEFAULT_RESOURCE');
    expect(warning).toMatchObject({
      level: 40,
      resource: DEFAULT,
      msg: 'DEFAULT_RESOURCE names no registered resource: access tokens keep the issuer as audience until it is created',
    });
    const res = await postToken(t, service, { grant_type: 'client_credentials' });
    expect(res.statusCode, res.body).toBe(200);
    const introspected = (await introspect(t.app, service, { token: (res.json() as Tokens).access_token })).json() as Record<string, unknown>;
    expect(introspected.aud).toBe(TEST_ISSUER);
    expect(introspected.scope).toBe('read:d other');
  });

  it('once registered: tokens without resource are for it, with its scopes; admin tokens keep the issuer', async () => {
    await insertResource(t.testDb.db, resource(DEFAULT, { scopes: ['read:d'], accessTokenFormat: 'jwt', accessTokenTtlSeconds: 60 }));
    const res = await postToken(t, service, { grant_type: 'client_credentials' });
    expect(res.statusCode, res.body).toBe(200);
    const tokens = res.json() as Tokens;
    expect(tokens).toMatchObject({ scope: 'read:d', expires_in: 60, token_type: 'Bearer' });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: DEFAULT, scope: 'read:d' });

    const explicit = await postToken(t, service, { grant_type: 'client_credentials', scope: 'other' });
    expect(explicit.statusCode).toBe(400);
    expect(explicit.json()).toEqual({ error: 'invalid_scope', error_description: 'none of the requested scopes is accepted by the requested resource' });

    const admin = await requestToken(t.app, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET, 'authly:admin');
    expect(admin.statusCode).toBe(200);
    const adminAccess = (admin.json() as Tokens).access_token;
    expect((await adminCall(t.app, adminAccess)('GET', '/admin/clients')).statusCode).toBe(200);
  });

  it('also applies to a code grant that named no resource, while its refresh token remembers none', async () => {
    const c = await createClient(t.app, { scope: 'openid offline_access read:d' });
    const u = await createUser(t.app);
    const browser = new InjectBrowser(t.app);
    const { url, verifier } = authorizeWith(c.clientId, [], { scope: 'openid offline_access read:d' });
    const done = await completeInteraction(browser, await browser.get(url), { username: u.username });
    const code = redirectParams(done).get('code')!;
    const res = await exchangeCode(t.app, c, { code, verifier });
    expect(res.statusCode, res.body).toBe(200);
    const tokens = res.json() as Tokens;
    expect(decodeJwt(tokens.access_token).aud).toBe(DEFAULT);
    const refreshed = await tokenRequest(t.app, c, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    expect(decodeJwt((refreshed.json() as Tokens).access_token).aud).toBe(DEFAULT);
  });
});
