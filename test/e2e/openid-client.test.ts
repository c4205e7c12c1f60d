import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertScope } from '../../src/repositories/scopes-repository.js';
import type { User } from '../../src/repositories/users-repository.js';
import { FetchBrowser, startE2eServer, type E2eServer } from '../helpers/e2e-server.js';
import { createClient, createUser, REDIRECT_URI, TEST_PASSWORD, type TestClient } from '../helpers/fixtures.js';
import { endRefreshGraceWindow } from '../helpers/refresh-grace.js';
import { codeFlow, discover, expectedAtHash, oauthErrorOf } from './openid-client-support.js';

/**
 * openid-client (a certified relying party library) against the real server over HTTP: discovery, the
 * code flow with each client authentication method, refresh rotation, client_credentials, and the
 * authorization request options. One server for the file (start-up is the expensive part); every test
 * registers its own clients and users, so the tests do not depend on each other.
 */
describe('openid-client against a running Authly', () => {
  let server: E2eServer;
  let user: User;

  beforeAll(async () => {
    server = await startE2eServer();
    user = await createUser(server.app);
  });
  afterAll(() => server?.close());

  it('discovers the issuer and the endpoints the server mounts', async () => {
    const { clientId, clientSecret } = await createClient(server.app);
    const config = await discover(server.issuer, clientId, client.ClientSecretBasic(clientSecret!));
    const metadata = config.serverMetadata();
    expect(metadata).toMatchObject({
      issuer: server.issuer,
      authorization_endpoint: `${server.issuer}/oauth/authorize`,
      token_endpoint: `${server.issuer}/oauth/token`,
      userinfo_endpoint: `${server.issuer}/oidc/userinfo`,
      jwks_uri: `${server.issuer}/.well-known/jwks.json`,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
    expect(metadata.supportsPKCE()).toBe(true);
    const jwks = (await (await fetch(metadata.jwks_uri!)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.some((k) => k.alg === 'RS256')).toBe(true);
    // Only public members are served.
    for (const key of jwks.keys) for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(member);
  });

  describe.each([
    { method: 'client_secret_basic' as const, auth: client.ClientSecretBasic },
    { method: 'client_secret_post' as const, auth: client.ClientSecretPost },
  ])('confidential client with $method', ({ method, auth }) => {
    it('runs the code flow with PKCE, state and nonce, then userinfo and a rotating refresh', async () => {
      const registered = await createClient(server.app, { tokenEndpointAuthMethod: method });
      const config = await discover(server.issuer, registered.clientId, auth(registered.clientSecret!));
      const browser = new FetchBrowser(server.issuer);

      const { tokens, pages, nonce } = await codeFlow(config, browser, {
        redirectUri: REDIRECT_URI,
        username: user.username,
        password: TEST_PASSWORD,
      });
      expect(pages).toEqual(['login', 'consent']);
      expect(tokens.token_type).toBe('bearer');
      expect(tokens.scope).toBe('openid profile email offline_access');

      // openid-client already verified signature, iss, aud, exp and nonce; the rest is checked here.
      const claims = tokens.claims()!;
      expect(claims).toMatchObject({ iss: server.issuer, aud: registered.clientId, azp: registered.clientId, sub: user.id, nonce });
      expect(claims.auth_time).toBeTypeOf('number');
      expect(Math.abs(claims.auth_time! - Date.now() / 1000)).toBeLessThan(60);
      expect(claims.sid).toBeTypeOf('string');
      expect(claims.at_hash).toBe(expectedAtHash(tokens.access_token));
      expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg: 'RS256', typ: 'JWT' });

      const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      expect(info).toMatchObject({
        sub: claims.sub,
        email: user.email,
        email_verified: true,
        name: 'Test User',
        preferred_username: user.username,
      });

      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
      expect(refreshed.refresh_token).toBeTypeOf('string');
      expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
      expect(refreshed.access_token).not.toBe(tokens.access_token);
      expect(refreshed.claims()).toMatchObject({ sub: user.id, auth_time: claims.auth_time, sid: claims.sid });
      expect((await client.fetchUserInfo(config, refreshed.access_token, claims.sub)).sub).toBe(user.id);

      // Within the reuse grace window a repeat returns the same successor, not a second one.
      expect((await client.refreshTokenGrant(config, tokens.refresh_token!)).refresh_token).toBe(refreshed.refresh_token);
      // After the window the rotated-out token is a replay (RFC 9700 section 4.14.2): refused, family revoked.
      await endRefreshGraceWindow(server.app.ctx.db, tokens.refresh_token!);
      expect(await oauthErrorOf(client.refreshTokenGrant(config, tokens.refresh_token!))).toEqual({ error: 'invalid_grant', status: 400 });
      expect(await oauthErrorOf(client.refreshTokenGrant(config, refreshed.refresh_token!))).toEqual({ error: 'invalid_grant', status: 400 });
      expect(await oauthErrorOf(client.fetchUserInfo(config, refreshed.access_token, claims.sub))).toEqual({
        error: 'invalid_token',
        status: 401,
      });
    });
  });

  it('runs the code flow for a public client (no secret, PKCE) and rotates its refresh token', async () => {
    const registered = await createClient(server.app, { tokenEndpointAuthMethod: 'none', clientType: 'public' });
    const config = await discover(server.issuer, registered.clientId, client.None());
    const { tokens, pages } = await codeFlow(config, new FetchBrowser(server.issuer), {
      redirectUri: REDIRECT_URI,
      username: user.username,
      password: TEST_PASSWORD,
    });
    expect(pages).toEqual(['login', 'consent']);
    expect(tokens.claims()).toMatchObject({ sub: user.id, aud: registered.clientId, azp: registered.clientId });

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    await endRefreshGraceWindow(server.app.ctx.db, tokens.refresh_token!);
    expect(await oauthErrorOf(client.refreshTokenGrant(config, tokens.refresh_token!))).toEqual({ error: 'invalid_grant', status: 400 });
  });

  it('issues an RFC 9068 access token for client_credentials that userinfo refuses', async () => {
    await insertScope(server.app.ctx.db, { name: 'reports:read', description: 'Read reports', isDefault: false });
    const registered = await createClient(server.app, { grantTypes: ['client_credentials'], scope: 'reports:read' });
    const config = await discover(server.issuer, registered.clientId, client.ClientSecretBasic(registered.clientSecret!));

    const tokens = await client.clientCredentialsGrant(config, { scope: 'reports:read' });
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'reports:read' });
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.id_token).toBeUndefined();

    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: server.issuer,
      audience: server.issuer,
      typ: 'at+jwt',
    });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ sub: registered.clientId, client_id: registered.clientId, scope: 'reports:read' });
    expect(payload.jti).toBeTypeOf('string');
    expect(payload.exp! - payload.iat!).toBe(15 * 60);

    const info = await fetch(config.serverMetadata().userinfo_endpoint!, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(info.status).toBe(401);
    expect(info.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(await oauthErrorOf(client.fetchUserInfo(config, tokens.access_token, client.skipSubjectCheck))).toEqual({
      error: 'invalid_token',
      status: 401,
    });
  });

  /**
   * The authorization request options a relying party uses: response_mode=form_post, prompt=none and
   * prompt=login around a live session, and the one PKCE exemption (a confidential client registered
   * with require_pkce=false that sends a nonce).
   */
  describe('authorization request options', () => {
    let registered: TestClient;
    let config: client.Configuration;

    beforeAll(async () => {
      registered = await createClient(server.app);
      config = await discover(server.issuer, registered.clientId, client.ClientSecretBasic(registered.clientSecret!));
    });

    /** Code-flow options that sign in as `who`. Tests that count pages use their own user: consent is per user. */
    const signIn = (who: User = user) => ({ redirectUri: REDIRECT_URI, username: who.username, password: TEST_PASSWORD });

    it('delivers the response with response_mode=form_post as an auto-submitting form', async () => {
      const user = await createUser(server.app);
      const browser = new FetchBrowser(server.issuer);
      const state = client.randomState();
      const verifier = client.randomPKCECodeVerifier();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid email',
        state,
        nonce: 'form-post-nonce',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        response_mode: 'form_post',
      });
      const walk = await browser.authorize(url, signIn(user));
      expect(walk.pages).toEqual(['login', 'consent']);
      if (walk.landing.mode !== 'form_post') throw new Error(`expected the form_post page, got a redirect to ${walk.landing.url}`);
      expect(walk.landing.action).toBe(REDIRECT_URI);
      expect([...walk.landing.params.keys()].sort()).toEqual(['code', 'iss', 'state']);
      expect(walk.landing.params.get('state')).toBe(state);
      expect(walk.landing.params.get('iss')).toBe(server.issuer);

      // What the browser would POST to the client's redirect URI, handed to openid-client as such.
      const callback = new Request(REDIRECT_URI, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: walk.landing.params.toString(),
      });
      const tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: 'form-post-nonce',
      });
      expect(tokens.claims()).toMatchObject({ sub: user.id, nonce: 'form-post-nonce' });
      expect(tokens.scope).toBe('openid email');
    });

    it('answers prompt=none without a session with login_required at the redirect URI', async () => {
      const browser = new FetchBrowser(server.issuer);
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid',
        state: 'st-none',
        nonce: 'n-none',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
        prompt: 'none',
      });
      const walk = await browser.authorize(url);
      expect(walk.pages).toEqual([]);
      if (walk.landing.mode !== 'query') throw new Error('expected a redirect');
      expect(walk.landing.url.origin + walk.landing.url.pathname).toBe(REDIRECT_URI);
      expect(Object.fromEntries(walk.landing.url.searchParams)).toEqual({
        error: 'login_required',
        error_description: 'the user is not signed in',
        state: 'st-none',
        iss: server.issuer,
      });
      // openid-client checks iss and state, then surfaces the error to the relying party.
      expect(await oauthErrorOf(client.authorizationCodeGrant(config, walk.landing.url, { expectedState: 'st-none' }))).toEqual({
        error: 'login_required',
      });
    });

    it('returns a code without any page for prompt=none with a live session, and forces the login page for prompt=login', async () => {
      const user = await createUser(server.app);
      const browser = new FetchBrowser(server.issuer);
      const first = await codeFlow(config, browser, signIn(user));
      expect(first.pages).toEqual(['login', 'consent']);
      expect(browser.hasCookie('authly_session')).toBe(true);
      const firstClaims = first.tokens.claims()!;

      const silent = await codeFlow(config, browser, { ...signIn(user), extra: { prompt: 'none' } });
      expect(silent.pages).toEqual([]);
      expect(silent.tokens.claims()).toMatchObject({ sub: user.id, sid: firstClaims.sid, auth_time: firstClaims.auth_time });

      const forced = await codeFlow(config, browser, { ...signIn(user), extra: { prompt: 'login' } });
      // Consent was given already, so only the login page is shown again.
      expect(forced.pages).toEqual(['login']);
      const forcedClaims = forced.tokens.claims()!;
      expect(forcedClaims.sub).toBe(user.id);
      expect(forcedClaims.auth_time!).toBeGreaterThanOrEqual(firstClaims.auth_time!);
      // The same user signing in again renews the session (a new cookie value: no fixation) and keeps its
      // sid, so the applications signed in through it stay signed in and see one session.
      expect(forcedClaims.sid).toBe(firstClaims.sid);
    });

    describe('a confidential client registered with require_pkce=false', () => {
      let exempt: TestClient;
      let exemptConfig: client.Configuration;

      beforeAll(async () => {
        exempt = await createClient(server.app, { requirePkce: false });
        exemptConfig = await discover(server.issuer, exempt.clientId, client.ClientSecretBasic(exempt.clientSecret!));
      });

      it('completes the code flow with a nonce and no PKCE', async () => {
        const { tokens, nonce, pages } = await codeFlow(exemptConfig, new FetchBrowser(server.issuer), { ...signIn(), pkce: false });
        expect(pages).toEqual(['login', 'consent']);
        expect(tokens.claims()).toMatchObject({ sub: user.id, aud: exempt.clientId, nonce });
      });

      it('is still refused without a nonce', async () => {
        const url = client.buildAuthorizationUrl(exemptConfig, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 'st-nononce' });
        const walk = await new FetchBrowser(server.issuer).authorize(url);
        if (walk.landing.mode !== 'query') throw new Error('expected a redirect');
        expect(Object.fromEntries(walk.landing.url.searchParams)).toEqual({
          error: 'invalid_request',
          error_description: 'code_challenge is required (PKCE with S256)',
          state: 'st-nononce',
          iss: server.issuer,
        });
      });
    });
  });
});
