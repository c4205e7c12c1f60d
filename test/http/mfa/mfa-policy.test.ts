import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfToken, formAction, InjectBrowser, redirectParams } from '../../helpers/browser.js';
import { createClient, createUser, pkcePair, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { authorizeUrl } from '../../helpers/oauth-flow.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import type { User } from '../../../src/repositories/users-repository.js';
import {
  answerMfa,
  claimsOf,
  enrolOnAccountPage,
  MFA_PATH,
  recoveryCodesOf,
  secretOf,
  signInWithPassword,
  TestClock,
  tokensFrom,
  totpCode,
} from './mfa-helpers.js';

const MFA = 'urn:authly:acr:mfa';
const PAPE = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

/**
 * The policy through the sign-in: MFA_POLICY (one app per value), a client's mfa_policy, acr_values; a
 * required factor set up inside the sign-in; sessions without mfa do not satisfy a client requiring it;
 * prompt=login re-runs the factors.
 */
describe.each(['off', 'optional', 'required'] as const)('MFA_POLICY=%s', (policy) => {
  let t: TestApp;
  const clock = new TestClock();
  const clients: Record<'inherit' | 'off' | 'required', TestClient> = {} as never;

  beforeAll(async () => {
    t = await createTestApp({ MFA_POLICY: policy }, { now: clock.now });
    clients.inherit = await createClient(t.app, { skipConsent: true });
    clients.off = await createClient(t.app, { skipConsent: true, mfaPolicy: 'off' });
    clients.required = await createClient(t.app, { skipConsent: true, mfaPolicy: 'required' });
  });
  afterAll(() => t.close());

  /** A user with TOTP (enrolled on the account page after a sign-in through the client that never asks). */
  async function enrolled(): Promise<{ user: User; secret: string }> {
    const user = await createUser(t.app);
    const browser = new InjectBrowser(t.app);
    const { res } = await signInWithPassword(browser, clients.off, user.username);
    expect(redirectParams(res).get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { secret } = await enrolOnAccountPage(browser, clock);
    clock.advance(30);
    return { user, secret };
  }

  /** Where the password leads: 'code' (back to the client), 'mfa' (a code asked) or 'enrol' (set-up asked). */
  async function afterPassword(client: TestClient, user: User, overrides: Record<string, string> = {}) {
    const browser = new InjectBrowser(t.app);
    const { res, verifier } = await signInWithPassword(browser, client, user.username, overrides);
    expect(res.statusCode).toBe(303);
    if (!MFA_PATH.test(res.headers.location as string)) return { step: 'code' as const, browser, res, verifier };
    const page = await browser.get(res.headers.location as string);
    return { step: page.body.includes('id="totp-secret"') ? ('enrol' as const) : ('mfa' as const), browser, res, verifier, page };
  }

  // [client, user has TOTP, acr_values, expected step]
  const expected = (client: 'inherit' | 'off' | 'required', has: boolean, acr: boolean): 'code' | 'mfa' | 'enrol' => {
    const effective = acr ? 'required' : client === 'inherit' ? policy : client;
    if (effective === 'off') return 'code';
    if (has) return 'mfa';
    return effective === 'required' ? 'enrol' : 'code';
  };
  const cases = (['inherit', 'off', 'required'] as const).flatMap((client) =>
    [true, false].flatMap((has) => [false, true].map((acr) => [client, has, acr, expected(client, has, acr)] as const)),
  );

  it.each(cases)('client %s, user with TOTP %s, acr_values mfa %s: %s', async (client, has, acr, step) => {
    const user = has ? (await enrolled()).user : await createUser(t.app);
    const result = await afterPassword(clients[client], user, acr ? { acr_values: `urn:authly:acr:sf ${MFA}` } : {});
    expect(result.step).toBe(step);
    if (step === 'code') {
      const claims = claimsOf((await tokensFrom(t.app, clients[client], result.res, result.verifier)).id_token);
      expect(claims.amr).toEqual(['pwd']);
      expect(claims.acr).toBe('urn:authly:acr:sf');
    }
  });

  it('a required factor the user lacks is set up inside the sign-in: QR and key, recovery codes once, then the code; acr as asked', async () => {
    const user = await createUser(t.app);
    const { browser, page, verifier, step } = await afterPassword(clients.required, user, { acr_values: PAPE });
    expect(step).toBe('enrol');
    expect(page!.body).toContain('<h1>Set up two-step verification</h1>');
    expect(page!.body).toContain('Test App asks for a second step at sign-in.');
    const secret = secretOf(page!.body);
    const wrong = await browser.post(formAction(page!.body), { csrf_token: csrfToken(page!.body), code: totpCode(secret, clock.now() + 10 * 60_000) });
    expect(wrong.statusCode).toBe(200);
    expect(wrong.body).toContain('That code is not valid.');
    const confirmed = await browser.post(formAction(page!.body), { csrf_token: csrfToken(page!.body), code: totpCode(secret, clock.now()) });
    expect(confirmed.statusCode).toBe(200);
    expect(recoveryCodesOf(confirmed.body)).toHaveLength(10);
    expect(browser.hasCookie('authly_session')).toBe(false);
    const done = await browser.post(formAction(confirmed.body), { csrf_token: csrfToken(confirmed.body) });
    expect(done.statusCode).toBe(303);
    const claims = claimsOf((await tokensFrom(t.app, clients.required, done, verifier)).id_token);
    expect(claims.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(claims.acr).toBe(PAPE);
  });

  it('a session without mfa does not satisfy a client that requires it: a new sign-in, or login_required with prompt=none', async () => {
    const user = await createUser(t.app);
    const first = await afterPassword(clients.off, user);
    expect(first.step).toBe('code');
    const browser = first.browser;
    const silent = await browser.get(authorizeUrl(clients.required.clientId, { prompt: 'none' }));
    expect(silent.statusCode).toBe(303);
    expect(redirectParams(silent).get('error')).toBe('login_required');
    const again = await browser.get(authorizeUrl(clients.required.clientId));
    expect(again.statusCode).toBe(303);
    const login = await browser.get(again.headers.location as string);
    expect(login.body).toContain('name="password"');
  });

  it('prompt=login re-runs the factors; single sign-on with an mfa session needs no new step and keeps its amr', async () => {
    const { user, secret } = await enrolled();
    const first = await afterPassword(clients.required, user);
    expect(first.step).toBe('mfa');
    const browser = first.browser;
    const { res: done } = await answerMfa(browser, first.res, totpCode(secret, clock.now()));
    expect(redirectParams(done).get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const { verifier, challenge } = pkcePair();
    const sso = await browser.get(authorizeUrl(clients.required.clientId, { code_challenge: challenge, acr_values: MFA }));
    expect(sso.statusCode).toBe(303);
    const claims = claimsOf((await tokensFrom(t.app, clients.required, sso, verifier)).id_token);
    expect(claims.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(claims.acr).toBe(MFA);

    clock.advance(30);
    const relogin = await browser.get(authorizeUrl(clients.required.clientId, { prompt: 'login' }));
    const page = await browser.get(relogin.headers.location as string);
    expect(page.body).toContain('name="password"');
    const afterPwd = await browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), username: user.username, password: TEST_PASSWORD });
    expect(afterPwd.headers.location).toMatch(MFA_PATH);
    expect((await answerMfa(browser, afterPwd, totpCode(secret, clock.now()))).res.statusCode).toBe(303);
  });
});
