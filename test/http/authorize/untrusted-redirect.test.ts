import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { createClient, REDIRECT_URI, type TestClient } from '../../helpers/fixtures.js';
import { authorizeParams, FORM, isInteractionRedirect } from '../../helpers/oauth-flow.js';
import { escapeHtml } from '../../../src/views/html.js';

const UNTRUSTED_REQUEST =
  'The application sent a sign-in request that cannot be accepted. Return to the application; if this keeps happening, tell its support.';

/**
 * RFC 6749 section 4.1.2.1 and RFC 9700 section 2.1: until client_id and redirect_uri are verified by exact
 * match, errors are an HTML page (400) and never a redirect, on GET and POST alike.
 */
describe('authorization endpoint: unverified client or redirect_uri', () => {
  let t: TestApp;
  let client: TestClient;
  let inactive: TestClient;
  let native: TestClient;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app);
    inactive = await createClient(t.app, { isActive: false });
    native = await createClient(t.app, { tokenEndpointAuthMethod: 'none', redirectUris: ['http://127.0.0.1/cb', 'http://[::1]/cb'] });
  });
  afterAll(() => t.close());

  const viaGet = (q: URLSearchParams | string) => t.app.inject({ method: 'GET', url: `/oauth/authorize?${q}` });
  const viaPost = (q: URLSearchParams | string) =>
    t.app.inject({ method: 'POST', url: '/oauth/authorize', headers: FORM, payload: String(q) });

  function expectErrorPage(res: LightMyRequestResponse, message: string) {
    expect(res.statusCode).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['content-security-policy']).toContain("form-action 'none'");
    // The person reads what to do; the reason is kept below for the developer (issue 12 §5).
    expect(res.body).toContain(`<p class="error" role="alert">${UNTRUSTED_REQUEST}</p>`);
    expect(res.body).toContain(`<details><summary>Technical details</summary><p><code>${escapeHtml(message)}</code></p></details>`);
    // Nothing from the request is reflected as a link or form target the user could follow.
    expect(res.body).not.toContain('app.example.com');
    expect(res.body).not.toContain('evil.example');
  }

  const cases: { name: string; q: () => URLSearchParams; message: string }[] = [
    { name: 'unknown client_id', q: () => authorizeParams('no-such-client'), message: 'The application is unknown.' },
    { name: 'disabled client', q: () => authorizeParams(inactive.clientId), message: 'The application is unknown.' },
    { name: 'missing client_id', q: () => authorizeParams(client.clientId, { client_id: undefined }), message: 'The request has no client_id.' },
    { name: 'empty client_id', q: () => authorizeParams(client.clientId, { client_id: '' }), message: 'The request has no client_id.' },
    {
      name: 'repeated client_id (same value)',
      q: () => {
        const q = authorizeParams(client.clientId);
        q.append('client_id', client.clientId);
        return q;
      },
      message: 'The client_id parameter is repeated.',
    },
    {
      name: 'missing redirect_uri',
      q: () => authorizeParams(client.clientId, { redirect_uri: undefined }),
      message: 'The request has no redirect_uri.',
    },
    {
      name: 'repeated redirect_uri (same value)',
      q: () => {
        const q = authorizeParams(client.clientId);
        q.append('redirect_uri', REDIRECT_URI);
        return q;
      },
      message: 'The redirect_uri parameter is repeated.',
    },
    ...[
      ['unregistered host', 'https://evil.example/callback'],
      ['trailing slash', `${REDIRECT_URI}/`],
      ['different case in host', 'https://APP.example.com/callback'],
      ['different case in path', 'https://app.example.com/Callback'],
      ['added query', `${REDIRECT_URI}?next=https://evil.example`],
      ['added fragment', `${REDIRECT_URI}#frag`],
      ['added empty query', `${REDIRECT_URI}?`],
      ['explicit default port', 'https://app.example.com:443/callback'],
      ['http instead of https', 'http://app.example.com/callback'],
      ['path prefix', 'https://app.example.com/callback/../callback'],
      ['userinfo added', 'https://evil.example@app.example.com/callback'],
      ['not a URL', 'callback'],
    ].map(([name, uri]) => ({
      name: `redirect_uri: ${name}`,
      q: () => authorizeParams(client.clientId, { redirect_uri: uri }),
      message: 'The redirect_uri is not registered for this application.',
    })),
  ];

  describe.each([
    ['GET', viaGet],
    ['POST', viaPost],
  ] as const)('%s', (_method, send) => {
    it.each(cases)('$name → 400 page, no redirect', async ({ q, message }) => {
      expectErrorPage(await send(q()), message);
    });

    it('a registered redirect_uri passes verification (control case)', async () => {
      const res = await send(authorizeParams(client.clientId));
      expect(isInteractionRedirect(res)).toBe(true);
    });
  });

  describe('loopback redirect URIs of native apps (RFC 8252 section 7.3)', () => {
    it.each(['http://127.0.0.1/cb', 'http://127.0.0.1:5000/cb', 'http://127.0.0.1:65535/cb', 'http://[::1]:8123/cb'])(
      'accepts %s (any port)',
      async (uri) => {
        const res = await viaGet(authorizeParams(native.clientId, { redirect_uri: uri }));
        expect(isInteractionRedirect(res)).toBe(true);
      },
    );

    it.each([
      'http://127.0.0.1:5000/other',
      'http://127.0.0.1:5000/cb/',
      'http://127.0.0.1:5000/CB',
      'http://127.0.0.1:5000/cb?x=1',
      'http://127.0.0.1:5000/cb#x',
      'http://localhost:5000/cb',
      'http://127.0.0.2:5000/cb',
      'https://127.0.0.1:5000/cb',
      'http://evil.example:5000/cb',
      'http://127.0.0.1.evil.example:5000/cb',
      'http://x@127.0.0.1:5000/cb',
    ])('refuses %s (another path, host, scheme or extra parts)', async (uri) => {
      expectErrorPage(await viaGet(authorizeParams(native.clientId, { redirect_uri: uri })), 'The redirect_uri is not registered for this application.');
    });

  });
});
