import { calculateJwkThumbprint, exportJWK } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/repositories/users-repository.js';
import { FetchBrowser, startE2eServer, type E2eServer } from '../helpers/e2e-server.js';
import { createClient, createUser, REDIRECT_URI, TEST_PASSWORD } from '../helpers/fixtures.js';
import { codeFlow, discover, oauthErrorOf } from './openid-client-support.js';

/**
 * RFC 9449 with the certified client libraries against a running server: openid-client v6 (the `DPoP`
 * option) and oauth4webapi (the `DPoP` handle), including the nonce dance (use_dpop_nonce, which both
 * libraries answer by retrying with the nonce), the refresh binding of a public client, dpop_jkt, and
 * the refusals a resource and the token endpoint give.
 */
describe.each([
  { name: 'without nonces', env: {} as Record<string, string> },
  { name: 'with DPOP_REQUIRE_NONCE', env: { DPOP_REQUIRE_NONCE: 'true' } as Record<string, string> },
])('DPoP with openid-client and oauth4webapi ($name)', ({ env }) => {
  let server: E2eServer;
  let user: User;

  beforeAll(async () => {
    server = await startE2eServer(env);
    user = await createUser(server.app);
  });
  afterAll(() => server?.close());

  it('openid-client: a public client gets DPoP tokens (dpop_jkt-bound code), calls userinfo with DPoP, refreshes with its key only', async () => {
    const registered = await createClient(server.app, { tokenEndpointAuthMethod: 'none' });
    const config = await discover(server.issuer, registered.clientId, client.None());
    expect(config.serverMetadata().dpop_signing_alg_values_supported).toEqual(['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256']);
    const keyPair = await client.randomDPoPKeyPair('ES256');
    const dpop = client.getDPoPHandle(config, keyPair);
    const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256');

    const { tokens } = await codeFlow(config, new FetchBrowser(server.issuer), {
      redirectUri: REDIRECT_URI,
      username: user.username,
      password: TEST_PASSWORD,
      extra: { dpop_jkt: jkt },
      dpop,
    });
    expect(tokens.token_type).toBe('dpop');
    const info = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub, { DPoP: dpop });
    expect(info.sub).toBe(user.id);

    // As a Bearer token it is refused (RFC 9449 section 7.2).
    expect(await oauthErrorOf(client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub))).toEqual({ error: 'invalid_token', status: 401 });

    // Another key cannot refresh (the refresh token is bound); the right key can, and gets DPoP tokens.
    const otherDpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    expect(await oauthErrorOf(client.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: otherDpop }))).toEqual({
      error: 'invalid_grant',
      status: 400,
    });
    expect(await oauthErrorOf(client.refreshTokenGrant(config, tokens.refresh_token!))).toEqual({ error: 'invalid_grant', status: 400 });
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: dpop });
    expect(refreshed.token_type).toBe('dpop');
    const again = await client.fetchUserInfo(config, refreshed.access_token, tokens.claims()!.sub, { DPoP: dpop });
    expect(again.sub).toBe(user.id);
  });

  it('openid-client: a code bound with dpop_jkt cannot be exchanged with another key', async () => {
    const registered = await createClient(server.app, { tokenEndpointAuthMethod: 'none' });
    const config = await discover(server.issuer, registered.clientId, client.None());
    const bound = await client.randomDPoPKeyPair('ES256');
    const jkt = await calculateJwkThumbprint(await exportJWK(bound.publicKey), 'sha256');
    const other = client.getDPoPHandle(config, await client.randomDPoPKeyPair('EdDSA'));
    const refused = await oauthErrorOf(
      codeFlow(config, new FetchBrowser(server.issuer), { redirectUri: REDIRECT_URI, username: user.username, password: TEST_PASSWORD, extra: { dpop_jkt: jkt }, dpop: other }),
    );
    expect(refused).toEqual({ error: 'invalid_grant', status: 400 });
  });

  it('openid-client: a dpop_bound_access_tokens client is refused without a proof (invalid_request), served with one', async () => {
    const registered = await createClient(server.app, { grantTypes: ['client_credentials'], scope: '', dpopBoundAccessTokens: true });
    const config = await discover(server.issuer, registered.clientId, client.ClientSecretBasic(registered.clientSecret!));
    expect(await oauthErrorOf(client.clientCredentialsGrant(config))).toEqual({ error: 'invalid_request', status: 400 });
    const dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair('PS256'));
    const tokens = await client.clientCredentialsGrant(config, {}, { DPoP: dpop });
    expect(tokens.token_type).toBe('dpop');
  });

  it('oauth4webapi: client_credentials with a DPoP handle, introspection shows cnf, a replayed proof is refused', async () => {
    const registered = await createClient(server.app, { grantTypes: ['client_credentials'], scope: '' });
    const issuer = new URL(server.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }));
    const oauthClient: oauth.Client = { client_id: registered.clientId };
    const auth = oauth.ClientSecretBasic(registered.clientSecret!);
    const keyPair = await oauth.generateKeyPair('ES256');
    const DPoP = oauth.DPoP(oauthClient, keyPair);
    const sent: { headers: Headers; body: string }[] = [];
    const recordingFetch = async (url: string, init: RequestInit) => {
      sent.push({ headers: new Headers(init.headers), body: String(init.body) });
      return fetch(url, init);
    };
    const options = { DPoP, [oauth.allowInsecureRequests]: true, [oauth.customFetch]: recordingFetch };

    const request = () => oauth.clientCredentialsGrantRequest(as, oauthClient, auth, {}, options);
    let result: oauth.TokenEndpointResponse;
    try {
      result = await oauth.processClientCredentialsResponse(as, oauthClient, await request());
    } catch (err) {
      // RFC 9449 section 8: the first answer asks for a nonce; the handle remembered it, so one retry.
      if (!oauth.isDPoPNonceError(err)) throw err;
      result = await oauth.processClientCredentialsResponse(as, oauthClient, await request());
    }
    expect(result.token_type).toBe('dpop');
    const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256');

    const introspection = await oauth.introspectionRequest(as, oauthClient, auth, result.access_token, { [oauth.allowInsecureRequests]: true });
    expect(await introspection.json()).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt } });

    // The last proof the library sent, replayed as is: refused.
    const last = sent.at(-1)!;
    const replay = await fetch(as.token_endpoint!, { method: 'POST', headers: last.headers, body: last.body });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toEqual({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof was already used (jti replayed)' });
  });

  it('oauth4webapi: protectedResourceRequest to userinfo with the DPoP handle', async () => {
    const registered = await createClient(server.app);
    const config = await discover(server.issuer, registered.clientId, client.ClientSecretBasic(registered.clientSecret!));
    const keyPair = await oauth.generateKeyPair('EdDSA');
    const { tokens } = await codeFlow(config, new FetchBrowser(server.issuer), {
      redirectUri: REDIRECT_URI,
      username: user.username,
      password: TEST_PASSWORD,
      dpop: client.getDPoPHandle(config, keyPair),
    });
    const DPoP = oauth.DPoP({}, keyPair);
    const call = () =>
      oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(`${server.issuer}/oidc/userinfo`), undefined, undefined, {
        DPoP,
        [oauth.allowInsecureRequests]: true,
      });
    let res: Response;
    try {
      res = await call();
    } catch (err) {
      if (!oauth.isDPoPNonceError(err)) throw err;
      res = await call();
    }
    expect(res.status).toBe(200);
    expect(((await res.json()) as { sub: string }).sub).toBe(user.id);
  });
});
