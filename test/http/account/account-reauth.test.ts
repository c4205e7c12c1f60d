import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InjectBrowser } from '../../helpers/browser.js';
import { createUser } from '../../helpers/fixtures.js';
import { completeInteraction } from '../../helpers/oauth-flow.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { csrfOf, local, signInToAccount } from './account-helpers.js';

/**
 * A change of the account's factors (passkeys, the authenticator app, recovery codes) needs a sign-in of
 * at most ACCOUNT_REAUTH_MINUTES: with an older one, the user signs in again (prompt=login) and comes
 * back to the page. Other account pages do not ask.
 */
describe('account: a recent sign-in before changing factors', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ ACCOUNT_REAUTH_MINUTES: '10' });
  });
  afterAll(() => t.close());

  async function signedIn() {
    const user = await createUser(t.app);
    const b = new InjectBrowser(t.app);
    await signInToAccount(b, user.username);
    return { user, b };
  }
  /** Makes every session of the user `minutes` old (its sign-in, not its expiry). */
  const age = (userId: string, minutes: number) =>
    t.testDb.db.query(`UPDATE sessions SET auth_time = now() - make_interval(mins => $2::int) WHERE user_id = $1`, [userId, minutes]);
  const reauthPath = (page: string) => `/account/sign-in?return_to=${encodeURIComponent(page)}&reauth=1`;

  it('within the window the factor pages open at once', async () => {
    const { b } = await signedIn();
    expect((await b.get('/account/security/passkeys')).statusCode).toBe(200);
    expect((await b.get('/account/security/totp')).statusCode).toBe(200);
  });

  it('after it, the pages send to a new sign-in with prompt=login that returns to them; the overview does not ask', async () => {
    const { user, b } = await signedIn();
    await age(user.id, 11);
    expect((await b.get('/account')).statusCode).toBe(200);
    expect((await b.get('/account/security')).statusCode).toBe(200);

    for (const page of ['/account/security/passkeys', '/account/security/totp']) {
      const res = await b.get(page);
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(reauthPath(page));
    }
    const start = await b.get(reauthPath('/account/security/passkeys'));
    expect(start.statusCode).toBe(303);
    const authorize = new URL(start.headers.location as string);
    expect(authorize.searchParams.get('prompt')).toBe('login');
    expect(authorize.searchParams.get('client_id')).toBe('authly-account');

    // The existing session does not satisfy prompt=login: the sign-in form, then back to the page.
    const res = await b.get(local(start.headers.location));
    expect(res.statusCode).toBe(303);
    expect(local(res.headers.location)).toMatch(/^\/interaction\//);
    const done = await completeInteraction(b, res, { username: user.username });
    const callback = await b.get(local(done.headers.location));
    expect(callback.statusCode, callback.body).toBe(303);
    expect(callback.headers.location).toBe('/account/security/passkeys');
    expect((await b.get('/account/security/passkeys')).statusCode).toBe(200);
  });

  it('a form posted after the window changes nothing and sends to the new sign-in', async () => {
    const { user, b } = await signedIn();
    const page = await b.get('/account/security/passkeys');
    const csrf = csrfOf(page.body, '/account/security/passkeys');
    await age(user.id, 11);
    const options = await b.post('/account/security/passkeys/options', { csrf_token: csrf });
    expect(options.statusCode).toBe(303);
    expect(options.headers.location).toBe(reauthPath('/account/security/passkeys/options'));
    const codes = await b.post('/account/security/totp/recovery-codes', { csrf_token: csrf });
    expect(codes.statusCode).toBe(303);
    expect(codes.headers.location).toBe(reauthPath('/account/security/totp/recovery-codes'));
    const challenges = await t.testDb.db.query('SELECT 1 FROM webauthn_challenges');
    expect(challenges.rowCount).toBe(0);
  });
});
