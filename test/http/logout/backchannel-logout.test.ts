import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listLogouts } from '../../../src/repositories/backchannel-logout-outbox-repository.js';
import type { User } from '../../../src/repositories/users-repository.js';
import { BACKCHANNEL_LOGOUT_EVENT, LOGOUT_TOKEN_TTL_SECONDS } from '../../../src/services/backchannel-logout/logout-token.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { createClient, createUser, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { LogoutReceiver, verifyLogoutToken, waitUntil } from '../../helpers/logout-receiver.js';
import { obtainTokens } from '../../helpers/oauth-flow.js';
import { logEvents, metricValue } from '../../helpers/redis.js';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV } from '../admin/admin-helpers.js';
import { csrfOf, signInToAccount } from '../account/account-helpers.js';
import { latestLink, hiddenFields } from '../recovery/recovery-helpers.js';

/**
 * OpenID Connect Back-Channel Logout 1.0: every way a session ends queues exactly one logout token per
 * client of that session with a backchannel_logout_uri; the worker POSTs it to a real HTTP receiver, which
 * verifies it against the JWKS like a relying party (section 2.6).
 */

const ENV = {
  ...ADMIN_ENV,
  OUTBOUND_ALLOW_LOOPBACK: 'true',
  BACKCHANNEL_LOGOUT_WORKER_ENABLED: 'true',
  BACKCHANNEL_LOGOUT_RETRY_BASE_SECONDS: '1',
  BACKCHANNEL_LOGOUT_MAX_ATTEMPTS: '3',
  BACKCHANNEL_LOGOUT_TIMEOUT_MS: '2000',
};

