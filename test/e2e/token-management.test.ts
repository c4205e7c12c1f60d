import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/repositories/users-repository.js';
import { FetchBrowser, startE2eServer, type E2eServer } from '../helpers/e2e-server.js';
import { createClient, createUser, REDIRECT_URI, TEST_PASSWORD } from '../helpers/fixtures.js';
import { codeFlow, discover, oauthErrorOf } from './openid-client-support.js';

/**
 * openid-client's tokenRevocation (RFC 7009) and tokenIntrospection (RFC 7662) against the real server,
 * with the endpoints and authentication methods taken from discovery.
 */
describe('openid-client: revocation and introspection against a running Authly', () => {
  let server: E2eServer;
  let user: User;

  beforeAll(async () => {
    server = await startE2eServer();
    user = await createUser(server.app);
  });
  afterAll(() => server?.close());

  const signIn = { redirectUri: REDIRECT_URI, username: '', password: TEST_PASSWORD };

  async function confidential(auth: typeof client.ClientSecretBasic = client.ClientSecretBasic) {
    const registered = await createClient(server.app, { tokenEndpointAuthMethod: auth === client.ClientSecretPost ? 'client_secret_post' : 'client_secret_basic' });
    return discover(server.issuer, registered.clientId, auth(registered.clientSecret!));
  }

  it('discovery advertises both endpoints with the methods each accepts', async () => {
    const metadata = (await confidential()).serverMetadata();
    expect(metadata).toMatchObject({
      revocation_endpoint: `${server.issuer}/oauth/revoke`,
      introspection_endpoint: `${server.issuer}/oauth/introspect`,
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt'],
    });
  });

  describe.each([
    { method: 'client_secret_basic', auth: client.ClientSecretBasic },
    { method: 'client_secret_post', auth: client.ClientSecretPost },
  ])('a confidential client with $method', ({ auth }) => {
    it('introspects its tokens, revokes the access token, then the refresh token and with it the family', async () => {
      const config = await confidential(auth);
      const { tokens } = await codeFlow(config, new FetchBrowser(server.issuer), { ...signIn, username: user.username });
      const accessToken = tokens.access_token;
      const refreshToken = tokens.refresh_token!;

      expect(await client.tokenIntrospection(config, accessToken)).toMatchObject({
        active: true,
        client_id: config.clientMetadata().client_id,
        sub: user.id,
        iss: server.issuer,
        token_type: 'Bearer',
        scope: 'openid profile email offline_access',
        username: user.username,
      });
      expect(await client.tokenIntrospection(config, refreshToken, { token_type_hint: 'refresh_token' })).toMatchObject({
        active: true,
        token_type: 'refresh_token',
        sub: user.id,
      });

      await client.tokenRevocation(config, accessToken, { token_type_hint: 'access_token' });
      expect(await client.tokenIntrospection(config, accessToken)).toEqual({ active: false });
      expect(await oauthErrorOf(client.fetchUserInfo(config, accessToken, client.skipSubjectCheck))).toEqual({ error: 'invalid_token', status: 401 });
      // Only that access token: the refresh token still works, once.
      const refreshed = await client.refreshTokenGrant(config, refreshToken);
      expect((await client.fetchUserInfo(config, refreshed.access_token, user.id)).sub).toBe(user.id);

      await client.tokenRevocation(config, refreshed.refresh_token!);
      expect(await client.tokenIntrospection(config, refreshed.refresh_token!)).toEqual({ active: false });
      expect(await client.tokenIntrospection(config, refreshed.access_token)).toEqual({ active: false });
      expect(await oauthErrorOf(client.fetchUserInfo(config, refreshed.access_token, client.skipSubjectCheck))).toEqual({ error: 'invalid_token', status: 401 });
      expect(await oauthErrorOf(client.refreshTokenGrant(config, refreshed.refresh_token!))).toEqual({ error: 'invalid_grant', status: 400 });

      // Unknown tokens: revocation succeeds, introspection says inactive.
      await client.tokenRevocation(config, 'no-such-token');
      expect(await client.tokenIntrospection(config, 'no-such-token')).toEqual({ active: false });
    });
  });

  it("a client neither revokes nor introspects another client's tokens", async () => {
    const owner = await confidential();
    const stranger = await confidential();
    const { tokens } = await codeFlow(owner, new FetchBrowser(server.issuer), { ...signIn, username: user.username });
    expect(await client.tokenIntrospection(stranger, tokens.access_token)).toEqual({ active: false });
    expect(await client.tokenIntrospection(stranger, tokens.refresh_token!)).toEqual({ active: false });
    await client.tokenRevocation(stranger, tokens.access_token);
    await client.tokenRevocation(stranger, tokens.refresh_token!);
    expect(await client.tokenIntrospection(owner, tokens.access_token)).toMatchObject({ active: true });
    expect(await client.tokenIntrospection(owner, tokens.refresh_token!)).toMatchObject({ active: true });
  });

  it('a public client revokes its refresh token with client_id alone, and may not introspect', async () => {
    const registered = await createClient(server.app, { tokenEndpointAuthMethod: 'none' });
    const config = await discover(server.issuer, registered.clientId, client.None());
    const { tokens } = await codeFlow(config, new FetchBrowser(server.issuer), { ...signIn, username: user.username });
    expect(await oauthErrorOf(client.tokenIntrospection(config, tokens.access_token))).toEqual({ error: 'invalid_client', status: 401 });

    await client.tokenRevocation(config, tokens.refresh_token!);
    expect(await oauthErrorOf(client.refreshTokenGrant(config, tokens.refresh_token!))).toEqual({ error: 'invalid_grant', status: 400 });
    expect(await oauthErrorOf(client.fetchUserInfo(config, tokens.access_token, client.skipSubjectCheck))).toEqual({ error: 'invalid_token', status: 401 });
  });

  it('a wrong secret is refused with 401 and a Basic challenge at both endpoints', async () => {
    const registered = await createClient(server.app);
    const config = await discover(server.issuer, registered.clientId, client.ClientSecretBasic('wrong-secret'));
    // openid-client surfaces the WWW-Authenticate challenge (RFC 6749 section 5.2) before the body.
    for (const call of [() => client.tokenRevocation(config, 'whatever'), () => client.tokenIntrospection(config, 'whatever')]) {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(client.WWWAuthenticateChallengeError);
      const challenge = err as client.WWWAuthenticateChallengeError;
      expect(challenge.status).toBe(401);
      expect(challenge.cause.map((c) => [c.scheme, c.parameters.realm])).toEqual([['basic', 'authly']]);
      expect(await challenge.response.json()).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    }
  });
});
