import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientJwks } from '../../src/repositories/clients-repository.js';
import type { User } from '../../src/repositories/users-repository.js';
import { FetchBrowser, startE2eServer, type E2eServer } from '../helpers/e2e-server.js';
import { createClient, createUser, REDIRECT_URI, TEST_PASSWORD } from '../helpers/fixtures.js';
import { discover, oauthErrorOf } from './openid-client-support.js';

/**
 * Issue 13 §2, signed request objects (RFC 9101) with the certified client libraries against a running
 * Authly: openid-client v6 (buildAuthorizationUrlWithJAR, alone and inside PAR) and oauth4webapi
 * (issueRequestObject inside pushedAuthorizationRequest). One client publishes its keys at a jwks_uri served
 * by a real HTTP receiver in this test (OUTBOUND_ALLOW_LOOPBACK, the development setting), and rotates them.
 */
interface Key {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function newKey(alg: 'ES256' | 'PS256', kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

describe('request objects with openid-client and oauth4webapi', () => {
  let server: E2eServer;
  let user: User;
  let receiver: Server;
  let jwksUri: string;
  /** What the client's jwks_uri serves right now. */
  let published: JWK[] = [];
  let fetches = 0;

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      fetches++;
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
      response.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    jwksUri = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/jwks.json`;
    server = await startE2eServer({ OUTBOUND_ALLOW_LOOPBACK: 'true' });
    user = await createUser(server.app);
  });
  afterAll(async () => {
    await server?.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  const walk = { username: () => user.username, password: TEST_PASSWORD };

  async function authorizationParams() {
    const verifier = client.randomPKCECodeVerifier();
    return {
      verifier,
      state: client.randomState(),
      nonce: client.randomNonce(),
      challenge: await client.calculatePKCECodeChallenge(verifier),
    };
  }

  it('openid-client: a request object verified through the jwks_uri, alone and inside PAR; a rotated key is picked up', async () => {
    const first = await newKey('ES256', 'first');
    published = [first.jwk];
    const registered = await createClient(server.app, { jwksUri, requestObjectSigningAlg: 'ES256', requireSignedRequestObject: true });
    const config = await discover(server.issuer, registered.clientId, client.ClientSecretBasic(registered.clientSecret!));
    expect(config.serverMetadata()).toMatchObject({
      request_parameter_supported: true,
      request_object_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA', 'HS256', 'HS384', 'HS512'],
    });

    const run = async (key: Key, viaPar: boolean) => {
      const p = await authorizationParams();
      const parameters = {
        redirect_uri: REDIRECT_URI,
        scope: 'openid profile',
        state: p.state,
        nonce: p.nonce,
        code_challenge: p.challenge,
        code_challenge_method: 'S256',
      };
      const jar = await client.buildAuthorizationUrlWithJAR(config, parameters, { key: key.privateKey, kid: key.kid });
      expect([...jar.searchParams.keys()].sort()).toEqual(['client_id', 'request']);
      const url = viaPar ? await client.buildAuthorizationUrlWithPAR(config, jar.searchParams) : jar;
      const done = await new FetchBrowser(server.issuer).authorize(url, { username: walk.username(), password: walk.password });
      if (done.landing.mode !== 'query') throw new Error('expected a query response');
      const tokens = await client.authorizationCodeGrant(config, done.landing.url, { pkceCodeVerifier: p.verifier, expectedState: p.state, expectedNonce: p.nonce });
      expect(tokens.claims()).toMatchObject({ aud: registered.clientId, sub: user.id, nonce: p.nonce });
    };
    await run(first, false);
    await run(first, true);
    expect(fetches).toBe(1); // the set is kept within its Cache-Control lifetime

    // The client rotates: a new kid makes Authly fetch the set again (OIDC Core section 10.1.1).
    const second = await newKey('ES256', 'second');
    published = [second.jwk];
    await run(second, true);
    expect(fetches).toBe(2);

    // A key the client never published: a JSON 400 at the push, an error page at the authorization endpoint.
    const stranger = await newKey('ES256', 'stranger');
    const p = await authorizationParams();
    const jar = await client.buildAuthorizationUrlWithJAR(
      config,
      { redirect_uri: REDIRECT_URI, scope: 'openid', state: p.state, code_challenge: p.challenge, code_challenge_method: 'S256' },
      { key: stranger.privateKey, kid: stranger.kid },
    );
    expect(await oauthErrorOf(client.buildAuthorizationUrlWithPAR(config, jar.searchParams))).toEqual({ error: 'invalid_request_object', status: 400 });
    const page = await new FetchBrowser(server.issuer).get(jar);
    expect(page.status).toBe(400);
    expect(page.headers.get('location')).toBeNull();
    expect(await page.text()).toContain('invalid_request_object: no registered key of the client matches the request signature');
  });

  it('a jwks_uri that cannot be fetched makes the request object invalid_request_object (never a 5xx)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const key = await newKey('ES256', 'unreachable');
    const registered = await createClient(server.app, { jwksUri: `http://127.0.0.1:${port}/jwks.json` });
    const config = await discover(server.issuer, registered.clientId, client.ClientSecretBasic(registered.clientSecret!));
    const p = await authorizationParams();
    const jar = await client.buildAuthorizationUrlWithJAR(
      config,
      { redirect_uri: REDIRECT_URI, scope: 'openid', state: p.state, code_challenge: p.challenge, code_challenge_method: 'S256' },
      { key: key.privateKey, kid: key.kid },
    );
    const res = await fetch(new URL('/oauth/par', server.issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${registered.clientId}:${registered.clientSecret}`).toString('base64')}` },
      body: jar.searchParams.toString(),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_request_object', error_description: 'The client jwks_uri could not be fetched.' });
  });

  it('oauth4webapi: issueRequestObject (PS256, keys registered by value) inside pushedAuthorizationRequest', async () => {
    const key = await newKey('PS256', 'ps-key');
    const registered = await createClient(server.app, { jwks: { keys: [key.jwk] } as unknown as ClientJwks, tokenEndpointAuthMethod: 'none' });
    const insecure = { [oauth.allowInsecureRequests]: true };
    const issuer = new URL(server.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
    const oauthClient: oauth.Client = { client_id: registered.clientId };
    const p = await authorizationParams();
    const request = await oauth.issueRequestObject(
      as,
      oauthClient,
      { response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid email', state: p.state, nonce: p.nonce, code_challenge: p.challenge, code_challenge_method: 'S256' },
      { key: key.privateKey, kid: key.kid },
    );
    const pushed = await oauth.pushedAuthorizationRequest(as, oauthClient, oauth.None(), { request }, insecure);
    const { request_uri: requestUri } = await oauth.processPushedAuthorizationResponse(as, oauthClient, pushed);
    const url = new URL(as.authorization_endpoint!);
    url.searchParams.set('client_id', registered.clientId);
    url.searchParams.set('request_uri', requestUri);
    const done = await new FetchBrowser(server.issuer).authorize(url, { username: walk.username(), password: walk.password });
    if (done.landing.mode !== 'query') throw new Error('expected a query response');
    const callback = oauth.validateAuthResponse(as, oauthClient, done.landing.url, p.state);
    const response = await oauth.authorizationCodeGrantRequest(as, oauthClient, oauth.None(), callback, REDIRECT_URI, p.verifier, insecure);
    const result = await oauth.processAuthorizationCodeResponse(as, oauthClient, response, { expectedNonce: p.nonce, requireIdToken: true });
    expect(result.scope).toBe('openid email');

    // Signed for another audience: refused at the push with the RFC 9101 code.
    const elsewhere = await oauth.issueRequestObject(
      { ...as, issuer: 'https://elsewhere.example' },
      oauthClient,
      { response_type: 'code', redirect_uri: REDIRECT_URI, code_challenge: p.challenge, code_challenge_method: 'S256' },
      { key: key.privateKey, kid: key.kid },
    );
    const refused = await oauth.pushedAuthorizationRequest(as, oauthClient, oauth.None(), { request: elsewhere }, insecure);
    const failure = await oauth.processPushedAuthorizationResponse(as, oauthClient, refused).catch((err: unknown) => err);
    expect(failure).toMatchObject({ error: 'invalid_request_object', status: 400, error_description: 'request aud must be the issuer' });
  });
});