describe('back-channel logout', () => {
  let t: TestApp;
  const receiver = new LogoutReceiver();
  let token: string;

  beforeAll(async () => {
    await receiver.listen();
    t = await createTestApp(ENV, { backchannelLogoutPollIntervalMs: 50 });
    token = await adminToken(t.app);
  });
  afterAll(async () => {
    await t?.close();
    await receiver.close();
  });
  afterEach(() => {
    receiver.status = 200;
    receiver.location = undefined;
    receiver.hang = false;
  });

  let paths = 0;
  /** A client whose logouts go to their own path of the receiver. */
  async function rp(overrides: Parameters<typeof createClient>[1] = {}): Promise<TestClient & { path: string }> {
    const path = `/rp-${++paths}/logout?tenant=a`;
    const client = await createClient(t.app, { backchannelLogoutUri: receiver.url(path), ...overrides });
    return { ...client, path };
  }

  /** A browser signed in as `user` that got tokens for each client: the session's sid. */
  async function sessionWith(user: User, clients: TestClient[], browser = new InjectBrowser(t.app)) {
    let sid = '';
    let idToken = '';
    for (const client of clients) {
      const tokens = await obtainTokens(t.app, browser, client, user.username, { scope: 'openid' });
      idToken = tokens.id_token!;
      sid = decodeJwt(idToken).sid as string;
    }
    return { browser, sid, idToken };
  }

  const queued = async () => (await listLogouts(t.app.ctx.db)).filter((r) => r.status !== 'failed');
  const drained = () => waitUntil(async () => (await queued()).length === 0, 'the outbox to drain');

  it('RP-initiated logout: each client of the session gets one verified logout token; others get none', async () => {
    const user = await createUser(t.app);
    const [a, b, elsewhere] = [await rp(), await rp(), await rp()];
    const silent = await createClient(t.app);
    const { browser, sid, idToken } = await sessionWith(user, [a, b, silent]);
    await sessionWith(user, [elsewhere]);
    const res = await browser.get(`/oidc/logout?${new URLSearchParams({ id_token_hint: idToken })}`);
    expect(res.statusCode).toBe(200);
    await waitUntil(() => receiver.at(a.path).length === 1 && receiver.at(b.path).length === 1, 'both deliveries');
    await drained();
    expect(receiver.at(elsewhere.path)).toEqual([]);
    for (const client of [a, b]) {
      const [got] = receiver.at(client.path);
      expect(got!.contentType).toBe('application/x-www-form-urlencoded');
      expect(got!.form.map(([k]) => k)).toEqual(['logout_token']);
      const { header, claims } = await verifyLogoutToken(t.app, got!.logoutToken, client.clientId);
      expect(header).toEqual({ alg: 'RS256', kid: expect.any(String), typ: 'logout+jwt' });
      expect(claims).toEqual({
        iss: TEST_ISSUER,
        aud: client.clientId,
        iat: expect.any(Number),
        exp: claims.iat! + LOGOUT_TOKEN_TTL_SECONDS,
        jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
        sub: user.id,
        sid,
        events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
      });
      expect(Math.abs(claims.iat! - Date.now() / 1000)).toBeLessThan(30);
      expect(claims).not.toHaveProperty('nonce');
    }
    // Each token is its own (section 2.6: a client may refuse a jti it has seen).
    expect(receiver.at(a.path)[0]!.logoutToken).not.toBe(receiver.at(b.path)[0]!.logoutToken);
    expect(logEvents(t.logs, 'backchannel_logout.delivered').filter((l) => l.log === 'audit' && l.sid === sid)).toHaveLength(2);
    // Tokens never reach the log.
    for (const client of [a, b]) expect(t.logs.join('\n')).not.toContain(receiver.at(client.path)[0]!.logoutToken.split('.')[2]);
  });

  it("signs with the client's ID token alg", async () => {
    const user = await createUser(t.app);
    const alg = t.app.ctx.keys.algorithms.at(-1)!;
    const client = await rp({ idTokenSignedResponseAlg: alg });
    const { browser, idToken } = await sessionWith(user, [client]);
    await browser.get(`/oidc/logout?${new URLSearchParams({ id_token_hint: idToken })}`);
    await waitUntil(() => receiver.at(client.path).length === 1, 'the delivery');
    const { header } = await verifyLogoutToken(t.app, receiver.at(client.path)[0]!.logoutToken, client.clientId);
    expect(header.alg).toBe(alg);
    expect(decodeJwt(idToken).sid).toBe(decodeJwt(receiver.at(client.path)[0]!.logoutToken).sid);
  });

  describe('every trigger queues exactly the logouts of the sessions it ends', () => {
    async function expectDeliveries(client: TestClient & { path: string }, sids: string[]) {
      await waitUntil(() => receiver.at(client.path).length >= sids.length, `${sids.length} deliveries`);
      await drained();
      const got = receiver.at(client.path).map((r) => decodeJwt(r.logoutToken).sid);
      expect(got.sort()).toEqual([...sids].sort());
    }

    it('the logout confirmation form (no hint)', async () => {
      const user = await createUser(t.app);
      const client = await rp();
      const { browser, sid } = await sessionWith(user, [client]);
      const page = await browser.get('/oidc/logout');
      expect(page.statusCode).toBe(200);
      const res = await browser.post('/oidc/logout', { ...hiddenFields(page.body), confirm: 'yes' });
      expect(res.statusCode).toBe(200);
      await expectDeliveries(client, [sid]);
    });

    it("the account page: sign out, end one session, end the others, change the password", async () => {
      const user = await createUser(t.app);
      const client = await rp();
      // Four browsers, each signed in to the account page and to the client.
      const sessions = [];
      for (let i = 0; i < 4; i++) {
        const browser = new InjectBrowser(t.app);
        await signInToAccount(browser, user.username);
        sessions.push(await sessionWith(user, [client], browser));
      }
      const [me, one, two, three] = sessions as [(typeof sessions)[0], (typeof sessions)[0], (typeof sessions)[0], (typeof sessions)[0]];
      // End one other session.
      let page = await me.browser.get('/account/sessions');
      expect((await me.browser.post('/account/sessions/end', { csrf_token: csrfOf(page.body, '/account/sessions/end'), sid: one.sid })).statusCode).toBe(200);
      await expectDeliveries(client, [one.sid]);
      // End all the others.
      page = await me.browser.get('/account/sessions');
      expect((await me.browser.post('/account/sessions/end-others', { csrf_token: csrfOf(page.body, '/account/sessions/end-others') })).statusCode).toBe(200);
      await expectDeliveries(client, [one.sid, two.sid, three.sid]);
      // A password change ends the other sessions (a fresh one here), not this one.
      const fresh = new InjectBrowser(t.app);
      await signInToAccount(fresh, user.username);
      const freshSid = (await sessionWith(user, [client], fresh)).sid;
      page = await me.browser.get('/account/security');
      const changed = await me.browser.post('/account/security/password', {
        csrf_token: csrfOf(page.body, '/account/security/password'),
        current_password: TEST_PASSWORD,
        new_password: 'a brand new passphrase',
        confirm_password: 'a brand new passphrase',
      });
      expect(changed.statusCode).toBe(200);
      await expectDeliveries(client, [one.sid, two.sid, three.sid, freshSid]);
      // The account page's own sign out.
      page = await me.browser.get('/account/sign-out');
      expect(page.statusCode).toBe(200);
      const out = await me.browser.post('/account/sign-out', { csrf_token: csrfOf(page.body, '/account/sign-out') });
      expect(out.statusCode).toBeLessThan(400);
      await expectDeliveries(client, [one.sid, two.sid, three.sid, freshSid, me.sid]);
    });

    it('admin: revoke one session, revoke all, disable the user, delete the user', async () => {
      const call = adminCall(t.app, token);
      const user = await createUser(t.app);
      const client = await rp();
      const [s1, s2, s3] = [await sessionWith(user, [client]), await sessionWith(user, [client]), await sessionWith(user, [client])];
      expect((await call('DELETE', `/admin/users/${user.id}/sessions/${s1.sid}`)).statusCode).toBe(204);
      await expectDeliveries(client, [s1.sid]);
      expect((await call('DELETE', `/admin/users/${user.id}/sessions`)).statusCode).toBe(204);
      await expectDeliveries(client, [s1.sid, s2.sid, s3.sid]);
      const s4 = await sessionWith(user, [client]);
      expect((await call('PATCH', `/admin/users/${user.id}`, { is_active: false })).statusCode).toBe(200);
      await expectDeliveries(client, [s1.sid, s2.sid, s3.sid, s4.sid]);
      // Re-enabled: a new session, then the user is deleted; the logout is still sent (sub is not a reference).
      expect((await call('PATCH', `/admin/users/${user.id}`, { is_active: true })).statusCode).toBe(200);
      const s5 = await sessionWith(user, [client]);
      expect((await call('DELETE', `/admin/users/${user.id}`)).statusCode).toBe(204);
      await expectDeliveries(client, [s1.sid, s2.sid, s3.sid, s4.sid, s5.sid]);
      expect(decodeJwt(receiver.at(client.path).at(-1)!.logoutToken).sub).toBe(user.id);
    });

    it('a password reset ends every session', async () => {
      const user = await createUser(t.app);
      const client = await rp();
      const [s1, s2] = [await sessionWith(user, [client]), await sessionWith(user, [client])];
      const reader = new InjectBrowser(t.app);
      const forgot = await reader.get('/forgot-password');
      await reader.post('/forgot-password', { ...hiddenFields(forgot.body), login: user.username });
      const link = await latestLink(t, user.email!, 'password_reset');
      const page = await reader.get(link);
      const res = await reader.post('/reset-password', { ...hiddenFields(page.body), password: 'a new password 123', password_confirm: 'a new password 123' });
      expect(res.statusCode).toBe(200);
      await expectDeliveries(client, [s1.sid, s2.sid]);
    });

    it('a new sign-in of the same user (prompt=login) keeps the session and queues nothing; another user in that browser ends it', async () => {
      const user = await createUser(t.app);
      const client = await rp();
      const first = await sessionWith(user, [client]);
      const cookieBefore = first.browser.cookieValue('authly_session');
      const before = (await listLogouts(t.app.ctx.db)).length;
      const again = await obtainTokens(t.app, first.browser, client, user.username, { scope: 'openid', prompt: 'login' });
      expect(decodeJwt(again.id_token!).sid).toBe(first.sid);
      expect(first.browser.cookieValue('authly_session')).not.toBe(cookieBefore);
      expect((await listLogouts(t.app.ctx.db)).length).toBe(before);

      const other = await createUser(t.app);
      const switched = await obtainTokens(t.app, first.browser, client, other.username, { scope: 'openid', prompt: 'login' });
      expect(decodeJwt(switched.id_token!).sid).not.toBe(first.sid);
      await expectDeliveries(client, [first.sid]);
    });

    it('ending a session nobody else used queues nothing', async () => {
      const user = await createUser(t.app);
      const silent = await createClient(t.app);
      const { browser, idToken } = await sessionWith(user, [silent]);
      const before = (await listLogouts(t.app.ctx.db)).length;
      expect((await browser.get(`/oidc/logout?${new URLSearchParams({ id_token_hint: idToken })}`)).statusCode).toBe(200);
      expect((await listLogouts(t.app.ctx.db)).length).toBe(before);
    });
  });

  describe('delivery', () => {
    it('retries a client that answers 400 or 5xx until it accepts, with back-off', async () => {
      const user = await createUser(t.app);
      const client = await rp();
      const { browser, idToken } = await sessionWith(user, [client]);
      receiver.status = 503;
      await browser.get(`/oidc/logout?${new URLSearchParams({ id_token_hint: idToken })}`);
      await waitUntil(() => receiver.at(client.path).length === 1, 'the first attempt');
      await waitUntil(async () => (await listLogouts(t.app.ctx.db)).some((r) => r.clientId === client.clientId && r.status === 'queued' && r.lastError === 'status: HTTP 503'), 'the retry to be scheduled');
      receiver.status = 400;
      await waitUntil(() => receiver.at(client.path).length === 2, 'the second attempt');
      receiver.status = 200;
      await waitUntil(() => receiver.at(client.path).length === 3, 'the third attempt');
      await drained();
      // Three fresh tokens: each attempt signs its own.
      expect(new Set(receiver.at(client.path).map((r) => decodeJwt(r.logoutToken).jti)).size).toBe(3);
      expect(await metricValue(t.app, 'authly_backchannel_logout_delivered_total')).toBeGreaterThanOrEqual(1);
    });

    it('gives up after BACKCHANNEL_LOGOUT_MAX_ATTEMPTS and keeps the row as failed', async () => {
      const user = await createUser(t.app);
      const client = await rp();
      const { browser, idToken } = await sessionWith(user, [client]);
      receiver.status = 500;
      const before = (await metricValue(t.app, 'authly_backchannel_logout_failed_total', { reason: 'attempts_exhausted' }))!;
      await browser.get(`/oidc/logout?${new URLSearchParams({ id_token_hint: idToken })}`);
      await waitUntil(
        async () => (await listLogouts(t.app.ctx.db)).some((r) => r.clientId === client.clientId && r.status === 'failed'),
        'the logout to be given up',
      );
      const [row] = (await listLogouts(t.app.ctx.db)).filter((r) => r.clientId === client.clientId);
      expect(row).toMatchObject({ status: 'failed', attempts: 3, lastError: 'status: HTTP 500' });
      expect(receiver.at(client.path)).toHaveLength(3);
      expect(await metricValue(t.app, 'authly_backchannel_logout_failed_total', { reason: 'attempts_exhausted' })).toBe(before + 1);
      expect(logEvents(t.logs, 'backchannel_logout.failed').some((l) => l.log === 'audit' && l.client_id === client.clientId && l.reason === 'attempts_exhausted')).toBe(true);
    });

    it('follows no redirect: a 3xx is a failed attempt, the Location is never called', async () => {
      const user = await createUser(t.app);
      const client = await rp();
      const { browser, idToken } = await sessionWith(user, [client]);
      receiver.status = 307;
      receiver.location = receiver.url('/redirected');
      await browser.get(`/oidc/logout?${new URLSearchParams({ id_token_hint: idToken })}`);
      await waitUntil(
        async () => (await listLogouts(t.app.ctx.db)).some((r) => r.clientId === client.clientId && r.lastError === 'status: HTTP 307'),
        'the failed attempt',
      );
      expect(receiver.at('/redirected')).toEqual([]);
    });

    it('bounds the time of a delivery: a client that never answers times out and is retried', async () => {
      const user = await createUser(t.app);
      const client = await rp();
      const { browser, idToken } = await sessionWith(user, [client]);
      receiver.hang = true;
      await browser.get(`/oidc/logout?${new URLSearchParams({ id_token_hint: idToken })}`);
      await waitUntil(
        async () => (await listLogouts(t.app.ctx.db)).some((r) => r.clientId === client.clientId && r.status === 'queued' && r.lastError === 'network: timeout'),
        'the timeout',
      );
      receiver.hang = false;
      await waitUntil(async () => !(await listLogouts(t.app.ctx.db)).some((r) => r.clientId === client.clientId), 'the delivery');
    });

    it('a client that is down gets its logout once it is back up', async () => {
      const down = new LogoutReceiver();
      await down.listen();
      const user = await createUser(t.app);
      const client = await createClient(t.app, { backchannelLogoutUri: down.url('/bc') });
      const { browser, idToken } = await sessionWith(user, [client]);
      await down.close();
      await browser.get(`/oidc/logout?${new URLSearchParams({ id_token_hint: idToken })}`);
      await waitUntil(
        async () => (await listLogouts(t.app.ctx.db)).some((r) => r.clientId === client.clientId && r.lastError === 'network: network_error'),
        'a failed attempt',
      );
      const ready = await t.app.inject('/health/ready');
      expect(ready.statusCode).toBe(200);
      expect(ready.json().checks.backchannel_logout).toMatchObject({ enabled: true, worker: true });
      await down.listen();
      try {
        await waitUntil(() => down.received.length === 1, 'the delivery after the client came back');
        await verifyLogoutToken(t.app, down.received[0]!.logoutToken, client.clientId);
      } finally {
        await down.close();
      }
    });

    it('the client removed its backchannel_logout_uri meanwhile: given up as unregistered', async () => {
      const user = await createUser(t.app);
      const client = await rp();
      const { browser, idToken } = await sessionWith(user, [client]);
      receiver.status = 503;
      await browser.get(`/oidc/logout?${new URLSearchParams({ id_token_hint: idToken })}`);
      await waitUntil(() => receiver.at(client.path).length === 1, 'the first attempt');
      const patched = await adminCall(t.app, token)('PATCH', `/admin/clients/${client.clientId}`, { backchannel_logout_uri: null });
      expect(patched.statusCode).toBe(200);
      await waitUntil(
        async () => (await listLogouts(t.app.ctx.db)).some((r) => r.clientId === client.clientId && r.status === 'failed'),
        'the logout to be given up',
      );
      expect((await listLogouts(t.app.ctx.db)).find((r) => r.clientId === client.clientId)).toMatchObject({ status: 'failed', attempts: 2 });
    });
  });
});

