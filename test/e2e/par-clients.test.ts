import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientJwks } from '../../src/repositories/clients-repository.js';
import type { User } from '../../src/repositories/users-repository.js';
import { clientSigningKey } from '../helpers/client-assertion.js';
import { FetchBrowser, startE2eServer, type E2eServer } from '../helpers/e2e-server.js';
import { createClient, createUser, REDIRECT_URI, TEST_PASSWORD } from '../helpers/fixtures.js';
import { discover, oauthErrorOf } from './openid-client-support.js';

/**
 * Issue 13 §2 with the certified client libraries: openid-client v6 (buildAuthorizationUrlWithPAR) and
 * oauth4webapi (pushedAuthorizationRequest) push their authorization requests to a running Authly, the
 * browser carries only client_id and request_uri, and the code flow completes; the RFC 9126 errors reach
 * them with their exact codes.
 */
describe('pushed authorization requests with openid-client and oauth4webapi', () => {
  let server: E2eServer;
  let user: User;

  beforeAll(async () => {
    server = await startE2eServer({ REQUIRE_PUSHED_AUTHORIZATION_REQUESTS: 'true' });
    user = await createUser(server.app);
  });
  afterAll(() => server?.close());

  const login = { username: () => user.username, password: TEST_PASSWORD };

  describe('openid-client', () => {
    it.each([
      ['a confidential client (client_secret_basic)', 'client_secret_basic' as const],
      ['a public client', 'none' as const],
    ])('%s pushes its request and completes the code flow', async (_name, method) => {
      const registered = await createClient(server.app, { tokenEndpointAuthMethod: method });
      const auth = method === 'none' ? client.None() : client.ClientSecretBasic(registered.clientSecret!);
      const config = await discover(server.issuer, registered.clientId, auth);
      expect(config.serverMetadata()).toMatchObject({
        pushed_authorization_request_endpoint: `${server.issuer}/oauth/par`,
        require_pushed_authorization_requests: true,
      });
      const state = client.randomState();
      const nonce = client.randomNonce();
      const verifier = client.randomPKCECodeVerifier();
      const url = await client.buildAuthorizationUrlWithPAR(config, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid profile',
        state,
        nonce,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      // The browser carries nothing but the client and the reference.
      expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
      const walk = await new FetchBrowser(server.issuer).authorize(url, { username: login.username(), password: login.password });
      if (walk.landing.mode !== 'query') throw new Error('expected a query response');
      const tokens = await client.authorizationCodeGrant(config, walk.landing.url, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
      expect(tokens.claims()).toMatchObject({ iss: server.issuer, aud: registered.clientId, sub: user.id, nonce });
      expect(tokens.scope).toBe('openid profile');
    });

    it('a private_key_jwt client pushes a signed request object (PAR + JAR + private_key_jwt, as FAPI 2.0 asks)', async () => {
      const key = await clientSigningKey('ES256');
      const registered = await createClient(server.app, {
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [key.publicJwk] } as unknown as ClientJwks,
      });
      const config = await discover(server.issuer, registered.clientId, client.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }));
      const state = client.randomState();
      const nonce = client.randomNonce();
      const verifier = client.randomPKCECodeVerifier();
      const jar = await client.buildAuthorizationUrlWithJAR(
        config,
        { redirect_uri: REDIRECT_URI, scope: 'openid', state, nonce, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' },
        { key: key.privateKey, kid: key.kid },
      );
      const url = await client.buildAuthorizationUrlWithPAR(config, jar.searchParams);
      const walk = await new FetchBrowser(server.issuer).authorize(url, { username: login.username(), password: login.password });
      if (walk.landing.mode !== 'query') throw new Error('expected a query response');
      const tokens = await client.authorizationCodeGrant(config, walk.landing.url, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
      expect(tokens.claims()).toMatchObject({ aud: registered.clientId, sub: user.id, nonce });
    });

    it('gets the push errors with their codes: invalid_client (401), invalid_request (400)', async () => {
      // client_secret_post: a failed Basic authentication answers with a Basic challenge instead of a body.
      const registered = await createClient(server.app, { tokenEndpointAuthMethod: 'client_secret_post' });
      const wrong = await discover(server.issuer, registered.clientId, client.ClientSecretPost('not-the-secret'));
      const params = { redirect_uri: REDIRECT_URI, scope: 'openid', code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' };
      expect(await oauthErrorOf(client.buildAuthorizationUrlWithPAR(wrong, params))).toEqual({ error: 'invalid_client', status: 401 });
      const right = await discover(server.issuer, registered.clientId, client.ClientSecretPost(registered.clientSecret!));
      expect(await oauthErrorOf(client.buildAuthorizationUrlWithPAR(right, { ...params, redirect_uri: 'https://evil.example/cb' }))).toEqual({
        error: 'invalid_request',
        status: 400,
      });
      expect(await oauthErrorOf(client.buildAuthorizationUrlWithPAR(right, { ...params, request_uri: 'urn:ietf:params:oauth:request_uri:x' }))).toEqual({
        error: 'invalid_request',
        status: 400,
      });
    });
  });

  describe('oauth4webapi', () => {
    const insecure = { [oauth.allowInsecureRequests]: true };

    it('pushes, walks the pages with the request_uri, exchanges the code; a second use of the request_uri is refused', async () => {
      const registered = await createClient(server.app, { tokenEndpointAuthMethod: 'client_secret_post' });
      const issuer = new URL(server.issuer);
      const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
      const oauthClient: oauth.Client = { client_id: registered.clientId };
      const clientAuth = oauth.ClientSecretPost(registered.clientSecret!);
      const verifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const nonce = oauth.generateRandomNonce();
      const pushed = await oauth.pushedAuthorizationRequest(
        as,
        oauthClient,
        clientAuth,
        {
          response_type: 'code',
          redirect_uri: REDIRECT_URI,
          scope: 'openid email',
          state,
          nonce,
          code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
        },
        insecure,
      );
      const { request_uri: requestUri, expires_in: expiresIn } = await oauth.processPushedAuthorizationResponse(as, oauthClient, pushed);
      expect(expiresIn).toBe(60);
      const url = new URL(as.authorization_endpoint!);
      url.searchParams.set('client_id', registered.clientId);
      url.searchParams.set('request_uri', requestUri);
      const browser = new FetchBrowser(server.issuer);
      const walk = await browser.authorize(url, { username: login.username(), password: login.password });
      if (walk.landing.mode !== 'query') throw new Error('expected a query response');
      const callback = oauth.validateAuthResponse(as, oauthClient, walk.landing.url, state);
      const response = await oauth.authorizationCodeGrantRequest(as, oauthClient, clientAuth, callback, REDIRECT_URI, verifier, insecure);
      const result = await oauth.processAuthorizationCodeResponse(as, oauthClient, response, { expectedNonce: nonce, requireIdToken: true });
      expect(result.scope).toBe('openid email');

      const replay = await browser.get(url);
      expect(replay.status).toBe(400);
      expect(replay.headers.get('location')).toBeNull();
      expect(await replay.text()).toContain('invalid_request_uri');
    });

    it('reads an RFC 9126 error response: a pushed request_uri is invalid_request', async () => {
      const registered = await createClient(server.app);
      const issuer = new URL(server.issuer);
      const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
      const oauthClient: oauth.Client = { client_id: registered.clientId };
      const pushed = await oauth.pushedAuthorizationRequest(
        as,
        oauthClient,
        oauth.ClientSecretBasic(registered.clientSecret!),
        { response_type: 'code', redirect_uri: REDIRECT_URI, request_uri: 'urn:ietf:params:oauth:request_uri:x' },
        insecure,
      );
      const failure = await oauth.processPushedAuthorizationResponse(as, oauthClient, pushed).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(oauth.ResponseBodyError);
      expect(failure).toMatchObject({ error: 'invalid_request', status: 400, error_description: 'request_uri must not be pushed (RFC 9126 section 2.1)' });
    });
  });
});
