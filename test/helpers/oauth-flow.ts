import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { InjectBrowser, csrfToken, formAction, redirectParams } from './browser.js';
import { basicAuth, pkcePair, REDIRECT_URI, TEST_PASSWORD, type TestClient } from './fixtures.js';

/**
 * Small steps of the code flow shared by the negative and rule suites (test/http/{authorize,token,
 * security,userinfo,logging,...}): build an authorization URL, walk login and consent, call the token
 * endpoint. Each returns the raw response so tests can assert statuses and bodies exactly.
 */

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' } as const;

/** Authorization request parameters with working defaults; `undefined` removes a parameter. */
export function authorizeParams(clientId: string, overrides: Record<string, string | undefined> = {}): URLSearchParams {
  const defaults: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    state: 'st-123',
    nonce: 'n-456',
    code_challenge: pkcePair().challenge,
    code_challenge_method: 'S256',
  };
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...defaults, ...overrides })) if (v !== undefined) q.append(k, v);
  return q;
}

export function authorizeUrl(clientId: string, overrides: Record<string, string | undefined> = {}): string {
  return `/oauth/authorize?${authorizeParams(clientId, overrides)}`;
}

export function isInteractionRedirect(res: LightMyRequestResponse): boolean {
  return res.statusCode === 303 && typeof res.headers.location === 'string' && res.headers.location.startsWith('/interaction/');
}

/**
 * Follows a response through the login and consent pages until it leaves the interaction (a redirect to
 * the client, a form_post page, or an error page), signing in with `login` and answering consent with
 * `decision`.
 */
export async function completeInteraction(
  browser: InjectBrowser,
  res: LightMyRequestResponse,
  login: { username: string; password?: string },
  decision: 'allow' | 'deny' = 'allow',
): Promise<LightMyRequestResponse> {
  for (let i = 0; i < 4 && isInteractionRedirect(res); i++) {
    const page = await browser.get(res.headers.location as string);
    if (page.statusCode !== 200) return page;
    if (page.body.includes('name="password"')) {
      res = await browser.post(formAction(page.body), {
        csrf_token: csrfToken(page.body),
        username: login.username,
        password: login.password ?? TEST_PASSWORD,
      });
    } else {
      res = await browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), decision });
    }
  }
  return res;
}

export interface CodeResult {
  code: string;
  verifier: string;
  params: URLSearchParams;
}

/** A code for `client` through `browser` (login and consent as needed), with a fresh PKCE pair. */
export async function obtainCode(
  browser: InjectBrowser,
  client: TestClient,
  username: string,
  overrides: Record<string, string | undefined> = {},
): Promise<CodeResult> {
  const { verifier, challenge } = pkcePair();
  const start = await browser.get(authorizeUrl(client.clientId, { code_challenge: challenge, ...overrides }));
  const done = await completeInteraction(browser, start, { username });
  const params = redirectParams(done);
  const code = params.get('code');
  if (!code) throw new Error(`no code: ${done.headers.location}`);
  return { code, verifier, params };
}

export interface TokenAuth {
  /** client_secret_basic (default for confidential clients), client_secret_post, or none (public). */
  method?: 'basic' | 'post' | 'none';
  headers?: Record<string, string>;
}

/** POST /oauth/token with the client authenticating the way it is registered unless told otherwise. */
export function tokenRequest(
  app: FastifyInstance,
  client: TestClient,
  form: Record<string, string>,
  auth: TokenAuth = {},
): Promise<LightMyRequestResponse> {
  const method = auth.method ?? (client.clientSecret ? 'basic' : 'none');
  const body: Record<string, string> = { ...form };
  const headers: Record<string, string> = { ...FORM, ...auth.headers };
  if (method === 'basic') headers.authorization = basicAuth(client.clientId, client.clientSecret!);
  if (method === 'post') Object.assign(body, { client_id: client.clientId, client_secret: client.clientSecret! });
  if (method === 'none') body.client_id = client.clientId;
  return app.inject({ method: 'POST', url: '/oauth/token', headers, payload: new URLSearchParams(body).toString() });
}

export function exchangeCode(
  app: FastifyInstance,
  client: TestClient,
  result: Pick<CodeResult, 'code' | 'verifier'>,
  extra: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return tokenRequest(app, client, {
    grant_type: 'authorization_code',
    code: result.code,
    redirect_uri: REDIRECT_URI,
    code_verifier: result.verifier,
    ...extra,
  });
}

export interface Tokens {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

/** Code flow end to end: a code, exchanged; throws unless the exchange succeeds. */
export async function obtainTokens(
  app: FastifyInstance,
  browser: InjectBrowser,
  client: TestClient,
  username: string,
  overrides: Record<string, string | undefined> = {},
): Promise<Tokens> {
  const code = await obtainCode(browser, client, username, overrides);
  const res = await exchangeCode(app, client, code);
  if (res.statusCode !== 200) throw new Error(`token exchange failed: ${res.statusCode} ${res.body}`);
  return res.json() as Tokens;
}

export function userinfo(app: FastifyInstance, accessToken: string, method: 'GET' | 'POST' = 'GET'): Promise<LightMyRequestResponse> {
  return app.inject({ method, url: '/oidc/userinfo', headers: { authorization: `Bearer ${accessToken}` } });
}

/** RFC 6749 section 5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E. */
export const ERROR_DESCRIPTION_CHARS = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;

/** The Set-Cookie header line for one cookie name, or undefined. */
export function setCookieLine(res: LightMyRequestResponse, name: string): string | undefined {
  const raw = res.headers['set-cookie'];
  const lines = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return lines.find((l) => l.startsWith(`${name}=`));
}