describe('back-channel logout: the SSRF guard', () => {
  let t: TestApp;
  beforeAll(async () => {
    // No OUTBOUND_ALLOW_LOOPBACK; names resolve through the test's table.
    const table: Record<string, string> = { 'internal.example': '10.1.2.3', 'metadata.example': '169.254.169.254' };
    t = await createTestApp(
      { BACKCHANNEL_LOGOUT_WORKER_ENABLED: 'true', BACKCHANNEL_LOGOUT_RETRY_BASE_SECONDS: '1' },
      {
        backchannelLogoutPollIntervalMs: 50,
        resolve: async (host) => {
          const address = table[host];
          if (!address) throw new Error('ENOTFOUND');
          return [{ address, family: 4 }];
        },
      },
    );
  });
  afterAll(() => t?.close());

  it.each([
    ['a private address', 'https://internal.example/logout', 'refused: forbidden_address'],
    ['a link-local address (cloud metadata)', 'https://metadata.example/logout', 'refused: forbidden_address'],
    ['a loopback literal without the development setting', 'https://127.0.0.1:9/logout', 'refused: forbidden_address'],
    ['plain http', 'http://internal.example/logout', 'refused: invalid_url'],
  ])('refuses %s, at once and for good', async (_name, uri, error) => {
    const user = await createUser(t.app);
    // Straight into the database: registration would refuse the http URL.
    const client = await createClient(t.app, { backchannelLogoutUri: uri });
    const browser = new InjectBrowser(t.app);
    const { id_token } = await obtainTokens(t.app, browser, client, user.username, { scope: 'openid' });
    const before = (await metricValue(t.app, 'authly_backchannel_logout_failed_total', { reason: 'refused' }))!;
    await browser.get(`/oidc/logout?${new URLSearchParams({ id_token_hint: id_token! })}`);
    await waitUntil(async () => (await listLogouts(t.app.ctx.db)).some((r) => r.clientId === client.clientId && r.status === 'failed'), 'the refusal');
    expect((await listLogouts(t.app.ctx.db)).find((r) => r.clientId === client.clientId)).toMatchObject({ status: 'failed', attempts: 1, lastError: error });
    expect(await metricValue(t.app, 'authly_backchannel_logout_failed_total', { reason: 'refused' })).toBe(before + 1);
  });
});

describe('back-channel logout turned off (BACKCHANNEL_LOGOUT_ENABLED=false)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ BACKCHANNEL_LOGOUT_ENABLED: 'false', OUTBOUND_ALLOW_LOOPBACK: 'true' });
  });
  afterAll(() => t?.close());

  it('queues nothing when a session ends, and readiness says so', async () => {
    const user = await createUser(t.app);
    const client = await createClient(t.app, { backchannelLogoutUri: 'https://rp.example.com/logout' });
    const browser = new InjectBrowser(t.app);
    const { id_token } = await obtainTokens(t.app, browser, client, user.username, { scope: 'openid' });
    expect((await browser.get(`/oidc/logout?${new URLSearchParams({ id_token_hint: id_token! })}`)).statusCode).toBe(200);
    expect(await listLogouts(t.app.ctx.db)).toEqual([]);
    expect((await t.app.inject('/health/ready')).json().checks.backchannel_logout).toEqual({
      enabled: false,
      worker: false,
      queued: 0,
      oldest_queued_age_seconds: 0,
      last_error: null,
    });
  });
});
