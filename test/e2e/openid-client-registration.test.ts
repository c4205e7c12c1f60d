import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/repositories/users-repository.js';
import { createInitialAccessToken } from '../../src/services/registration/initial-access-token-service.js';
import { FetchBrowser, startE2eServer, type E2eServer } from '../helpers/e2e-server.js';
import { createUser, REDIRECT_URI, TEST_PASSWORD } from '../helpers/fixtures.js';
import { codeFlow, oauthErrorOf } from './openid-client-support.js';

const EXECUTE = { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] };

/**
 * openid-client's dynamic client registration (RFC 7591) against the real server, as an MCP client does
 * it: discover, register, then a real code flow through the sign-in and consent pages with the client it
 * was given; then the registration's management (RFC 7592) with the registration access token.
 */
describe('openid-client dynamic registration against a running Authly', () => {
  describe('REGISTRATION_POLICY=open: a native public client', () => {
    let server: E2eServer;
    let user: User;

    beforeAll(async () => {
      server = await startE2eServer({ REGISTRATION_POLICY: 'open' });
      user = await createUser(server.app);
    });
    afterAll(() => server?.close());

    it('registers, signs in through the real pages, refreshes, then reads and deletes its registration', async () => {
      const redirectUri = 'http://127.0.0.1:33418/callback';
      const config = await client.dynamicClientRegistration(
        new URL(server.issuer),
        {
          client_name: 'E2E MCP client',
          redirect_uris: [redirectUri],
          grant_types: ['authorization_code', 'refresh_token'],
          token_endpoint_auth_method: 'none',
          scope: 'openid profile offline_access',
        },
        client.None(),
        EXECUTE,
      );
      const registered = config.clientMetadata();
      expect(registered).toMatchObject({
        client_name: 'E2E MCP client',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: [redirectUri],
        registration_client_uri: `${server.issuer}/oauth/register/${registered.client_id}`,
      });
      expect(registered.client_secret).toBeUndefined();

      const browser = new FetchBrowser(server.issuer);
      const { tokens, pages } = await codeFlow(config, browser, {
        redirectUri,
        scope: 'openid profile offline_access',
        username: user.username,
        password: TEST_PASSWORD,
      });
      // Consent is never skipped for a dynamically registered client.
      expect(pages).toEqual(['login', 'consent']);
      expect(tokens.claims()).toMatchObject({ iss: server.issuer, aud: registered.client_id, sub: user.id });
      expect(tokens.refresh_token).toBeTypeOf('string');
      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
      expect(refreshed.access_token).toBeTypeOf('string');

      const uri = registered.registration_client_uri as string;
      const auth = { authorization: `Bearer ${registered.registration_access_token as string}` };
      const read = await fetch(uri, { headers: auth });
      expect(read.status).toBe(200);
      expect(await read.json()).toMatchObject({ client_id: registered.client_id, client_name: 'E2E MCP client' });
      expect((await fetch(uri, { method: 'DELETE', headers: auth })).status).toBe(204);
      expect((await fetch(uri, { headers: auth })).status).toBe(401);
      // The deleted client's refresh token is gone with it.
      expect(await oauthErrorOf(client.refreshTokenGrant(config, refreshed.refresh_token!))).toMatchObject({ error: 'invalid_client', status: 401 });
    });
  });

  describe('REGISTRATION_POLICY=initial-access-token: a confidential web client', () => {
    let server: E2eServer;
    let user: User;

    beforeAll(async () => {
      server = await startE2eServer({ REGISTRATION_POLICY: 'initial-access-token' });
      user = await createUser(server.app);
    });
    afterAll(() => server?.close());

    it('registers with an initial access token, runs the code flow with client_secret_basic; without the token it is refused', async () => {
      const metadata = { client_name: 'E2E web client', redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code'] };
      // No token at all: 401 with a bare Bearer challenge (RFC 6750 section 3.1: no error code without credentials).
      const refused = await oauthErrorOf(client.dynamicClientRegistration(new URL(server.issuer), metadata, undefined, EXECUTE));
      expect(refused).toEqual({ error: 'unknown', status: 401 });

      const { token } = await createInitialAccessToken(server.app.ctx, { maxUses: 1 });
      const config = await client.dynamicClientRegistration(new URL(server.issuer), metadata, undefined, { ...EXECUTE, initialAccessToken: token });
      const registered = config.clientMetadata();
      expect(registered).toMatchObject({ application_type: 'web', token_endpoint_auth_method: 'client_secret_basic', client_secret_expires_at: 0 });
      expect(registered.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      // openid-client defaults to client_secret_post; the registered method is client_secret_basic.
      const basic = new client.Configuration(config.serverMetadata(), registered.client_id, registered, client.ClientSecretBasic(registered.client_secret as string));
      client.allowInsecureRequests(basic);
      client.enableNonRepudiationChecks(basic);

      const { tokens } = await codeFlow(basic, new FetchBrowser(server.issuer), { redirectUri: REDIRECT_URI, scope: 'openid', username: user.username, password: TEST_PASSWORD });
      expect(tokens.claims()).toMatchObject({ aud: registered.client_id, sub: user.id });

      // The token had one use.
      const again = await oauthErrorOf(client.dynamicClientRegistration(new URL(server.issuer), metadata, undefined, { ...EXECUTE, initialAccessToken: token }));
      expect(again).toMatchObject({ error: 'invalid_token', status: 401 });
    });
  });
});
