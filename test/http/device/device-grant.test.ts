import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { InjectBrowser } from '../../helpers/browser.js';
import { createClient, createUser, type TestClient } from '../../helpers/fixtures.js';
import {
  approveDevice,
  createDeviceClient,
  DEVICE_GRANT,
  deviceAuthorizationRequest,
  enterUserCode,
  forgetLastPoll,
  poll,
  startDevice,
} from '../../helpers/device-flow.js';
import { tokenRequest } from '../../helpers/oauth-flow.js';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import type { User } from '../../../src/repositories/users-repository.js';
import { hashOpaqueToken } from '../../../src/tokens/opaque-token.js';

const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;

/** RFC 8628: the device authorization endpoint, the /device page and every section 3.5 answer of the token endpoint. */
describe('device authorization grant (RFC 8628)', () => {
  let t: TestApp;
  let client: TestClient;
  let user: User;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createDeviceClient(t.app);
    user = await createUser(t.app);
  });
  afterAll(() => t.close());

  const status = async (deviceCode: string) => {
    const { rows } = await t.app.ctx.db.query<{ status: string; interval_seconds: number }>(
      'SELECT status, interval_seconds FROM device_authorizations WHERE device_code_hash = $1',
      [hashOpaqueToken(deviceCode)],
    );
    return rows[0];
  };

  describe('POST /oauth/device_authorization (section 3.1/3.2)', () => {
    it('answers device_code, user_code, verification_uri(_complete), expires_in and interval, not cached', async () => {
      const res = await deviceAuthorizationRequest(t.app, client, { scope: 'openid offline_access' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(['device_code', 'expires_in', 'interval', 'user_code', 'verification_uri', 'verification_uri_complete']);
      expect(body.device_code).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(body.user_code).toMatch(USER_CODE);
      expect(body).toMatchObject({ verification_uri: `${TEST_ISSUER}/device`, expires_in: 600, interval: 5 });
      expect(body.verification_uri_complete).toBe(`${TEST_ISSUER}/device?user_code=${body.user_code}`);
    });

    it('stores only hashes of the device code and the user code', async () => {
      const body = await startDevice(t.app, client);
      const { rows } = await t.app.ctx.db.query<Record<string, unknown>>('SELECT * FROM device_authorizations');
      const dump = JSON.stringify(rows);
      expect(dump).not.toContain(body.device_code);
      expect(dump).not.toContain(body.user_code);
      expect(dump).not.toContain(body.user_code.replace('-', ''));
    });

    it('a confidential client must authenticate → 401 invalid_client', async () => {
      const confidential = await createDeviceClient(t.app, { tokenEndpointAuthMethod: 'client_secret_basic', clientType: 'confidential' });
      const ok = await deviceAuthorizationRequest(t.app, confidential);
      expect(ok.statusCode).toBe(200);
      const res = await deviceAuthorizationRequest(t.app, confidential, {}, { method: 'none' });
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toBe('invalid_client');
    });

    it('a client not registered for the device grant → unauthorized_client', async () => {
      const codeClient = await createClient(t.app, { tokenEndpointAuthMethod: 'none' });
      const res = await deviceAuthorizationRequest(t.app, codeClient);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'unauthorized_client', error_description: 'this client may not use the device authorization grant' });
    });

    it('a scope outside the registration → invalid_scope; a repeated parameter → invalid_request', async () => {
      const res = await deviceAuthorizationRequest(t.app, client, { scope: 'openid authly:admin' });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_scope', error_description: 'scope not allowed for this client: authly:admin' });
      const twice = await t.app.inject({
        method: 'POST',
        url: '/oauth/device_authorization',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `client_id=${client.clientId}&scope=openid&scope=email`,
      });
      expect(twice.statusCode).toBe(400);
      expect(twice.json()).toEqual({ error: 'invalid_request', error_description: 'scope must not be repeated' });
    });
  });

  describe('polling (section 3.4/3.5)', () => {
    it('pending → authorization_pending; too fast → slow_down and the interval grows by 5 s, in the row', async () => {
      const { device_code } = await startDevice(t.app, client);
      const first = await poll(t.app, client, device_code);
      expect(first.statusCode).toBe(400);
      expect(first.headers['cache-control']).toBe('no-store');
      expect(first.json()).toEqual({ error: 'authorization_pending', error_description: 'the user has not yet approved the request' });
      const fast = await poll(t.app, client, device_code);
      expect(fast.statusCode).toBe(400);
      expect(fast.json()).toEqual({ error: 'slow_down', error_description: 'polling too fast; the interval was increased by 5 seconds' });
      expect(await status(device_code)).toEqual({ status: 'pending', interval_seconds: 10 });
      const faster = await poll(t.app, client, device_code);
      expect(faster.json().error).toBe('slow_down');
      expect((await status(device_code))!.interval_seconds).toBe(15);
      // A poll that waited the interval out is pending again, and the interval stays as raised.
      await forgetLastPoll(t.app);
      const later = await poll(t.app, client, device_code);
      expect(later.json()).toEqual({ error: 'authorization_pending', error_description: 'the user has not yet approved the request' });
      expect((await status(device_code))!.interval_seconds).toBe(15);
    });

    it('approved once → tokens (ID token with openid, refresh token with offline_access); then invalid_grant', async () => {
      const started = await startDevice(t.app, client, { scope: 'openid profile offline_access' });
      const done = await approveDevice(new InjectBrowser(t.app), started.user_code, user.username);
      expect(done.statusCode).toBe(200);
      expect(done.body).toContain('Device connected');
      expect(done.body).toContain('You may return to your device');

      await forgetLastPoll(t.app);
      const res = await poll(t.app, client, started.device_code);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ token_type: 'Bearer', scope: 'openid profile offline_access', expires_in: 900 });
      expect(body.refresh_token).toEqual(expect.any(String));
      const idToken = decodeJwt(body.id_token);
      expect(idToken).toMatchObject({ iss: TEST_ISSUER, sub: user.id, aud: client.clientId, amr: ['pwd'] });
      expect(idToken.nonce).toBeUndefined();
      expect(decodeJwt(body.access_token)).toMatchObject({ sub: user.id, client_id: client.clientId });

      await forgetLastPoll(t.app);
      const again = await poll(t.app, client, started.device_code);
      expect(again.statusCode).toBe(400);
      expect(again.json()).toEqual({ error: 'invalid_grant', error_description: 'device_code was already used' });

      const refreshed = await tokenRequest(t.app, client, { grant_type: 'refresh_token', refresh_token: body.refresh_token });
      expect(refreshed.statusCode).toBe(200);
    });

    it('two polls at once after approval: tokens exactly once', async () => {
      const started = await startDevice(t.app, client, { scope: 'openid' });
      await approveDevice(new InjectBrowser(t.app), started.user_code, user.username);
      await forgetLastPoll(t.app);
      const answers = await Promise.all([poll(t.app, client, started.device_code), poll(t.app, client, started.device_code)]);
      expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 400]);
      expect(answers.find((r) => r.statusCode === 400)!.json().error).toMatch(/^(invalid_grant|slow_down)$/);
    });

    it('denied on the confirmation page → access_denied', async () => {
      const started = await startDevice(t.app, client);
      const page = await enterUserCode(new InjectBrowser(t.app), started.user_code, 'deny');
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('Device not connected');
      const res = await poll(t.app, client, started.device_code);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'access_denied', error_description: 'the user denied the request' });
    });

    it('denied on the consent page → access_denied', async () => {
      // A client the user has not consented to yet, so the consent page is shown after the sign-in.
      const fresh = await createDeviceClient(t.app);
      const started = await startDevice(t.app, fresh, { scope: 'openid' });
      const page = await approveDevice(new InjectBrowser(t.app), started.user_code, user.username, 'deny');
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('Device not connected');
      const res = await poll(t.app, fresh, started.device_code);
      expect(res.json()).toEqual({ error: 'access_denied', error_description: 'the user denied the request' });
    });

    it('expired → expired_token, and its user code is no longer found', async () => {
      const started = await startDevice(t.app, client);
      await t.app.ctx.db.query(`UPDATE device_authorizations SET expires_at = now() - interval '1 second' WHERE user_code_hash IS NOT NULL AND status = 'pending'`);
      const res = await poll(t.app, client, started.device_code);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'expired_token', error_description: 'device_code has expired' });
      const page = await enterUserCode(new InjectBrowser(t.app), started.user_code);
      expect(page.statusCode).toBe(400);
      expect(page.body).toContain('This code is not valid or has expired.');
    });

    it("another client's device_code, an unknown one, or none → invalid_grant / invalid_request", async () => {
      const started = await startDevice(t.app, client);
      const other = await createDeviceClient(t.app);
      const stolen = await poll(t.app, other, started.device_code);
      expect(stolen.statusCode).toBe(400);
      expect(stolen.json()).toEqual({ error: 'invalid_grant', error_description: 'device_code is invalid' });
      const unknown = await poll(t.app, client, 'x'.repeat(43));
      expect(unknown.json()).toEqual({ error: 'invalid_grant', error_description: 'device_code is invalid' });
      const none = await tokenRequest(t.app, client, { grant_type: DEVICE_GRANT });
      expect(none.json()).toEqual({ error: 'invalid_request', error_description: 'device_code is required' });
    });

    it('a client not registered for the grant → unauthorized_client at the token endpoint', async () => {
      const codeClient = await createClient(t.app, { tokenEndpointAuthMethod: 'none' });
      const res = await poll(t.app, codeClient, 'x'.repeat(43));
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'unauthorized_client', error_description: `this client may not use the ${DEVICE_GRANT} grant` });
    });

    it('admin scopes reach only an administrator (the grant keeps what the person may grant)', async () => {
      const adminClient = await createDeviceClient(t.app, { scope: 'openid authly:admin' });
      const started = await startDevice(t.app, adminClient, { scope: 'openid authly:admin' });
      await approveDevice(new InjectBrowser(t.app), started.user_code, user.username);
      const res = await poll(t.app, adminClient, started.device_code);
      expect(res.statusCode).toBe(200);
      expect(res.json().scope).toBe('openid');
    });
  });

  describe('the /device page (section 3.3)', () => {
    it('verification_uri_complete prefills the code, formatted, but the person still confirms', async () => {
      const started = await startDevice(t.app, client, { scope: 'openid email' });
      const typed = started.user_code.toLowerCase().replace('-', ' ');
      const page = await new InjectBrowser(t.app).get(`/device?user_code=${encodeURIComponent(typed)}`);
      expect(page.statusCode).toBe(200);
      expect(page.headers['x-frame-options']).toBe('DENY');
      expect(page.body).toContain(`value="${started.user_code}"`);
      expect(page.body).toContain('<form method="post" action="/device">');
      expect(await status(started.device_code)).toEqual({ status: 'pending', interval_seconds: 5 });
    });

    it('the confirmation names the client, what it asks for and the code (section 5.4)', async () => {
      const started = await startDevice(t.app, client, { scope: 'openid email' });
      const browser = new InjectBrowser(t.app);
      const form = await browser.get('/device');
      const token = /name="csrf_token" value="([^"]+)"/.exec(form.body)![1]!;
      const confirm = await browser.post('/device', { csrf_token: token, user_code: ` ${started.user_code.toLowerCase().replace('-', '')} ` });
      expect(confirm.statusCode).toBe(200);
      expect(confirm.body).toContain('<strong>Living Room TV</strong> on a device asks for access to your account.');
      expect(confirm.body).toContain(`<strong class="user-code">${started.user_code}</strong>`);
      expect(confirm.body).toContain('Read your email address');
      expect(confirm.body).toContain('If someone sent you this code or link, deny');
    });

    it('a form without its CSRF token → 403, nothing looked up', async () => {
      const started = await startDevice(t.app, client);
      const res = await new InjectBrowser(t.app).post('/device', { user_code: started.user_code });
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain('The form has expired.');
      const confirm = await new InjectBrowser(t.app).post('/device/confirm', { user_code: started.user_code, decision: 'deny' });
      expect(confirm.statusCode).toBe(403);
      // With a form token but a request id the server did not hand out (no confirmation token): refused.
      const browser = new InjectBrowser(t.app);
      const form = await browser.get('/device');
      const token = /name="csrf_token" value="([^"]+)"/.exec(form.body)![1]!;
      const forged = await browser.post('/device/confirm', { csrf_token: token, request_id: '00000000-0000-4000-8000-000000000000', confirm_token: 'x', decision: 'deny' });
      expect(forged.statusCode).toBe(400);
      expect(forged.body).toContain('This request has expired or was already answered.');
      expect(await status(started.device_code)).toEqual({ status: 'pending', interval_seconds: 5 });
    });

    it('a signed-in person goes from the confirmation to the consent page, not to a second sign-in', async () => {
      const browser = new InjectBrowser(t.app);
      const first = await startDevice(t.app, client, { scope: 'openid' });
      await approveDevice(browser, first.user_code, user.username);
      const second = await startDevice(t.app, client, { scope: 'openid' });
      const next = await enterUserCode(browser, second.user_code);
      expect(next.statusCode).toBe(303);
      const page = await browser.get(next.headers.location as string);
      expect(page.body).not.toContain('name="password"');
      expect(page.body).toContain('Allow access?');
    });

    it('the German page', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/device', headers: { 'accept-language': 'de' } });
      expect(res.body).toContain('Gerät verbinden');
    });
  });
});

