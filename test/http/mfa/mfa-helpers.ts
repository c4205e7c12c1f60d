import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { Secret, TOTP } from 'otpauth';
import { csrfToken, formAction, InjectBrowser } from '../../helpers/browser.js';
import { pkcePair, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { authorizeUrl, exchangeCode } from '../../helpers/oauth-flow.js';
import { redirectParams } from '../../helpers/browser.js';

/** The server's TOTP clock, pinned and moved by the test (createTestApp(env, { now: clock.now })). */
export class TestClock {
  constructor(public ms = Date.parse('2026-12-06T03:00:10Z')) {}
  readonly now = (): number => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

/** The code an authenticator app shows for `secret` at `timestamp` (RFC 6238, SHA-1, 6 digits, 30 s). */
export function totpCode(secret: string, timestamp: number): string {
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp });
}

/** The secret shown for manual entry on an enrolment page (grouped by four there). */
export function secretOf(html: string): string {
  const match = /<code id="totp-secret">([A-Z2-7 ]+)<\/code>/.exec(html);
  if (!match) throw new Error(`no secret on the page: ${html.slice(0, 300)}`);
  return match[1]!.replace(/ /g, '');
}

export function recoveryCodesOf(html: string): string[] {
  return [...html.matchAll(/<li><code>([a-z0-9]{5}-[a-z0-9]{5})<\/code><\/li>/g)].map((m) => m[1]!);
}

/** Starts an authorization and signs in with the password: the response after the password form. */
export async function signInWithPassword(
  browser: InjectBrowser,
  client: TestClient,
  username: string,
  overrides: Record<string, string | undefined> = {},
): Promise<{ res: LightMyRequestResponse; verifier: string }> {
  const { verifier, challenge } = pkcePair();
  const start = await browser.get(authorizeUrl(client.clientId, { code_challenge: challenge, ...overrides }));
  expect(start.statusCode).toBe(303);
  const page = await browser.get(start.headers.location as string);
  expect(page.statusCode).toBe(200);
  expect(page.body).toContain('name="password"');
  const res = await browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), username, password: TEST_PASSWORD });
  return { res, verifier };
}

export const MFA_PATH = /^\/interaction\/[^/]+\/mfa$/;

/** Posts `code` on the MFA page the response redirected to; returns the page and the answer. */
export async function answerMfa(browser: InjectBrowser, redirect: LightMyRequestResponse, code: string) {
  expect(redirect.statusCode).toBe(303);
  expect(redirect.headers.location).toMatch(MFA_PATH);
  const page = await browser.get(redirect.headers.location as string);
  expect(page.statusCode).toBe(200);
  const res = await browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), code });
  return { page, res };
}

/** Enrols TOTP on the account page of the browser's signed-in user; returns the secret and recovery codes. */
export async function enrolOnAccountPage(browser: InjectBrowser, clock: TestClock): Promise<{ secret: string; codes: string[] }> {
  const page = await browser.get('/account/security/totp');
  expect(page.statusCode).toBe(200);
  const secret = secretOf(page.body);
  const res = await browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), code: totpCode(secret, clock.now()) });
  expect(res.statusCode).toBe(200);
  const codes = recoveryCodesOf(res.body);
  expect(codes).toHaveLength(10);
  return { secret, codes };
}

/** The claims of a JWT (no verification: the token endpoint's own tests verify signatures). */
export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The code in a redirect to the client, exchanged: the token response. */
export async function tokensFrom(app: FastifyInstance, client: TestClient, res: LightMyRequestResponse, verifier: string) {
  const code = redirectParams(res).get('code');
  if (!code) throw new Error(`no code: ${String(res.headers.location)}`);
  const exchanged = await exchangeCode(app, client, { code, verifier });
  expect(exchanged.statusCode).toBe(200);
  return exchanged.json() as { id_token: string; refresh_token?: string; access_token: string };
}
