import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { createClient, createUser, REDIRECT_URI, type TestClient } from '../../helpers/fixtures.js';
import { InjectBrowser } from '../../helpers/browser.js';
import {
  authorizeParams,
  completeInteraction,
  ERROR_DESCRIPTION_CHARS,
  FORM,
  isInteractionRedirect,
} from '../../helpers/oauth-flow.js';
import type { User } from '../../../src/repositories/users-repository.js';

/**
 * Once client and redirect_uri are verified, every error goes back to the client (RFC 6749 section 4.1.2.1)
 * as a 303 carrying error, error_description, state and iss (RFC 9207), or as the form_post page.
 */
describe('authorization endpoint: errors returned to the verified redirect URI', () => {
  let t: TestApp;
  let client: TestClient;
  let ccOnly: TestClient;
  let narrow: TestClient;
  let noPkceConfidential: TestClient;
  let noPkcePublic: TestClient;
  let otherClient: TestClient;
  let user: User;
  const descriptions: string[] = [];

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app);
    ccOnly = await createClient(t.app, { grantTypes: ['client_credentials'] });
    narrow = await createClient(t.app, { scope: 'openid email' });
    noPkceConfidential = await createClient(t.app, { requirePkce: false });
    noPkcePublic = await createClient(t.app, { tokenEndpointAuthMethod: 'none', requirePkce: false });
    otherClient = await createClient(t.app);
    user = await createUser(t.app);
  });
  afterAll(() => t.close());

  const get = (q: URLSearchParams, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url: `/oauth/authorize?${q}`, headers });
  const post = (q: URLSearchParams) => t.app.inject({ method: 'POST', url: '/oauth/authorize', headers: FORM, payload: q.toString() });

  function expectErrorRedirect(res: LightMyRequestResponse, error: string, description: string, state: string | null = 'st-123') {
    expect(res.statusCode).toBe(303);
    expect(res.headers['cache-control']).toBe('no-store');
    const location = new URL(res.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    const expected: Record<string, string> = { error, error_description: description, iss: TEST_ISSUER };
    if (state !== null) expected.state = state;
    expect(Object.fromEntries(location.searchParams)).toEqual(expected);
    descriptions.push(location.searchParams.get('error_description')!);
  }

  const withRepeat = (name: string, value: string, base: Record<string, string | undefined> = {}) => () => {
    const q = authorizeParams(client.clientId, base);
    q.append(name, value);
    return q;
  };

  const cases: { name: string; q: () => URLSearchParams; error: string; description: string; state?: string | null }[] = [
    { name: 'missing response_type', q: () => authorizeParams(client.clientId, { response_type: undefined }), error: 'invalid_request', description: 'response_type is required' },
    { name: 'response_type=token', q: () => authorizeParams(client.clientId, { response_type: 'token' }), error: 'unsupported_response_type', description: 'only response_type=code is supported' },
    { name: "response_type='code id_token'", q: () => authorizeParams(client.clientId, { response_type: 'code id_token' }), error: 'unsupported_response_type', description: 'only response_type=code is supported' },
    { name: 'response_type=id_token', q: () => authorizeParams(client.clientId, { response_type: 'id_token' }), error: 'unsupported_response_type', description: 'only response_type=code is supported' },
    { name: 'client without the authorization_code grant', q: () => authorizeParams(ccOnly.clientId), error: 'unauthorized_client', description: 'this client may not use the authorization code flow' },
    { name: 'scope outside the registered scope', q: () => authorizeParams(narrow.clientId, { scope: 'openid profile' }), error: 'invalid_scope', description: 'scope not allowed for this client: profile' },
    { name: 'unknown scope', q: () => authorizeParams(client.clientId, { scope: 'openid no-such-scope' }), error: 'invalid_scope', description: 'scope not allowed for this client: no-such-scope' },
    { name: 'scope with a forbidden character', q: () => authorizeParams(client.clientId, { scope: 'openid a"b' }), error: 'invalid_scope', description: 'scope contains invalid characters' },
    { name: 'missing code_challenge', q: () => authorizeParams(client.clientId, { code_challenge: undefined, code_challenge_method: undefined }), error: 'invalid_request', description: 'code_challenge is required (PKCE with S256)' },
    { name: 'code_challenge_method=plain', q: () => authorizeParams(client.clientId, { code_challenge_method: 'plain' }), error: 'invalid_request', description: 'code_challenge_method must be S256' },
    { name: 'code_challenge without a method', q: () => authorizeParams(client.clientId, { code_challenge_method: undefined }), error: 'invalid_request', description: 'code_challenge_method must be S256' },
    { name: 'code_challenge_method=s256 (wrong case)', q: () => authorizeParams(client.clientId, { code_challenge_method: 's256' }), error: 'invalid_request', description: 'code_challenge_method must be S256' },
    { name: 'code_challenge_method without a challenge', q: () => authorizeParams(client.clientId, { code_challenge: undefined }), error: 'invalid_request', description: 'code_challenge_method without code_challenge' },
    { name: 'code_challenge too short (42)', q: () => authorizeParams(client.clientId, { code_challenge: 'a'.repeat(42) }), error: 'invalid_request', description: 'code_challenge is malformed' },
    { name: 'code_challenge too long (129)', q: () => authorizeParams(client.clientId, { code_challenge: 'a'.repeat(129) }), error: 'invalid_request', description: 'code_challenge is malformed' },
    { name: 'code_challenge with base64 padding', q: () => authorizeParams(client.clientId, { code_challenge: `${'a'.repeat(43)}=` }), error: 'invalid_request', description: 'code_challenge is malformed' },
    { name: 'code_challenge with a space', q: () => authorizeParams(client.clientId, { code_challenge: `${'a'.repeat(21)} ${'a'.repeat(21)}` }), error: 'invalid_request', description: 'code_challenge is malformed' },
    { name: 'repeated state', q: withRepeat('state', 'st-123'), error: 'invalid_request', description: 'state must not be repeated', state: null },
    { name: 'repeated scope', q: withRepeat('scope', 'openid'), error: 'invalid_request', description: 'scope must not be repeated' },
    { name: 'repeated response_type', q: withRepeat('response_type', 'code'), error: 'invalid_request', description: 'response_type must not be repeated' },
    { name: 'repeated code_challenge', q: withRepeat('code_challenge', 'a'.repeat(43)), error: 'invalid_request', description: 'code_challenge must not be repeated' },
    { name: 'repeated nonce', q: withRepeat('nonce', 'n'), error: 'invalid_request', description: 'nonce must not be repeated' },
    { name: "prompt='none login'", q: () => authorizeParams(client.clientId, { prompt: 'none login' }), error: 'invalid_request', description: 'prompt=none cannot be combined with other values' },
    { name: 'max_age=abc', q: () => authorizeParams(client.clientId, { max_age: 'abc' }), error: 'invalid_request', description: 'max_age must be a non-negative integer' },
    { name: 'max_age=-1', q: () => authorizeParams(client.clientId, { max_age: '-1' }), error: 'invalid_request', description: 'max_age must be a non-negative integer' },
    { name: 'max_age=1.5', q: () => authorizeParams(client.clientId, { max_age: '1.5' }), error: 'invalid_request', description: 'max_age must be a non-negative integer' },
    { name: 'max_age=1e3', q: () => authorizeParams(client.clientId, { max_age: '1e3' }), error: 'invalid_request', description: 'max_age must be a non-negative integer' },
    { name: 'max_age too large', q: () => authorizeParams(client.clientId, { max_age: '99999999999' }), error: 'invalid_request', description: 'max_age must be a non-negative integer' },
    { name: 'response_mode=fragment', q: () => authorizeParams(client.clientId, { response_mode: 'fragment' }), error: 'invalid_request', description: 'response_mode must be query or form_post' },
    { name: 'nonce too long', q: () => authorizeParams(client.clientId, { nonce: 'n'.repeat(2049) }), error: 'invalid_request', description: 'nonce is too long' },
    { name: 'prompt=none without a session', q: () => authorizeParams(client.clientId, { prompt: 'none' }), error: 'login_required', description: 'the user is not signed in' },
  ];

  describe.each([
    ['GET', get],
    ['POST', post],
  ] as const)('%s', (_method, send) => {
    it.each(cases)('$name → $error', async ({ q, error, description, state }) => {
      expectErrorRedirect(await send(q()), error, description, state === undefined ? 'st-123' : state);
    });
  });

  it('omits state from the error when the request had none', async () => {
    const res = await get(authorizeParams(client.clientId, { state: undefined, response_type: 'token' }));
    expect(res.statusCode).toBe(303);
    const params = new URL(res.headers.location as string).searchParams;
    expect(params.has('state')).toBe(false);
    expect(params.get('iss')).toBe(TEST_ISSUER);
  });

  it('echoes state exactly, whatever characters it holds', async () => {
    const state = 'a b+c/d?e=f&g%h"<i>\'é😀';
    const res = await get(authorizeParams(client.clientId, { state, response_type: 'token' }));
    expect(new URL(res.headers.location as string).searchParams.get('state')).toBe(state);
  });

  describe('prompt=none with a session', () => {
    it('→ consent_required when the user has not consented to this client', async () => {
      const browser = new InjectBrowser(t.app);
      const first = await completeInteraction(browser, await browser.get(`/oauth/authorize?${authorizeParams(client.clientId)}`), {
        username: user.username,
      });
      expect(first.statusCode).toBe(303);
      expect(new URL(first.headers.location as string).searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);

      // Same browser, signed in, but otherClient was never consented to.
      const res = await browser.get(`/oauth/authorize?${authorizeParams(otherClient.clientId, { prompt: 'none' })}`);
      expectErrorRedirect(res, 'consent_required', 'the user has not consented to this request');

      // And with consent on record, prompt=none returns a code without any page.
      const ok = await browser.get(`/oauth/authorize?${authorizeParams(client.clientId, { prompt: 'none' })}`);
      expect(ok.statusCode).toBe(303);
      const params = new URL(ok.headers.location as string).searchParams;
      expect(params.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(params.get('state')).toBe('st-123');
      expect(params.get('iss')).toBe(TEST_ISSUER);
    });
  });

  describe('response_mode=form_post', () => {
    it.each([
      ['response_type=token', { response_type: 'token' }, 'unsupported_response_type'],
      ['missing code_challenge', { code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request'],
      ['prompt=none without a session', { prompt: 'none' }, 'login_required'],
    ] as const)('%s arrives as the auto-submitting form_post page', async (_name, overrides, error) => {
      const res = await get(authorizeParams(client.clientId, { response_mode: 'form_post', ...overrides }));
      expect(res.statusCode).toBe(200);
      expect(res.headers.location).toBeUndefined();
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toContain(`<form method="post" action="${REDIRECT_URI}" id="response">`);
      expect(res.body).toContain(`<input type="hidden" name="error" value="${error}">`);
      expect(res.body).toContain('<input type="hidden" name="state" value="st-123">');
      expect(res.body).toContain(`<input type="hidden" name="iss" value="${TEST_ISSUER}">`);
      expect(res.body).toMatch(/<input type="hidden" name="error_description" value="[^"]+">/);

      const csp = res.headers['content-security-policy'] as string;
      const nonce = /<script nonce="([^"]+)">/.exec(res.body)?.[1];
      expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      expect(csp).toContain(`script-src 'nonce-${nonce}'`);
      expect(csp).toContain('form-action https://app.example.com');
      expect(csp).not.toContain("form-action 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers['x-frame-options']).toBe('DENY');
    });

    it('uses a fresh script nonce on every response', async () => {
      const q = () => authorizeParams(client.clientId, { response_mode: 'form_post', response_type: 'token' });
      const nonceOf = (res: LightMyRequestResponse) => /<script nonce="([^"]+)">/.exec(res.body)?.[1];
      expect(nonceOf(await get(q()))).not.toBe(nonceOf(await get(q())));
    });

    it('escapes state in the hidden field', async () => {
      const res = await get(authorizeParams(client.clientId, { response_mode: 'form_post', response_type: 'token', state: '"><script>x</script>' }));
      expect(res.body).toContain('<input type="hidden" name="state" value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;">');
      expect(res.body).not.toContain('<script>x</script>');
    });
  });

  describe('the require_pkce=false exception (RFC 9700 section 2.1.1)', () => {
    const noPkce = { code_challenge: undefined, code_challenge_method: undefined };

    it('a confidential client with require_pkce=false may omit PKCE when it sends a nonce with openid', async () => {
      const res = await get(authorizeParams(noPkceConfidential.clientId, noPkce));
      expect(isInteractionRedirect(res)).toBe(true);
    });

    it('… but not without a nonce', async () => {
      expectErrorRedirect(
        await get(authorizeParams(noPkceConfidential.clientId, { ...noPkce, nonce: undefined })),
        'invalid_request',
        'code_challenge is required (PKCE with S256)',
      );
    });

    it('… and not without the openid scope', async () => {
      expectErrorRedirect(
        await get(authorizeParams(noPkceConfidential.clientId, { ...noPkce, scope: 'email' })),
        'invalid_request',
        'code_challenge is required (PKCE with S256)',
      );
    });

    it('a public client with require_pkce=false still needs PKCE, nonce or not', async () => {
      expectErrorRedirect(await get(authorizeParams(noPkcePublic.clientId, noPkce)), 'invalid_request', 'code_challenge is required (PKCE with S256)');
    });

    it('a challenge that is sent must still be S256, exception or not', async () => {
      expectErrorRedirect(
        await get(authorizeParams(noPkceConfidential.clientId, { code_challenge_method: 'plain' })),
        'invalid_request',
        'code_challenge_method must be S256',
      );
    });
  });

  it('every error_description used only RFC 6749 section 5.2 characters', () => {
    expect(descriptions.length).toBeGreaterThan(cases.length);
    for (const d of descriptions) expect(d).toMatch(ERROR_DESCRIPTION_CHARS);
  });
});
