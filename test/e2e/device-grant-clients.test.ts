import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/repositories/users-repository.js';
import { DEVICE_GRANT, createDeviceClient } from '../helpers/device-flow.js';
import { FetchBrowser, formActionOf, hiddenInputs, startE2eServer, type E2eServer } from '../helpers/e2e-server.js';
import { createUser, TEST_PASSWORD } from '../helpers/fixtures.js';
import { discover, oauthErrorOf } from './openid-client-support.js';

/**
 * RFC 8628 end to end with two certified client libraries against the real server over HTTP: openid-client
 * (initiateDeviceAuthorization, pollDeviceAuthorizationGrant) and oauth4webapi (each request and response
 * on its own, to see every section 3.5 answer). The person approves with a fetch-based browser on /device.
 */
describe('device authorization grant with openid-client and oauth4webapi', () => {
  let server: E2eServer;
  let user: User;

  beforeAll(async () => {
    server = await startE2eServer({ DEVICE_CODE_INTERVAL_SECONDS: '1' });
    user = await createUser(server.app);
  });
  afterAll(() => server?.close());

  /** The person's part: open verification_uri_complete, confirm the code, sign in, answer the consent page. */
  async function approve(verificationUriComplete: string, decision: 'allow' | 'deny' = 'allow'): Promise<string> {
    const browser = new FetchBrowser(server.issuer);
    const codePage = await (await browser.get(verificationUriComplete)).text();
    const entered = await browser.post(formActionOf(codePage), Object.fromEntries(new URLSearchParams([...hiddenInputs(codePage), ['user_code', /id="user_code" name="user_code" value="([^"]+)"/.exec(codePage)![1]!]])));
    const confirm = await entered.text();
    let response = await browser.post(formActionOf(confirm), { ...Object.fromEntries(hiddenInputs(confirm)), decision: 'allow' });
    for (let step = 0; step < 8; step++) {
      if (response.status === 303) {
        response = await browser.get(response.headers.get('location')!);
        continue;
      }
      const text = await response.text();
      const csrf = hiddenInputs(text).get('csrf_token');
      if (text.includes('name="password"')) {
        response = await browser.post(formActionOf(text), { csrf_token: csrf!, username: user.username, password: TEST_PASSWORD });
      } else if (text.includes('name="decision"')) {
        response = await browser.post(formActionOf(text), { csrf_token: csrf!, decision });
      } else {
        return text;
      }
    }
    throw new Error('the approval did not finish');
  }

  it('openid-client: discovery lists the endpoint; initiate, the person approves, poll → tokens with a verified ID token', async () => {
    const { clientId } = await createDeviceClient(server.app);
    const config = await discover(server.issuer, clientId, client.None());
    expect(config.serverMetadata()).toMatchObject({
      device_authorization_endpoint: `${server.issuer}/oauth/device_authorization`,
      grant_types_supported: expect.arrayContaining([DEVICE_GRANT]),
    });
    const started = await client.initiateDeviceAuthorization(config, { scope: 'openid offline_access' });
    expect(started.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(started.verification_uri).toBe(`${server.issuer}/device`);

    const polling = client.pollDeviceAuthorizationGrant(config, started);
    const page = await approve(started.verification_uri_complete!);
    expect(page).toContain('Device connected');
    const tokens = await polling;
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.claims()).toMatchObject({ iss: server.issuer, sub: user.id, aud: clientId });
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).toEqual(expect.any(String));
  });

  it('openid-client with DPoP: the device gets DPoP tokens, and its refresh token works only with the same key', async () => {
    const { clientId } = await createDeviceClient(server.app);
    const config = await discover(server.issuer, clientId, client.None());
    const dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    const started = await client.initiateDeviceAuthorization(config, { scope: 'openid offline_access' });
    const polling = client.pollDeviceAuthorizationGrant(config, started, undefined, { DPoP: dpop });
    await approve(started.verification_uri_complete!);
    const tokens = await polling;
    expect(tokens.token_type).toBe('dpop');
    // A public client's refresh token is bound to the proof key (RFC 9449 section 5): another key is refused.
    const otherKey = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    expect(await oauthErrorOf(client.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: otherKey }))).toMatchObject({ error: 'invalid_grant' });
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: dpop });
    expect(refreshed.token_type).toBe('dpop');
  });

  it('openid-client: a denial ends the polling with access_denied', async () => {
    const { clientId } = await createDeviceClient(server.app);
    const config = await discover(server.issuer, clientId, client.None());
    const started = await client.initiateDeviceAuthorization(config, { scope: 'openid' });
    const polling = oauthErrorOf(client.pollDeviceAuthorizationGrant(config, started));
    expect(await approve(started.verification_uri_complete!, 'deny')).toContain('Device not connected');
    expect(await polling).toMatchObject({ error: 'access_denied', status: 400 });
  });

  describe('oauth4webapi, one request at a time', () => {
    let as: oauth.AuthorizationServer;
    /** A confidential client (client_secret_post) that will not send its secret. */
    let registered: oauth.Client;
    let publicClientId: string;
    const auth = oauth.None();
    const options = { [oauth.allowInsecureRequests]: true };

    beforeAll(async () => {
      const issuer = new URL(server.issuer);
      as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, options));
      registered = { client_id: (await createDeviceClient(server.app, { tokenEndpointAuthMethod: 'client_secret_post', clientType: 'confidential' })).clientId };
      publicClientId = (await createDeviceClient(server.app)).clientId;
    });

    /** One poll; the section 3.5 error code, or 'success'. */

    async function tokenError(deviceCode: string): Promise<string> {
      const response = await oauth.deviceCodeGrantRequest(as, { client_id: publicClientId }, auth, deviceCode, options);
      try {
        await oauth.processDeviceCodeResponse(as, { client_id: publicClientId }, response);
      } catch (err) {
        if (err instanceof oauth.ResponseBodyError) return err.error;
        throw err;
      }
      return 'success';
    }

    it('authorization_pending, slow_down, then tokens once, then invalid_grant', async () => {
      const response = await oauth.deviceAuthorizationRequest(as, { client_id: publicClientId }, auth, { scope: 'openid' }, options);
      const started = await oauth.processDeviceAuthorizationResponse(as, { client_id: publicClientId }, response);
      expect(started).toMatchObject({ interval: 1, expires_in: 600 });
      expect(await tokenError(started.device_code)).toBe('authorization_pending');
      expect(await tokenError(started.device_code)).toBe('slow_down');
      await approve(started.verification_uri_complete!);
      // The interval is now 6 s: wait it out before the next poll, as section 3.5 asks.
      await server.app.ctx.db.query(`UPDATE device_authorizations SET last_polled_at = now() - interval '1 hour'`);
      expect(await tokenError(started.device_code)).toBe('success');
      await server.app.ctx.db.query(`UPDATE device_authorizations SET last_polled_at = now() - interval '1 hour'`);
      expect(await tokenError(started.device_code)).toBe('invalid_grant');
    });

    it('expired_token once the code has expired', async () => {
      const response = await oauth.deviceAuthorizationRequest(as, { client_id: publicClientId }, auth, { scope: 'openid' }, options);
      const started = await oauth.processDeviceAuthorizationResponse(as, { client_id: publicClientId }, response);
      await server.app.ctx.db.query(`UPDATE device_authorizations SET expires_at = now() - interval '1 second' WHERE status = 'pending'`);
      expect(await tokenError(started.device_code)).toBe('expired_token');
    });

    it('a confidential client without its secret → invalid_client at the device authorization endpoint', async () => {
      const response = await oauth.deviceAuthorizationRequest(as, registered, auth, { scope: 'openid' }, options);
      const error = await oauth.processDeviceAuthorizationResponse(as, registered, response).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(oauth.ResponseBodyError);
      expect((error as oauth.ResponseBodyError).error).toBe('invalid_client');
      expect((error as oauth.ResponseBodyError).status).toBe(401);
    });
  });
});
