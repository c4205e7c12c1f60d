import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InjectBrowser } from '../../helpers/browser.js';
import { createClient, createUser, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { obtainTokens, tokenRequest, userinfo } from '../../helpers/oauth-flow.js';
import type { User } from '../../../src/repositories/users-repository.js';
import { findUserById } from '../../../src/repositories/users-repository.js';
import { verifyPassword } from '../../../src/services/password-hasher.js';
import { csrfOf, signInToAccount } from './account-helpers.js';

/**
 * Issue 12 §4: every action of the account page, its CSRF protection, and that an id in a form only ever
 * names something of the signed-in user (no IDOR).
 */
describe('account pages', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ REQUIRE_USER_CONSENT: 'true', AUTHLY_LOCKOUT_MAX_ATTEMPTS: '3' });
  });
  afterAll(() => t.close());

  /** A new user signed in to the account in a new browser. */
  async function signedIn(overrides: Partial<User> = {}): Promise<{ user: User; b: InjectBrowser }> {
    const user = await createUser(t.app, overrides);
    const b = new InjectBrowser(t.app);
    await signInToAccount(b, user.username);
    return { user, b };
  }

  const liveSessions = async (userId: string) =>
    (await t.testDb.db.query<{ sid: string }>('SELECT sid FROM sessions WHERE user_id = $1 AND expires_at > now() ORDER BY created_at', [userId])).rows.map((r) => r.sid);
  const auditEvents = (event: string, userId: string) => t.logs.filter((l) => l.includes(`"event":"${event}"`) && l.includes(userId));

  describe('profile', () => {
    it('shows the name fields, the email with its verified state, and the link to change it', async () => {
      const { user, b } = await signedIn({ name: 'Ada Lovelace', givenName: 'Ada', familyName: 'Lovelace', emailVerified: false });
      const page = await b.get('/account');
      expect(page.statusCode).toBe(200);
      expect(page.headers['cache-control']).toBe('no-store');
      expect(page.body).toContain('<h1>Profile</h1>');
      expect(page.body).toContain('<a href="/account" aria-current="page">Profile</a>');
      expect(page.body).toContain('<input type="text" id="name" name="name" value="Ada Lovelace" autocomplete="name" maxlength="255">');
      expect(page.body).toContain('<input type="text" id="given_name" name="given_name" value="Ada" autocomplete="given-name" maxlength="255">');
      expect(page.body).toContain('<input type="text" id="family_name" name="family_name" value="Lovelace" autocomplete="family-name" maxlength="255">');
      expect(page.body).toContain(`<span class="email">${user.email}</span> (not verified yet)`);
      expect(page.body).toContain('<a href="/account/email">Change your email address or resend the verification</a>');
      expect(page.body).toContain('<a href="/account/sign-out">Sign out</a>');
    });

    it('saves the name (an empty field clears it), audited', async () => {
      const { user, b } = await signedIn();
      const page = await b.get('/account');
      const res = await b.post('/account/profile', { csrf_token: csrfOf(page.body, '/account/profile'), name: '  Grace Hopper ', given_name: 'Grace', family_name: '' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<p class="notice" role="status">Your profile was saved.</p>');
      expect(res.body).toContain('value="Grace Hopper"');
      expect(await findUserById(t.testDb.db, user.id)).toMatchObject({ name: 'Grace Hopper', givenName: 'Grace', familyName: null });
      expect(auditEvents('account.profile_updated', user.id)).toHaveLength(1);
    });

    it('refuses a name that is too long with the form again', async () => {
      const { user, b } = await signedIn();
      const page = await b.get('/account');
      const res = await b.post('/account/profile', { csrf_token: csrfOf(page.body, '/account/profile'), name: 'x'.repeat(256) });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain('<p class="error" role="alert">A name may have at most 255 characters.</p>');
      expect((await findUserById(t.testDb.db, user.id))?.name).toBe('Test User');
    });

    it('speaks German when the browser asks for it', async () => {
      const { b } = await signedIn();
      const res = await t.app.inject({ method: 'GET', url: '/account', headers: { 'accept-language': 'de-DE,de;q=0.9', cookie: await cookieOf(b) } });
      expect(res.body).toContain('<html lang="de">');
      expect(res.body).toContain('<h1>Profil</h1>');
      expect(res.body).toContain('Anmeldung und Sicherheit');
    });
  });

  /** The session cookie header of a browser (read through a page that echoes nothing: the cookie jar is private). */
  async function cookieOf(b: InjectBrowser): Promise<string> {
    const jar = (b as unknown as { cookies: Map<string, { value: string }> }).cookies;
    return [...jar.entries()].filter(([k]) => k.startsWith('authly_session|')).map(([, c]) => `authly_session=${c.value}`).join('; ');
  }

  describe('password', () => {
    it('shows the password form and links to passkeys and the authenticator app', async () => {
      const { b } = await signedIn();
      const page = await b.get('/account/security');
      expect(page.body).toContain('<input type="password" id="current_password" name="current_password" autocomplete="current-password" required>');
      expect(page.body).toContain('autocomplete="new-password"');
      expect(page.body).toContain('<a href="/account/security/passkeys">Manage passkeys</a>');
      expect(page.body).toContain('<a href="/account/security/totp">Manage the authenticator app and recovery codes</a>');
    });

    it('changes the password: other sessions end, this one stays, a password_changed mail is queued, audited', async () => {
      const { user, b } = await signedIn();
      const elsewhere = new InjectBrowser(t.app);
      await signInToAccount(elsewhere, user.username);
      expect(await liveSessions(user.id)).toHaveLength(2);
      const page = await b.get('/account/security');
      const res = await b.post('/account/security/password', {
        csrf_token: csrfOf(page.body, '/account/security/password'),
        current_password: TEST_PASSWORD,
        new_password: 'a brand new passphrase',
        confirm_password: 'a brand new passphrase',
      });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<p class="notice" role="status">Your password was changed. Other sessions signed out: 1.</p>');
      expect(await liveSessions(user.id)).toHaveLength(1);
      expect((await b.get('/account')).statusCode).toBe(200);
      expect((await elsewhere.get('/account')).statusCode).toBe(303);
      const stored = await findUserById(t.testDb.db, user.id);
      expect(await verifyPassword(stored!.passwordHash, 'a brand new passphrase')).toBe(true);
      const mail = await t.testDb.db.query<{ recipient: string; template: string; locale: string; data: unknown }>(
        'SELECT recipient, template, locale, data FROM mail_outbox WHERE recipient = $1',
        [user.email],
      );
      expect(mail.rows).toEqual([
        { recipient: user.email, template: 'password_changed', locale: 'en', data: { username: user.username, accountUrl: `${TEST_ISSUER}/account` } },
      ]);
      expect(auditEvents('account.password_changed', user.id)).toHaveLength(1);
    });

    it.each([
      ['a wrong current password', { current_password: 'not my password', new_password: 'another passphrase', confirm_password: 'another passphrase' }, 'The current password is not correct.'],
      ['two different new passwords', { current_password: TEST_PASSWORD, new_password: 'another passphrase', confirm_password: 'another passphrase!' }, 'The two new passwords are not the same.'],
      ['a new password that is too short', { current_password: TEST_PASSWORD, new_password: 'short', confirm_password: 'short' }, 'The new password needs at least 8 characters.'],
      ['a new password that is too long', { current_password: TEST_PASSWORD, new_password: 'x'.repeat(1025), confirm_password: 'x'.repeat(1025) }, 'The new password may have at most 1024 characters.'],
    ])('refuses %s with 400 and changes nothing', async (_name, form, message) => {
      const { user, b } = await signedIn();
      const page = await b.get('/account/security');
      const res = await b.post('/account/security/password', { csrf_token: csrfOf(page.body, '/account/security/password'), ...form });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain(`<p class="error" role="alert">${message}</p>`);
      expect(await verifyPassword((await findUserById(t.testDb.db, user.id))!.passwordHash, TEST_PASSWORD)).toBe(true);
      expect(auditEvents('account.password_change_refused', user.id)).toHaveLength(1);
    });

    it('throttles guesses of the current password like sign-ins (429 with the wait in words)', async () => {
      const { user, b } = await signedIn();
      const page = await b.get('/account/security');
      const csrf = csrfOf(page.body, '/account/security/password');
      const guess = () => b.post('/account/security/password', { csrf_token: csrf, current_password: 'guess', new_password: 'another passphrase', confirm_password: 'another passphrase' });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await guess()).statusCode);
      expect(statuses).toEqual([400, 400, 400, 429]);
      const refused = await guess();
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.body).toMatch(/Too many wrong passwords\. Wait \d+ minutes and try again\./);
      // Even the right password waits: the throttle is checked before the password.
      const right = await b.post('/account/security/password', { csrf_token: csrf, current_password: TEST_PASSWORD, new_password: 'another passphrase', confirm_password: 'another passphrase' });
      expect(right.statusCode).toBe(429);
      expect(await verifyPassword((await findUserById(t.testDb.db, user.id))!.passwordHash, TEST_PASSWORD)).toBe(true);
    });

    it('a user without a password is sent to the recovery mail: a session alone does not set a first password', async () => {
      const { user, b } = await signedIn();
      await t.testDb.db.query('UPDATE users SET password_hash = NULL WHERE id = $1', [user.id]);
      const page = await b.get('/account/security');
      expect(page.body).toContain('Your account has no password yet. To set one, sign out and use &quot;Forgot password?&quot; on the sign-in page');
      expect(page.body).not.toContain('name="new_password"');
      const res = await b.post('/account/security/password', { csrf_token: csrfOf((await b.get('/account')).body, '/account/profile'), new_password: 'first passphrase', confirm_password: 'first passphrase' });
      expect(res.statusCode).toBe(400);
      expect((await findUserById(t.testDb.db, user.id))!.passwordHash).toBeNull();
    });
  });

  describe('sessions', () => {
    it('lists the live sessions with their sign-in method, this one marked, and signs out another one', async () => {
      const { user, b } = await signedIn();
      const other = new InjectBrowser(t.app);
      await signInToAccount(other, user.username);
      const [first, second] = await liveSessions(user.id);
      const page = await b.get('/account/sessions');
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<li aria-current="true">');
      expect(page.body).toContain('<h2 id="session-0">This browser</h2>');
      expect(page.body).toContain('<h2 id="session-1">Another session</h2>');
      expect(page.body).toContain('Signed in with: password');
      expect(page.body).toContain(`<input type="hidden" name="sid" value="${second}">`);
      expect(page.body).not.toContain(`<input type="hidden" name="sid" value="${first}">`);
      const res = await b.post('/account/sessions/end', { csrf_token: csrfOf(page.body, '/account/sessions/end'), sid: second! });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<p class="notice" role="status">The session was signed out.</p>');
      expect(await liveSessions(user.id)).toEqual([first]);
      expect((await other.get('/account')).statusCode).toBe(303);
      expect(auditEvents('account.session_ended', user.id)).toHaveLength(1);
    });

    it("another user's session id is refused like an unknown one, and that session lives on (no IDOR)", async () => {
      const { b } = await signedIn();
      const victim = await signedIn();
      const [victimSid] = await liveSessions(victim.user.id);
      // One session: the page has no per-session form; the account's CSRF token is the same on every page.
      const csrf = csrfOf((await b.get('/account')).body, '/account/profile');
      for (const sid of [victimSid!, 'no-such-session', 'x'.repeat(300)]) {
        const res = await b.post('/account/sessions/end', { csrf_token: csrf, sid });
        expect(res.statusCode).toBe(404);
        expect(res.body).toContain('<p class="error" role="alert">That session does not exist or has already ended.</p>');
      }
      expect(await liveSessions(victim.user.id)).toEqual([victimSid]);
      expect((await victim.b.get('/account')).statusCode).toBe(200);
    });

    it('signs out all other sessions', async () => {
      const { user, b } = await signedIn();
      await signInToAccount(new InjectBrowser(t.app), user.username);
      await signInToAccount(new InjectBrowser(t.app), user.username);
      const [mine] = await liveSessions(user.id);
      const page = await b.get('/account/sessions');
      const res = await b.post('/account/sessions/end-others', { csrf_token: csrfOf(page.body, '/account/sessions/end-others') });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('Other sessions signed out: 2.');
      expect(res.body).toContain('You are not signed in anywhere else.');
      expect(await liveSessions(user.id)).toEqual([mine]);
    });
  });

  describe('connected applications', () => {
    let app1: TestClient;
    beforeAll(async () => {
      app1 = await createClient(t.app, { clientName: 'Photo Printer', clientUri: 'https://photos.example.com' });
    });

    it('lists what each application may do and since when; revoking drops consent, grants and tokens', async () => {
      const { user, b } = await signedIn();
      const tokens = await obtainTokens(t.app, b, app1, user.username, { scope: 'openid profile offline_access' });
      expect(tokens.refresh_token).toBeDefined();
      const page = await b.get('/account/applications');
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<h2>Photo Printer</h2>');
      expect(page.body).toContain('<a href="https://photos.example.com" rel="noopener noreferrer">Website of Photo Printer</a>');
      expect(page.body).toMatch(/Connected since <time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">/);
      expect(page.body).not.toContain('authly-account');
      const scopes = /<ul class="scopes">(.*?)<\/ul>/s.exec(page.body)![1]!;
      expect(scopes.match(/<li>/g)).toHaveLength(3);

      const res = await b.post('/account/applications/revoke', { csrf_token: csrfOf(page.body, '/account/applications/revoke'), client_id: app1.clientId });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<p class="notice" role="status">Access for Photo Printer was revoked.</p>');
      expect(res.body).toContain('No application has access to your account.');
      expect((await t.testDb.db.query('SELECT 1 FROM consents WHERE user_id = $1', [user.id])).rows).toHaveLength(0);
      expect((await t.testDb.db.query('SELECT 1 FROM grants WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NULL', [user.id, app1.clientId])).rows).toHaveLength(0);
      const refresh = await tokenRequest(t.app, app1, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
      expect(refresh.statusCode).toBe(400);
      expect(refresh.json()).toMatchObject({ error: 'invalid_grant' });
      expect((await userinfo(t.app, tokens.access_token)).statusCode).toBe(401);
      expect(auditEvents('account.application_revoked', user.id)).toHaveLength(1);
    });

    it("a client the user never let in, another user's application, and the account client are refused (no IDOR)", async () => {
      const { b } = await signedIn();
      const victim = await signedIn();
      const victimTokens = await obtainTokens(t.app, victim.b, app1, victim.user.username, { scope: 'openid offline_access' });
      const csrf = csrfOf((await b.get('/account')).body, '/account/profile');
      for (const clientId of [app1.clientId, 'authly-account', 'no-such-client']) {
        const res = await b.post('/account/applications/revoke', { csrf_token: csrf, client_id: clientId });
        expect(res.statusCode).toBe(404);
        expect(res.body).toContain('<p class="error" role="alert">That application has no access to your account.</p>');
      }
      const refresh = await tokenRequest(t.app, app1, { grant_type: 'refresh_token', refresh_token: victimTokens.refresh_token! });
      expect(refresh.statusCode).toBe(200);
    });
  });

  describe('CSRF and methods', () => {
    it.each([
      ['/account/profile', { name: 'Mallory' }],
      ['/account/security/password', { current_password: TEST_PASSWORD, new_password: 'mallory was here', confirm_password: 'mallory was here' }],
      ['/account/sessions/end', { sid: 'x' }],
      ['/account/sessions/end-others', {}],
      ['/account/applications/revoke', { client_id: 'x' }],
      ['/account/sign-out', {}],
    ])('POST %s without the right CSRF token is refused with 403 and changes nothing', async (path, form) => {
      const { user, b } = await signedIn();
      const before = await findUserById(t.testDb.db, user.id);
      for (const token of [undefined, 'forged']) {
        const res = await b.post(path, { ...(token ? { csrf_token: token } : {}), ...form });
        expect(res.statusCode).toBe(403);
        expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(res.body).toContain('The form has expired. Nothing was changed; go back, reload the page and try again.');
      }
      expect(await findUserById(t.testDb.db, user.id)).toEqual(before);
      expect(await liveSessions(user.id)).toHaveLength(1);
    });

    it("a CSRF token of another session is refused", async () => {
      const { b } = await signedIn();
      const other = await signedIn();
      const foreign = csrfOf((await other.b.get('/account')).body, '/account/profile');
      const res = await b.post('/account/profile', { csrf_token: foreign, name: 'Mallory' });
      expect(res.statusCode).toBe(403);
    });

    it('a form that is not urlencoded is refused with a page', async () => {
      const { b } = await signedIn();
      const res = await t.app.inject({ method: 'POST', url: '/account/profile', headers: { cookie: await cookieOf(b), 'content-type': 'application/json' }, payload: '{}' });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    });

    it.each([
      ['/account/profile', '/account'],
      ['/account/security/password', '/account/security'],
      ['/account/sessions/end', '/account/sessions'],
      ['/account/sessions/end-others', '/account/sessions'],
      ['/account/applications/revoke', '/account/applications'],
    ])('GET %s goes back to its section', async (path, section) => {
      const res = await t.app.inject({ method: 'GET', url: path });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(section);
    });

    it('a POST without a session goes to the sign-in', async () => {
      const res = await new InjectBrowser(t.app).post('/account/profile', { name: 'x' });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/account/sign-in?return_to=%2Faccount%2Fprofile');
    });
  });

  describe('sign out', () => {
    it('asks first, then ends the session with the CSRF token', async () => {
      const { user, b } = await signedIn();
      const confirm = await b.get('/account/sign-out');
      expect(confirm.statusCode).toBe(200);
      expect(confirm.body).toContain('<h1>Sign out?</h1>');
      const res = await b.post('/account/sign-out', { csrf_token: csrfOf(confirm.body, '/account/sign-out') });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<h1>You are signed out</h1>');
      expect(b.hasCookie('authly_session')).toBe(false);
      expect(await liveSessions(user.id)).toEqual([]);
      expect((await b.get('/account')).statusCode).toBe(303);
      expect((await b.get('/account/sign-out')).body).toContain('<h1>You are signed out</h1>');
    });
  });
});