describe('device grant: guessing user codes is throttled per address (section 5.1)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ AUTHLY_LOCKOUT_MAX_ATTEMPTS: '1', METRICS_ENABLED: 'true' });
  });
  afterAll(() => t.close());

  it('after 10 N lookups from one address the next waits (429 with Retry-After), even with a right code', async () => {
    const client = await createDeviceClient(t.app);
    const started = await startDevice(t.app, client);
    const guesser = new InjectBrowser(t.app, '203.0.113.7');
    for (let i = 0; i < 10; i++) {
      const res = await enterUserCode(guesser, 'BCDF-GHJK');
      expect(res.statusCode).toBe(400);
    }
    const locked = await enterUserCode(guesser, started.user_code);
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(locked.body).toContain('Too many codes were tried from this network.');
    // Another address is not affected.
    const other = await enterUserCode(new InjectBrowser(t.app, '198.51.100.9'), started.user_code, 'deny');
    expect(other.statusCode).toBe(200);
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/authly_device_user_code_attempts_total\{result="not_found"\} 10/);
    expect(metrics.body).toMatch(/authly_device_user_code_attempts_total\{result="throttled"\} 1/);
  });
});

describe('device grant switched off (DEVICE_GRANT_ENABLED=false)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ DEVICE_GRANT_ENABLED: 'false' });
  });
  afterAll(() => t.close());

  it('is absent from discovery, its endpoint and page are not served, and the grant is unsupported', async () => {
    const discovery = (await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json();
    expect(discovery.device_authorization_endpoint).toBeUndefined();
    expect(discovery.grant_types_supported).not.toContain(DEVICE_GRANT);
    const client = await createDeviceClient(t.app);
    expect((await deviceAuthorizationRequest(t.app, client)).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/device' })).statusCode).toBe(404);
    const res = await poll(t.app, client, 'x'.repeat(43));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'unsupported_grant_type', error_description: `grant_type ${DEVICE_GRANT} is not supported` });
  });
});

describe('device grant in discovery (enabled by default)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('advertises device_authorization_endpoint and the grant type', async () => {
    const discovery = (await t.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })).json();
    expect(discovery.device_authorization_endpoint).toBe(`${TEST_ISSUER}/oauth/device_authorization`);
    expect(discovery.grant_types_supported).toContain(DEVICE_GRANT);
  });
});
