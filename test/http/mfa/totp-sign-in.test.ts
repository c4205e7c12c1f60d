import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfToken, formAction, InjectBrowser, redirectParams } from '../../helpers/browser.js';
import { createClient, createUser, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { authorizeUrl, tokenRequest } from '../../helpers/oauth-flow.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { TEST_DATABASE_URL } from '../../helpers/test-db.js';
import type { User } from '../../../src/repositories/users-repository.js';
import {
  answerMfa,
  claimsOf,
  enrolOnAccountPage,
  MFA_PATH,
  recoveryCodesOf,
  signInWithPassword,
  TestClock,
  tokensFrom,
  totpCode,
} from './mfa-helpers.js';

/**
 * TOTP and recovery codes end to end through app.inject: enrolment on the account page, the second step
 * of the sign-in, amr/acr in ID tokens from the code and from refresh, no code reuse, the ±1 step window,
 * throttling, single-use recovery codes (a race on PostgreSQL), and turning TOTP off.
 */
describe('TOTP as the second step of sign-in', () => {
  let t: TestApp;
  let client: TestClient;
  const clock = new TestClock();

  beforeAll(async () => {
    t = await createTestApp({ AUTHLY_LOCKOUT_MAX_ATTEMPTS: '3' }, { now: clock.now });
    client = await createClient(t.app, { skipConsent: true });
  });
  afterAll(() => t.close());

  /** A new user, signed in with the password (no factor yet: the default policy does not ask), TOTP enrolled. */
  async function enrolledUser(): Promise<{ user: User; browser: InjectBrowser; secret: string; codes: string[] }> {
    const user = await createUser(t.app);
    const browser = new InjectBrowser(t.app);
    const { res } = await signInWithPassword(browser, client, user.username);
    expect(res.statusCode).toBe(303);
    expect(redirectParams(res).get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { secret, codes } = await enrolOnAccountPage(browser, clock);
    return { user, browser, secret, codes };
  }

  it('enrols on the account page: QR code and key, confirmed by a code, ten recovery codes shown once, secret stored encrypted, mail queued', async () => {
    const user = await createUser(t.app);
    const browser = new InjectBrowser(t.app);
    await signInWithPassword(browser, client, user.username);

    const page = await browser.get('/account/security/totp');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("img-src 'self' data:");
    expect(page.body).toMatch(/<img src="data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+" alt="QR code to add this account to an authenticator app"/);
    const secret = /<code id="totp-secret">([A-Z2-7 ]+)<\/code>/.exec(page.body)![1]!.replace(/ /g, '');
    expect(secret).toHaveLength(32);
    // A reload shows the same pending secret.
    expect((await browser.get('/account/security/totp')).body).toContain(`<code id="totp-secret">`);
    expect(/<code id="totp-secret">([A-Z2-7 ]+)<\/code>/.exec((await browser.get('/account/security/totp')).body)![1]!.replace(/ /g, '')).toBe(secret);

    const wrong = await browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), code: '000000' === totpCode(secret, clock.now()) ? '111111' : '000000' });
    expect(wrong.statusCode).toBe(200);
    expect(wrong.body).toContain('<p class="error" role="alert">That code is not valid.');

    const forged = await browser.post(formAction(page.body), { csrf_token: 'forged', code: totpCode(secret, clock.now()) });
    expect(forged.statusCode).toBe(403);

    const ok = await browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), code: totpCode(secret, clock.now()) });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('<p class="notice" role="status">Two-step verification is on. Save your recovery codes now.</p>');
    expect(recoveryCodesOf(ok.body)).toHaveLength(10);
    expect(ok.body).toContain('Unused recovery codes: 10');

    const again = await browser.get('/account/security/totp');
    expect(recoveryCodesOf(again.body)).toEqual([]);
    expect(again.body).toContain('Unused recovery codes: 10');

    const stored = await t.testDb.db.query<{ secret_ciphertext: string }>('SELECT secret_ciphertext FROM user_totp WHERE user_id = $1', [user.id]);
    expect(stored.rows[0]!.secret_ciphertext).toMatch(/^v1\./);
    expect(stored.rows[0]!.secret_ciphertext).not.toContain(secret);
    const hashes = await t.testDb.db.query<{ code_hash: string }>('SELECT code_hash FROM recovery_codes WHERE user_id = $1', [user.id]);
    expect(hashes.rows).toHaveLength(10);
    for (const code of recoveryCodesOf(ok.body)) expect(hashes.rows.map((r) => r.code_hash)).not.toContain(code);
    const mail = await t.testDb.db.query<{ template: string; data: Record<string, string>; recipient: string }>(
      'SELECT template, data, recipient FROM mail_outbox WHERE recipient = $1',
      [user.email],
    );
    expect(mail.rows).toEqual([
      { template: 'mfa_changed', recipient: user.email, data: { username: user.username, change: 'totp_enabled', accountUrl: 'http://localhost:8000/account/security' } },
    ]);
    expect(t.logs.join('\n')).not.toContain(secret);
  });

  it('asks an enrolled user for a code after the password; the ID token says amr [pwd, otp, mfa] and acr mfa, from the code and from refresh', async () => {
    const { user, secret } = await enrolledUser();
    clock.advance(30);
    const browser = new InjectBrowser(t.app);
    const { res, verifier } = await signInWithPassword(browser, client, user.username, { scope: 'openid offline_access' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toMatch(MFA_PATH);
    expect(browser.hasCookie('authly_session')).toBe(false);

    const { page, res: done } = await answerMfa(browser, res, totpCode(secret, clock.now()));
    expect(page.body).toContain('<h1>Two-step verification</h1>');
    expect(page.body).toContain('autocomplete="one-time-code"');
    expect(done.statusCode).toBe(303);
    const tokens = await tokensFrom(t.app, client, done, verifier);
    const claims = claimsOf(tokens.id_token);
    expect(claims.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(claims.acr).toBe('urn:authly:acr:mfa');

    const refreshed = await tokenRequest(t.app, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect(refreshed.statusCode).toBe(200);
    const again = claimsOf((refreshed.json() as { id_token: string }).id_token);
    expect(again.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(again.acr).toBe('urn:authly:acr:mfa');
  });

  it('a sign-in without a second factor says amr [pwd] and acr single-factor', async () => {
    const user = await createUser(t.app);
    const browser = new InjectBrowser(t.app);
    const { res, verifier } = await signInWithPassword(browser, client, user.username);
    const claims = claimsOf((await tokensFrom(t.app, client, res, verifier)).id_token);
    expect(claims.amr).toEqual(['pwd']);
    expect(claims.acr).toBe('urn:authly:acr:sf');
  });

  it('refuses a code used once, and an earlier step after a later one; accepts one step of drift either side, not two', async () => {
    const { user, secret } = await enrolledUser();
    clock.advance(30);
    const attempt = async (code: string) => {
      const browser = new InjectBrowser(t.app);
      const { res } = await signInWithPassword(browser, client, user.username);
      return (await answerMfa(browser, res, code)).res;
    };
    const now = totpCode(secret, clock.now());
    expect((await attempt(now)).statusCode).toBe(303);
    const reused = await attempt(now);
    expect(reused.statusCode).toBe(200);
    expect(reused.body).toContain('<p class="error" role="alert">That code is not valid. Codes change every 30 seconds, and each code works only once.</p>');
    // The step before the one used (still within the window) is refused too.
    expect((await attempt(totpCode(secret, clock.now() - 30_000))).statusCode).toBe(200);

    clock.advance(30);
    // Two steps back is outside the window even though never used.
    expect((await attempt(totpCode(secret, clock.now() - 60_000))).statusCode).toBe(200);
    // Three wrong codes spent this file's allowance (AUTHLY_LOCKOUT_MAX_ATTEMPTS=3); the throttle has its own test.
    await t.app.ctx.db.query('DELETE FROM auth_failures');
    // One step ahead (the phone's clock runs fast) is accepted.
    expect((await attempt(totpCode(secret, clock.now() + 30_000))).statusCode).toBe(303);
  });

  it('throttles wrong codes per account and address: past the allowance even the right code gets 429 with Retry-After', async () => {
    const { user, secret } = await enrolledUser();
    clock.advance(30);
    const browser = new InjectBrowser(t.app, '203.0.113.7');
    const { res } = await signInWithPassword(browser, client, user.username);
    const mfaUrl = res.headers.location as string;
    const post = async (code: string) => {
      const page = await browser.get(mfaUrl);
      return browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), code });
    };
    const wrong = totpCode(secret, clock.now() + 5 * 60_000);
    for (let i = 0; i < 3; i++) expect((await post(wrong)).statusCode).toBe(200);
    const locked = await post(totpCode(secret, clock.now()));
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(locked.body).toMatch(/<p class="error" role="alert">Too many wrong codes\. Wait \d+ seconds, then try again\.<\/p>/);
    expect(t.logs.some((l) => l.includes('"event":"login.locked"') && l.includes('"reason":"otp"'))).toBe(true);

    // The owner from another address is not locked out by the guesser.
    const owner = new InjectBrowser(t.app, '198.51.100.9');
    const { res: ownerRes } = await signInWithPassword(owner, client, user.username);
    expect((await answerMfa(owner, ownerRes, totpCode(secret, clock.now()))).res.statusCode).toBe(303);
  });

  it('a recovery code signs in once (amr otp), the count drops, a second use is refused', async () => {
    const { user, browser: accountBrowser, codes } = await enrolledUser();
    const browser = new InjectBrowser(t.app);
    const { res, verifier } = await signInWithPassword(browser, client, user.username);
    const { res: done } = await answerMfa(browser, res, codes[0]!.toUpperCase());
    expect(done.statusCode).toBe(303);
    expect(claimsOf((await tokensFrom(t.app, client, done, verifier)).id_token).amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(t.logs.some((l) => l.includes('"event":"mfa.recovery_code_used"'))).toBe(true);

    const second = new InjectBrowser(t.app);
    const { res: again } = await signInWithPassword(second, client, user.username);
    const refused = (await answerMfa(second, again, codes[0]!)).res;
    expect(refused.statusCode).toBe(200);
    expect(refused.body).toContain('That code is not valid.');
    const metric = await t.app.ctx.metrics.registry.getSingleMetricAsString('authly_mfa_verifications_total');
    expect(metric).toMatch(/authly_mfa_verifications_total\{result="recovery_code"\} [1-9]/);
    expect(metric).toMatch(/authly_mfa_verifications_total\{result="failure"\} [1-9]/);
    expect((await accountBrowser.get('/account/security/totp')).body).toContain('Unused recovery codes: 9');
  });

  it.runIf(TEST_DATABASE_URL)('two sign-ins racing with one recovery code: exactly one passes (PostgreSQL)', async () => {
    const { user, codes } = await enrolledUser();
    // From four addresses: four sign-ins at once from one would spend its password allowance (3 here).
    const browsers = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'].map((ip) => new InjectBrowser(t.app, ip));
    const pages = await Promise.all(
      browsers.map(async (b) => {
        const { res } = await signInWithPassword(b, client, user.username);
        expect(res.headers.location).toMatch(MFA_PATH);
        const page = await b.get(res.headers.location as string);
        return { b, page };
      }),
    );
    const results = await Promise.all(pages.map(({ b, page }) => b.post(formAction(page.body), { csrf_token: csrfToken(page.body), code: codes[1]! })));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 303]);
    await t.app.ctx.db.query('DELETE FROM auth_failures');
  });

  it('new recovery codes replace the old ones (mailed); turning TOTP off needs a code or the password and ends the second step', async () => {
    const { user, browser, codes } = await enrolledUser();
    const page = await browser.get('/account/security/totp');
    const regenerate = /<form method="post" action="(\/account\/security\/totp\/recovery-codes)"/.exec(page.body)![1]!;
    const fresh = await browser.post(regenerate, { csrf_token: csrfToken(page.body) });
    expect(fresh.statusCode).toBe(200);
    expect(fresh.body).toContain('New recovery codes were created. The old ones no longer work.');
    const newCodes = recoveryCodesOf(fresh.body);
    expect(newCodes).toHaveLength(10);
    expect(newCodes).not.toContain(codes[0]);

    const signInWith = async (code: string) => {
      const b = new InjectBrowser(t.app);
      const { res } = await signInWithPassword(b, client, user.username);
      return (await answerMfa(b, res, code)).res.statusCode;
    };
    expect(await signInWith(codes[2]!)).toBe(200);
    expect(await signInWith(newCodes[0]!)).toBe(303);

    const disableUrl = '/account/security/totp/disable';
    const bad = await browser.post(disableUrl, { csrf_token: csrfToken(page.body), password: 'not the password' });
    expect(bad.statusCode).toBe(200);
    expect(bad.body).toContain('<p class="error" role="alert">The code or the password is not right.</p>');
    expect((await browser.post(disableUrl, { csrf_token: 'forged', password: TEST_PASSWORD })).statusCode).toBe(403);
    expect((await browser.get(disableUrl)).statusCode).toBe(303);

    const off = await browser.post(disableUrl, { csrf_token: csrfToken(page.body), password: TEST_PASSWORD });
    expect(off.statusCode).toBe(200);
    expect(off.body).toContain('<p class="notice" role="status">Two-step verification is off.</p>');
    expect(off.body).toContain('id="totp-secret"');
    const rows = await t.testDb.db.query('SELECT 1 FROM recovery_codes WHERE user_id = $1', [user.id]);
    expect(rows.rows).toHaveLength(0);
    const changes = await t.testDb.db.query<{ change: string }>(
      `SELECT data->>'change' AS change FROM mail_outbox WHERE recipient = $1 ORDER BY created_at, id`,
      [user.email],
    );
    expect(changes.rows.map((r) => r.change).sort()).toEqual(['recovery_codes_regenerated', 'totp_disabled', 'totp_enabled']);

    const b = new InjectBrowser(t.app);
    const { res } = await signInWithPassword(b, client, user.username);
    expect(res.statusCode).toBe(303);
    expect(redirectParams(res).get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('the MFA page of an interaction with no pending sign-in is a 400 page, and a forged CSRF token a 403', async () => {
    const { user } = await enrolledUser();
    const browser = new InjectBrowser(t.app);
    const { res } = await signInWithPassword(browser, client, user.username);
    const mfaUrl = res.headers.location as string;
    expect((await browser.post(mfaUrl, { csrf_token: 'forged', code: '123456' })).statusCode).toBe(403);
    const other = new InjectBrowser(t.app);
    const stolen = await other.get(mfaUrl);
    expect(stolen.statusCode).toBe(400);
    // A browser whose interaction is still at the password step has nothing to verify.
    const early = new InjectBrowser(t.app);
    const start = await early.get(authorizeUrl(client.clientId));
    const noPending = await early.get(`${start.headers.location as string}/mfa`);
    expect(noPending.statusCode).toBe(400);
    expect(noPending.body).toContain('There is no second step to complete for this sign-in.');
  });
});
