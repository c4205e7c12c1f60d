import { calculateJwkThumbprint, exportJWK } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientJwks } from '../../src/repositories/clients-repository.js';
import type { User } from '../../src/repositories/users-repository.js';
import { clientSigningKey, type ClientSigningKey } from '../helpers/client-assertion.js';
import { FetchBrowser, startE2eServer, type E2eServer } from '../helpers/e2e-server.js';
import { createClient, createUser, REDIRECT_URI, TEST_PASSWORD } from '../helpers/fixtures.js';
import { discover, oauthErrorOf } from './openid-client-support.js';

/**
 * Issue 13's parts together, as the FAPI 2.0 security profile combines them, driven by openid-client against
 * a running Authly: a private_key_jwt client pushes a signed request object with a DPoP proof at the PAR
 * endpoint (RFC 9449 section 10.1 binds the code to that key), the browser carries only the request_uri,
 * the code is exchanged with a DPoP proof by the same key, and userinfo wants the DPoP-bound token.
 */
describe('PAR + request object + private_key_jwt + DPoP (the FAPI 2.0 shape)', () => {
  let server: E2eServer;
  let user: User;
  let key: ClientSigningKey;
  let config: client.Configuration;

  beforeAll(async () => {
    server = await startE2eServer({ REQUIRE_PUSHED_AUTHORIZATION_REQUESTS: 'true' });
    user = await createUser(server.app);
    key = await clientSigningKey('ES256');
    const registered = await createClient(server.app, {
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [key.publicJwk] } as unknown as ClientJwks,
      dpopBoundAccessTokens: true,
      requireSignedRequestObject: true,
    });
    config = await discover(server.issuer, registered.clientId, client.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }));
  });
  afterAll(() => server?.close());

  /** A pushed, signed authorization request (with `DPoP` at the push when given); the browser's landing URL. */
  async function authorize(options: { dpop?: client.DPoPHandle; dpopJkt?: string }) {
    const state = client.randomState();
    const nonce = client.randomNonce();
    const verifier = client.randomPKCECodeVerifier();
    const parameters: Record<string, string> = {
      redirect_uri: REDIRECT_URI,
      scope: 'openid profile',
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...(options.dpopJkt ? { dpop_jkt: options.dpopJkt } : {}),
    };
    const jar = await client.buildAuthorizationUrlWithJAR(config, parameters, { key: key.privateKey, kid: key.kid });
    const url = await client.buildAuthorizationUrlWithPAR(config, jar.searchParams, options.dpop ? { DPoP: options.dpop } : undefined);
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    const walk = await new FetchBrowser(server.issuer).authorize(url, { username: user.username, password: TEST_PASSWORD });
    if (walk.landing.mode !== 'query') throw new Error('expected a query response');
    return { landing: walk.landing.url, checks: { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce } };
  }

  it('the DPoP proof at the push binds the code: the same key gets DPoP tokens and userinfo; another key cannot use the code', async () => {
    const dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    const stolen = await authorize({ dpop });
    const thief = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    expect(await oauthErrorOf(client.authorizationCodeGrant(config, stolen.landing, stolen.checks, undefined, { DPoP: thief }))).toMatchObject({
      error: 'invalid_grant',
      status: 400,
    });

    const { landing, checks } = await authorize({ dpop });
    const tokens = await client.authorizationCodeGrant(config, landing, checks, undefined, { DPoP: dpop });
    expect(tokens.token_type).toBe('dpop');
    expect(tokens.claims()).toMatchObject({ iss: server.issuer, sub: user.id });
    const info = await client.fetchUserInfo(config, tokens.access_token, user.id, { DPoP: dpop });
    expect(info.sub).toBe(user.id);
  });

  it('a dpop_jkt in the pushed request that names another key than the push proof is refused (RFC 9449 section 10.1)', async () => {
    const dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    const other = await client.randomDPoPKeyPair('ES256');
    const jkt = await calculateJwkThumbprint(await exportJWK(other.publicKey));
    expect(await oauthErrorOf(authorize({ dpop, dpopJkt: jkt }))).toMatchObject({ error: 'invalid_dpop_proof', status: 400 });
  });

  it('without a DPoP proof at the token endpoint this client gets nothing (dpop_bound_access_tokens)', async () => {
    const { landing, checks } = await authorize({});
    expect(await oauthErrorOf(client.authorizationCodeGrant(config, landing, checks))).toMatchObject({ error: 'invalid_request', status: 400 });
  });
});
