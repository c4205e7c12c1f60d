import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listLogouts } from '../../src/repositories/backchannel-logout-outbox-repository.js';
import type { User } from '../../src/repositories/users-repository.js';
import { revokeUserSessions } from '../../src/services/admin/user-access-admin-service.js';
import { BACKCHANNEL_LOGOUT_EVENT } from '../../src/services/backchannel-logout/logout-token.js';
import { InjectBrowser } from '../helpers/browser.js';
import { FetchBrowser, startClientApp, startE2eServer, type ClientAppServer, type E2eServer } from '../helpers/e2e-server.js';
import { createClient, createUser, REDIRECT_URI, TEST_PASSWORD } from '../helpers/fixtures.js';
import { LogoutReceiver, verifyLogoutToken, waitUntil } from '../helpers/logout-receiver.js';
import { obtainTokens } from '../helpers/oauth-flow.js';
import { startReplica, type Replica } from '../helpers/redis.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { codeFlow, discover } from './openid-client-support.js';

/**
 * OpenID Connect Back-Channel Logout 1.0 end to end: openid-client signs in and logs out (RP-initiated)
 * against a listening Authly, and the relying party's back-channel endpoint, a real HTTP server, gets a
 * logout token it verifies against the JWKS fetched from discovery's jwks_uri. Then durability: a logout
 * queued while the client is down survives a restart of Authly (another instance over the same database
 * delivers it), and two replicas delivering side by side send each logout once.
 */
describe('back-channel logout with openid-client against a running Authly', () => {
  let server: E2eServer;
  let rp: ClientAppServer;
  const receiver = new LogoutReceiver();
  let user: User;

  beforeAll(async () => {
    await receiver.listen();
    server = await startE2eServer({ OUTBOUND_ALLOW_LOOPBACK: 'true', BACKCHANNEL_LOGOUT_RETRY_BASE_SECONDS: '1' });
    rp = await startClientApp();
    user = await createUser(server.app);
  });
  afterAll(async () => {
    await rp?.close();
    await server?.close();
    await receiver.close();
  });

  it('RP-initiated logout through openid-client: the RP gets a logout token for the session of its ID token', async () => {
    const postLogoutRedirectUri = `${rp.origin}/logged-out`;
    const registered = await createClient(server.app, {
      postLogoutRedirectUris: [postLogoutRedirectUri],
      backchannelLogoutUri: receiver.url('/e2e/logout'),
      backchannelLogoutSessionRequired: true,
    });
    const config = await discover(server.issuer, registered.clientId, client.ClientSecretBasic(registered.clientSecret!));
    expect(config.serverMetadata()).toMatchObject({ backchannel_logout_supported: true, backchannel_logout_session_supported: true });
    const browser = new FetchBrowser(server.issuer);
    const { tokens } = await codeFlow(config, browser, { redirectUri: REDIRECT_URI, username: user.username, password: TEST_PASSWORD, scope: 'openid' });
    const idClaims = tokens.claims()!;
    expect(typeof idClaims.sid).toBe('string');

    const state = client.randomState();
    const res = await browser.get(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: postLogoutRedirectUri, state }));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${postLogoutRedirectUri}?state=${state}`);

    await waitUntil(() => receiver.at('/e2e/logout').length === 1, 'the logout token');
    const [got] = receiver.at('/e2e/logout');
    expect(got!.contentType).toBe('application/x-www-form-urlencoded');
    // As the relying party: keys from the jwks_uri that discovery named, over HTTP.
    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    const { payload, protectedHeader } = await jwtVerify(got!.logoutToken, jwks, {
      issuer: server.issuer,
      audience: registered.clientId,
      typ: 'logout+jwt',
      algorithms: ['RS256'],
      maxTokenAge: '2 minutes',
    });
    expect(protectedHeader.typ).toBe('logout+jwt');
    expect(payload).toEqual({
      iss: server.issuer,
      aud: registered.clientId,
      iat: expect.any(Number),
      exp: payload.iat! + 120,
      jti: expect.any(String),
      sub: idClaims.sub,
      sid: idClaims.sid,
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    });
    expect(payload).not.toHaveProperty('nonce');
  });
});

describe('back-channel logout across a restart and across replicas (one database)', () => {
  let testDb: TestDb;
  const replicas: Replica[] = [];
  const receiver = new LogoutReceiver();
  const env = { OUTBOUND_ALLOW_LOOPBACK: 'true', BACKCHANNEL_LOGOUT_RETRY_BASE_SECONDS: '1' };

  beforeAll(async () => {
    testDb = await createTestDb();
    await receiver.listen();
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.app.close();
    await receiver.close();
    await testDb?.drop();
  });

  async function start(): Promise<Replica> {
    const replica = await startReplica(testDb.db, env);
    replicas.push(replica);
    return replica;
  }

  it('a logout queued while the client is down is delivered by the next instance after a restart', async () => {
    const first = await start();
    const user = await createUser(first.app);
    const rp = await createClient(first.app, { backchannelLogoutUri: receiver.url('/restart') });
    const browser = new InjectBrowser(first.app);
    const { id_token } = await obtainTokens(first.app, browser, rp, user.username, { scope: 'openid' });
    const sid = decodeJwt(id_token!).sid as string;

    await receiver.close();
    expect((await browser.get(`/oidc/logout?${new URLSearchParams({ id_token_hint: id_token! })}`)).statusCode).toBe(200);
    await waitUntil(async () => (await listLogouts(testDb.db)).some((r) => r.sid === sid && r.attempts >= 1 && r.status === 'queued'), 'a failed attempt');
    // Authly stops with the logout pending; the client comes back; another instance starts.
    await first.app.close();
    replicas.splice(replicas.indexOf(first), 1);
    expect(await listLogouts(testDb.db)).toEqual([expect.objectContaining({ sid, status: 'queued', lastError: 'network: network_error' })]);
    await receiver.listen();
    const second = await start();
    await waitUntil(() => receiver.at('/restart').length === 1, 'the delivery by the restarted instance');
    const { claims } = await verifyLogoutToken(second.app, receiver.at('/restart')[0]!.logoutToken, rp.clientId);
    expect(claims).toMatchObject({ sub: user.id, sid });
    await waitUntil(async () => (await listLogouts(testDb.db)).length === 0, 'the outbox to drain');
  });

  it('two replicas delivering side by side send each logout once', async () => {
    const [a, b] = [await start(), await start()];
    const user = await createUser(a.app);
    const rp = await createClient(a.app, { backchannelLogoutUri: receiver.url('/replicas') });
    const sids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const app = (i % 2 === 0 ? a : b).app;
      const browser = new InjectBrowser(app);
      const { id_token } = await obtainTokens(app, browser, rp, user.username, { scope: 'openid' });
      sids.push(decodeJwt(id_token!).sid as string);
    }
    // An administrator ends every session of the user at once: six logouts for the two workers to share.
    expect(await revokeUserSessions(a.app.ctx, { scopes: ['authly:admin'] }, user.id)).toBe(6);
    await waitUntil(() => receiver.at('/replicas').length >= 6, 'six deliveries');
    await waitUntil(async () => (await listLogouts(testDb.db)).length === 0, 'the outbox to drain');
    const delivered = receiver.at('/replicas').map((r) => decodeJwt(r.logoutToken).sid as string);
    expect(delivered.sort()).toEqual([...sids].sort());
  });
});
