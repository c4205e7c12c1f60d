import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { generateKeyPair, SignJWT } from 'jose';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { createClient, createUser, REDIRECT_URI, type TestClient } from '../../helpers/fixtures.js';
import { InjectBrowser, redirectParams } from '../../helpers/browser.js';
import { authorizeParams, authorizeUrl, completeInteraction, exchangeCode, isInteractionRedirect, obtainCode } from '../../helpers/oauth-flow.js';
import { signJwt } from '../../../src/tokens/jwt.js';
import type { User } from '../../../src/repositories/users-repository.js';

/**
 * Item 6 of issue 3: the finer authorization request parameters (OIDC Core section 3.1.2.1, RFC 6749
 * section 3.1, OIDC Core section 6). A valid request never gets an error page.
 */
describe('authorization request details', () => {
  let t: TestApp;
  let client: TestClient;
  let user: User;
  let other: User;
  let browser: InjectBrowser;
  let idToken: string;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app);
    user = await createUser(t.app);
    other = await createUser(t.app);
    browser = new InjectBrowser(t.app);
    const code = await obtainCode(browser, client, user.username);
    idToken = ((await exchangeCode(t.app, client, code)).json() as { id_token: string }).id_token;
  });
  afterAll(() => t.close());

  const hint = (claims: Record<string, unknown>) => signJwt(claims, t.app.ctx.keys.signingKey('RS256'), 'JWT');
  const now = () => Math.floor(Date.now() / 1000);
  const claimsFor = (sub: string) => ({ iss: TEST_ISSUER, sub, aud: client.clientId, iat: now(), exp: now() + 300 });
  const signedInGet = (overrides: Record<string, string | undefined>) => browser.get(authorizeUrl(client.clientId, overrides));

  function expectCode(res: LightMyRequestResponse) {
    expect(res.statusCode, res.body.slice(0, 200)).toBe(303);
    expect(redirectParams(res).get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  }
  function expectError(res: LightMyRequestResponse, error: string, description: string) {
    expect(res.statusCode).toBe(303);
    const location = new URL(res.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(Object.fromEntries(location.searchParams)).toEqual({ error, error_description: description, state: 'st-123', iss: TEST_ISSUER });
  }
  async function pageOf(b: InjectBrowser, res: LightMyRequestResponse): Promise<string> {
    expect(isInteractionRedirect(res), `${res.statusCode} ${String(res.headers.location)}`).toBe(true);
    const page = await b.get(res.headers.location as string);
    if (page.body.includes('name="password"')) return 'login';
    if (page.body.includes('name="decision"')) return 'consent';
    return `other ${page.statusCode}`;
  }

  describe('id_token_hint', () => {
    const BAD_HINT = 'id_token_hint is not a valid ID token issued by this server';

    it('an ID token of the signed-in user → a code without any page', async () => {
      expectCode(await signedInGet({ id_token_hint: idToken }));
    });

    it('… also with prompt=none', async () => {
      expectCode(await signedInGet({ id_token_hint: idToken, prompt: 'none' }));
    });

    it('an expired hint still identifies the user (signature and issuer checked, exp not)', async () => {
      expectCode(await signedInGet({ id_token_hint: await hint({ ...claimsFor(user.id), iat: now() - 7200, exp: now() - 3600 }) }));
    });

    it('a hint naming another user forces the login page', async () => {
      expect(await pageOf(browser, await signedInGet({ id_token_hint: await hint(claimsFor(other.id)) }))).toBe('login');
    });

    it('… and with prompt=none → login_required', async () => {
      const res = await signedInGet({ id_token_hint: await hint(claimsFor(other.id)), prompt: 'none' });
      expectError(res, 'login_required', 'the signed-in user is not the one named by id_token_hint');
    });

    it('after the forced login as the hinted user, the code is for that user', async () => {
      const start = await signedInGet({ id_token_hint: await hint(claimsFor(other.id)) });
      const done = await completeInteraction(browser, start, { username: other.username });
      expectCode(done);
      // The browser's session is now the other user's; the original user's hint now forces a login.
      expect(await pageOf(browser, await signedInGet({ id_token_hint: idToken }))).toBe('login');
      await completeInteraction(browser, await signedInGet({}), { username: user.username });
    });

    it('without a session, a hint and prompt=none → login_required', async () => {
      const res = await new InjectBrowser(t.app).get(authorizeUrl(client.clientId, { id_token_hint: idToken, prompt: 'none' }));
      expectError(res, 'login_required', 'the user is not signed in');
    });

    const invalidHints: [string, () => Promise<string>][] = [
      ['not a JWT', async () => 'not-a-jwt'],
      ['a tampered payload', async () => {
        const [h, , s] = idToken.split('.');
        return `${h}.${Buffer.from(JSON.stringify(claimsFor(user.id))).toString('base64url')}.${s}`;
      }],
      ['signed by a foreign key', async () => {
        const { privateKey } = await generateKeyPair('RS256');
        const kid = t.app.ctx.keys.signingKey('RS256').kid;
        return new SignJWT(claimsFor(user.id)).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(privateKey);
      }],
      ['another issuer', () => hint({ ...claimsFor(user.id), iss: 'https://evil.example' })],
      ['an access token (typ at+jwt)', () => signJwt(claimsFor(user.id), t.app.ctx.keys.signingKey('RS256'), 'at+jwt')],
      ['no sub', () => hint({ iss: TEST_ISSUER, aud: client.clientId, exp: now() + 60 })],
      ['9 KB long', async () => 'a'.repeat(9000)],
    ];
    it.each(invalidHints)('%s → invalid_request, redirected with state', async (_name, make) => {
      expectError(await signedInGet({ id_token_hint: await make() }), 'invalid_request', BAD_HINT);
    });
  });

  describe('prompt', () => {
    it('prompt=consent forces the consent page although consent is remembered', async () => {
      expect(await pageOf(browser, await signedInGet({ prompt: 'consent' }))).toBe('consent');
    });

    it('prompt=select_account uses the current account (no account chooser)', async () => {
      expectCode(await signedInGet({ prompt: 'select_account' }));
    });

    it('prompt=none select_account → invalid_request (none must stand alone)', async () => {
      expectError(await signedInGet({ prompt: 'none select_account' }), 'invalid_request', 'prompt=none cannot be combined with other values');
    });

    it('an unknown prompt value is ignored', async () => {
      expectCode(await signedInGet({ prompt: 'create' }));
    });
  });

  it('login_hint pre-fills the username field of the login page', async () => {
    const b = new InjectBrowser(t.app);
    const start = await b.get(authorizeUrl(client.clientId, { login_hint: 'alice@example.com' }));
    const page = await b.get(start.headers.location as string);
    expect(page.body).toContain('name="username" value="alice@example.com"');
  });

  it('max_age=0 forces the login page; with prompt=none → login_required', async () => {
    expect(await pageOf(browser, await signedInGet({ max_age: '0' }))).toBe('login');
    expectError(await signedInGet({ max_age: '0', prompt: 'none' }), 'login_required', 'the user is not signed in');
  });

  it.each([
    ['claims', '{"id_token":{"email":{"essential":true}}}'],
    ['claims (not even JSON)', '{oops'],
    ['acr_values', 'urn:mace:incommon:iap:silver 1'],
    ['ui_locales', 'de fr'],
    ['display', 'popup'],
  ])('%s is accepted and ignored: a code, never an error page', async (name, value) => {
    expectCode(await signedInGet({ [name.split(' ')[0]!]: value }));
  });

  it('discovery says the claims and by-reference request_uri parameters are not supported (request objects are: RFC 9101)', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json() as Record<string, unknown>;
    expect(doc).toMatchObject({ claims_parameter_supported: false, request_parameter_supported: true, request_uri_parameter_supported: false });
  });

  it.each(['scope', 'response_type', 'nonce', 'prompt', 'code_challenge', 'id_token_hint', 'claims'])(
    'a repeated %s → invalid_request, redirected with state',
    async (name) => {
      const q = authorizeParams(client.clientId, { id_token_hint: idToken, claims: '{}', prompt: 'consent' });
      q.append(name, q.get(name)!);
      expectError(await browser.get(`/oauth/authorize?${q}`), 'invalid_request', `${name} must not be repeated`);
    },
  );

  // RFC 9101: an unsigned request object from a client not registered for alg none is refused; its
  // redirect_uri would come from the object, so the refusal is a page (test/http/par/request-objects.test.ts).
  it('an unsigned request object → 400 page, invalid_request_object', async () => {
    const res = await signedInGet({ request: 'eyJhbGciOiJub25lIn0.e30.' });
    expect(res.statusCode).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.body).toContain('invalid_request_object: unsigned request objects (alg none) are refused for this client');
  });

  // RFC 9126 section 4: a request_uri stands for a pushed request, whose parameters (redirect_uri included)
  // are unknown until it is found: one that is not a pushed request's is an error page, never a redirect.
  it('a request_uri that is not a pushed request\'s (no by-reference fetching) → 400 page, invalid_request_uri', async () => {
    const res = await signedInGet({ request_uri: 'https://app.example.com/request.jwt' });
    expect(res.statusCode).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.body).toContain('invalid_request_uri: request_uri must be one issued by the pushed authorization request endpoint');
  });
});
